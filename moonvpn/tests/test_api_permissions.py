"""The staff API takes Django model permissions, not only is_staff.

What an attacker with a staff login and no permissions (or view permissions only)
did over /api/v1/ before: adjusted a wallet by +10¹², changed the bank card customers
pay to, priced a plan at 1, created a panel, approved a receipt.
"""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tests.samples import make_panel, make_plan, make_topup_receipt
from billing.models import BankCard, Plan, Receipt, WalletTransaction
from panels.models import Panel

pytestmark = pytest.mark.django_db


def staff(django_user_model, name, *perms):
    user = django_user_model.objects.create_user(username=name, password="pw-123", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def token_client(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def session_client(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=False)
    client.force_login(user)
    return client


@pytest.fixture
def targets(customer):
    card = BankCard.objects.create(
        card_number="6037991234567890", holder_name="MoonVPN", bank_name="Melli"
    )
    return {
        "card": card,
        "plan": make_plan(),
        "panel": make_panel(),
        "receipt": make_topup_receipt(customer, amount=90_000),
    }


def attacks(client, customer, targets):
    """The requests the issue's attacker sent; each answers its status code."""
    card, plan, panel, receipt = (targets[k] for k in ("card", "plan", "panel", "receipt"))
    return {
        "adjust wallet": client.post(
            f"/api/v1/users/{customer.pk}/adjust-wallet/",
            {"amount": 10**12, "note": "gift"},
            format="json",
        ).status_code,
        "change bank card": client.patch(
            f"/api/v1/bank-cards/{card.pk}/", {"card_number": "6219861111111111"}, format="json"
        ).status_code,
        "add bank card": client.post(
            "/api/v1/bank-cards/",
            {"card_number": "6219862222222222", "holder_name": "x", "bank_name": "y"},
            format="json",
        ).status_code,
        "price a plan at 1": client.patch(
            f"/api/v1/plans/{plan.pk}/", {"price": 1}, format="json"
        ).status_code,
        "create a panel": client.post(
            "/api/v1/panels/",
            {
                "name": "evil",
                "location_name": "x",
                "base_url": "https://evil.example/",
                "public_host": "evil.example",
            },
            format="json",
        ).status_code,
        "approve a receipt": client.post(f"/api/v1/receipts/{receipt.pk}/approve/").status_code,
        "refund an order": client.post(f"/api/v1/orders/{receipt.order_id}/refund/").status_code,
        "delete a panel": client.delete(f"/api/v1/panels/{panel.pk}/").status_code,
    }


def nothing_changed(customer, targets):
    customer.refresh_from_db()
    targets["card"].refresh_from_db()
    targets["plan"].refresh_from_db()
    targets["receipt"].refresh_from_db()
    assert customer.balance == 0
    assert not WalletTransaction.objects.exists()
    assert targets["card"].card_number == "6037991234567890"
    assert BankCard.objects.count() == 1
    assert targets["plan"].price == 150_000
    assert list(Panel.objects.values_list("name", flat=True)) == ["Frankfurt-1"]
    assert targets["receipt"].status == Receipt.Status.PENDING


@pytest.mark.parametrize("connect", [token_client, session_client], ids=["token", "session"])
def test_staff_without_permissions_can_do_nothing_over_the_api(
    connect, django_user_model, customer, targets
):
    client = connect(staff(django_user_model, "nobody"))

    statuses = attacks(client, customer, targets)

    assert statuses == dict.fromkeys(statuses, 403)
    nothing_changed(customer, targets)
    for path in ("users", "bank-cards", "plans", "panels", "receipts", "wallet-transactions"):
        assert client.get(f"/api/v1/{path}/").status_code == 403, path
    receipt = targets["receipt"]
    assert client.get(f"/api/v1/receipts/{receipt.pk}/image/").status_code == 403


@pytest.mark.parametrize("connect", [token_client, session_client], ids=["token", "session"])
def test_view_permissions_read_but_change_nothing(connect, django_user_model, customer, targets):
    viewer = staff(
        django_user_model,
        "viewer",
        *(
            f"{app}.view_{model}"
            for app, model in [
                ("accounts", "user"),
                ("billing", "bankcard"),
                ("billing", "plan"),
                ("billing", "order"),
                ("billing", "receipt"),
                ("billing", "wallettransaction"),
                ("panels", "panel"),
            ]
        ),
    )
    client = connect(viewer)

    statuses = attacks(client, customer, targets)

    assert statuses == dict.fromkeys(statuses, 403)
    nothing_changed(customer, targets)
    assert client.get("/api/v1/plans/").json()["results"][0]["price"] == 150_000
    assert client.get(f"/api/v1/users/{customer.pk}/").status_code == 200
    receipt = targets["receipt"]
    assert client.get(f"/api/v1/receipts/{receipt.pk}/image/").status_code == 200


def test_each_action_takes_its_own_permission(django_user_model, customer, targets):
    receipt = targets["receipt"]
    reviewer = token_client(staff(django_user_model, "reviewer", "billing.review_receipt"))
    finance = token_client(staff(django_user_model, "finance", "billing.adjust_wallet"))

    # The reviewer approves, but cannot touch a wallet by hand...
    assert reviewer.post(f"/api/v1/receipts/{receipt.pk}/approve/").status_code == 200
    adjust = {"amount": 5_000, "note": "goodwill"}
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"
    assert reviewer.post(url, adjust, format="json").status_code == 403
    # ...and finance adjusts wallets but reviews no receipt.
    assert finance.post(url, adjust, format="json").status_code == 200
    second = make_topup_receipt(customer, amount=10_000, color="red")
    assert finance.post(f"/api/v1/receipts/{second.pk}/approve/").status_code == 403

    customer.refresh_from_db()
    assert customer.balance == 90_000 + 5_000
    assert Receipt.objects.get(pk=second.pk).status == Receipt.Status.PENDING


def test_model_permissions_allow_exactly_their_verb(django_user_model, targets):
    plan = targets["plan"]
    pricer = token_client(staff(django_user_model, "pricer", "billing.change_plan"))

    response = pricer.patch(f"/api/v1/plans/{plan.pk}/", {"price": 99_000}, format="json")
    assert response.json()["price"] == 99_000
    assert pricer.delete(f"/api/v1/plans/{plan.pk}/").status_code == 403
    assert pricer.post("/api/v1/plans/", {}, format="json").status_code == 403
    assert Plan.objects.get(pk=plan.pk).price == 99_000


def test_a_customer_with_permissions_is_still_not_staff(django_user_model, customer, targets):
    # The API is for staff; a permission row given by mistake to a customer is not enough.
    perm = Permission.objects.get(codename="adjust_wallet")
    customer.user_permissions.add(perm)
    client = token_client(customer)
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"
    assert client.post(url, {"amount": 5, "note": "x"}, format="json").status_code == 403
