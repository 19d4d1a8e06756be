"""The staff REST API for receipts, orders, plans, bank cards and the ledger."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tests.samples import (
    make_panel,
    make_plan,
    make_topup_receipt,
    png_bytes,
    purchase_awaiting_receipt,
)
from billing.models import BankCard, Order, Plan, Receipt, WalletTransaction
from billing.services import wallet_credit
from panels.models import ClientAccount
from panels.sessions import panel_clients_reset
from standins.xui import FakeXuiPanel

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(staff_user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return client


def wallet_state(user):
    user.refresh_from_db()
    return user.balance, WalletTransaction.objects.filter(user=user).count()


# --- receipts -----------------------------------------------------------------------------


def test_receipt_detail_has_an_image_url_that_serves_the_photo(staff_api, customer, client):
    receipt = make_topup_receipt(customer, color="white")

    body = staff_api.get(f"/api/v1/receipts/{receipt.pk}/").json()

    assert body["status"] == "pending"
    assert (body["amount"], body["order_kind"], body["user"]) == (200_000, "topup", customer.pk)
    assert body["image_url"] == f"http://testserver/api/v1/receipts/{receipt.pk}/image/"
    image = staff_api.get(body["image_url"], HTTP_ACCEPT="image/png")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == png_bytes("white")
    assert APIClient().get(body["image_url"]).status_code == 401


def test_approve_through_the_api_credits_once_then_409(staff_api, staff_user, customer):
    receipt = make_topup_receipt(customer, amount=120_000)
    url = f"/api/v1/receipts/{receipt.pk}/approve/"

    response = staff_api.post(url)

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["reviewed_by"]) == ("approved", staff_user.pk)
    assert (body["order_status"], body["user_balance"]) == ("fulfilled", 120_000)
    assert wallet_state(customer) == (120_000, 1)

    again = staff_api.post(url)

    assert again.status_code == 409
    assert again["Content-Type"] == "application/json"
    assert again.json()["message"] == "This receipt was already reviewed."
    assert wallet_state(customer) == (120_000, 1)


@pytest.fixture
def xui():
    panel = FakeXuiPanel(profile="v2")
    panel.start()
    yield panel
    panel.stop()
    panel_clients_reset()


def test_approving_a_purchase_through_the_api_delivers_it(staff_api, customer, xui):
    order, receipt = purchase_awaiting_receipt(customer, xui)

    response = staff_api.post(f"/api/v1/receipts/{receipt.pk}/approve/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["order_status"]) == (
        "approved",
        "fulfilled",
    )
    account = ClientAccount.objects.get(order=order)
    assert xui.find_client(account.email) is not None
    assert staff_api.get(f"/api/v1/orders/{order.pk}/").json()["account"] == account.pk
    assert staff_api.post(f"/api/v1/receipts/{receipt.pk}/approve/").status_code == 409
    assert len(xui.all_clients()) == 1


def test_reject_through_the_api_stores_the_reason(staff_api, customer):
    receipt = make_topup_receipt(customer)
    url = f"/api/v1/receipts/{receipt.pk}/reject/"

    missing = staff_api.post(url, {}, format="json")
    assert missing.status_code == 400
    assert "reason" in missing.json()["errors"]

    response = staff_api.post(url, {"reason": "Wrong amount."}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reject_reason"]) == (
        "rejected",
        "Wrong amount.",
    )
    receipt.refresh_from_db()
    assert receipt.reject_reason == "Wrong amount."
    assert wallet_state(customer) == (0, 0)

    again = staff_api.post(url, {"reason": "again"}, format="json")
    assert again.status_code == 409
    assert again.json()["message"] == "This receipt was already reviewed."
    approve = staff_api.post(f"/api/v1/receipts/{receipt.pk}/approve/")
    assert approve.status_code == 409
    receipt.refresh_from_db()
    assert (receipt.status, receipt.reject_reason) == (Receipt.Status.REJECTED, "Wrong amount.")
    assert wallet_state(customer) == (0, 0)


def test_approve_of_a_missing_receipt_is_404_json(staff_api):
    response = staff_api.post("/api/v1/receipts/999999/approve/")
    assert response.status_code == 404
    assert response.json()["message"]


def test_receipts_filter_by_status(staff_api, customer):
    pending = make_topup_receipt(customer, color="red")
    done = make_topup_receipt(customer, color="blue")
    staff_api.post(f"/api/v1/receipts/{done.pk}/approve/")

    body = staff_api.get("/api/v1/receipts/", {"status": "pending"}).json()
    assert [r["id"] for r in body["results"]] == [pending.pk]
    bad = staff_api.get("/api/v1/receipts/", {"status": "maybe"})
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]


def test_receipts_cannot_be_written_directly(staff_api, customer):
    receipt = make_topup_receipt(customer)
    assert (
        staff_api.patch(f"/api/v1/receipts/{receipt.pk}/", {"status": "approved"}).status_code
        == 405
    )
    assert staff_api.delete(f"/api/v1/receipts/{receipt.pk}/").status_code == 405
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.PENDING


# --- orders ---------------------------------------------------------------------------------


def test_orders_filter_by_status_and_user(staff_api, customer, django_user_model):
    other = django_user_model.objects.create_user(username="tg_1002", telegram_id=1002)
    paid = Order.objects.create(user=customer, amount=10, status=Order.Status.PAID)
    Order.objects.create(user=customer, amount=20, status=Order.Status.CANCELLED)
    Order.objects.create(user=other, amount=30, status=Order.Status.PAID)

    body = staff_api.get("/api/v1/orders/", {"status": "paid", "user": customer.pk}).json()

    assert [o["id"] for o in body["results"]] == [paid.pk]
    assert body["results"][0]["amount"] == 10


def test_refund_through_the_api(staff_api, staff_user, customer):
    order = Order.objects.create(user=customer, amount=90_000, status=Order.Status.PAID)
    url = f"/api/v1/orders/{order.pk}/refund/"

    response = staff_api.post(url, {"note": "panel is down"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "refunded"
    assert wallet_state(customer) == (90_000, 1)
    row = WalletTransaction.objects.get(user=customer)
    assert (row.kind, row.note, row.created_by) == ("refund", "panel is down", staff_user)

    again = staff_api.post(url, {}, format="json")
    assert again.status_code == 409
    assert again.json()["message"] == (
        f"Order #{order.pk} is refunded: only paid or failed orders can be refunded."
    )
    assert wallet_state(customer) == (90_000, 1)


# --- plans, bank cards, ledger ------------------------------------------------------------------


def test_plans_can_be_created_and_edited(staff_api):
    panel = make_panel()
    created = staff_api.post(
        "/api/v1/plans/",
        {
            "name": "1 week",
            "duration_days": 7,
            "traffic_gb": 10,
            "price": 49_000,
            "panels": [panel.pk],
        },
        format="json",
    )
    assert created.status_code == 201
    plan = Plan.objects.get(pk=created.json()["id"])
    assert list(plan.panels.all()) == [panel]

    changed = staff_api.patch(
        f"/api/v1/plans/{plan.pk}/", {"price": 59_000, "panels": []}, format="json"
    )
    assert changed.status_code == 200
    plan.refresh_from_db()
    assert (plan.price, plan.panels.count()) == (59_000, 0)

    negative = staff_api.patch(f"/api/v1/plans/{plan.pk}/", {"price": -1}, format="json")
    assert negative.status_code == 400


def test_a_plan_with_orders_cannot_be_deleted(staff_api, customer):
    plan = make_plan()
    Order.objects.create(user=customer, plan=plan, amount=1, status=Order.Status.PENDING)
    response = staff_api.delete(f"/api/v1/plans/{plan.pk}/")
    assert response.status_code == 409
    assert "orders" in response.json()["message"]
    assert Plan.objects.filter(pk=plan.pk).exists()
    unused = make_plan(name="unused")
    assert staff_api.delete(f"/api/v1/plans/{unused.pk}/").status_code == 204


def test_bank_cards_crud(staff_api):
    created = staff_api.post(
        "/api/v1/bank-cards/",
        {"card_number": "۶۰۳۷-۹۹۱۲ 3456-7893", "holder_name": "MoonVPN", "bank_name": "Melli"},
        format="json",
    )
    assert created.status_code == 201
    card_id = created.json()["id"]
    # Persian digits, spaces and dashes are stored as the 16 digits.
    assert created.json()["card_number"] == "6037991234567893"
    assert created.json()["formatted_number"] == "6037-9912-3456-7893"
    assert (
        staff_api.patch(
            f"/api/v1/bank-cards/{card_id}/", {"is_active": False}, format="json"
        ).json()["is_active"]
        is False
    )
    assert staff_api.get("/api/v1/bank-cards/", {"is_active": "false"}).json()["count"] == 1
    assert staff_api.delete(f"/api/v1/bank-cards/{card_id}/").status_code == 204
    assert not BankCard.objects.exists()


def test_wallet_transactions_are_read_only(staff_api, customer):
    row = wallet_credit(user_id=customer.pk, amount=3_000, kind="topup", idempotency_key="k")
    body = staff_api.get("/api/v1/wallet-transactions/", {"user": customer.pk}).json()
    assert [(r["id"], r["amount"], r["balance_after"]) for r in body["results"]] == [
        (row.pk, 3_000, 3_000)
    ]
    url = f"/api/v1/wallet-transactions/{row.pk}/"
    assert staff_api.post("/api/v1/wallet-transactions/", {"amount": 5}).status_code == 405
    assert staff_api.patch(url, {"amount": 5}).status_code == 405
    assert staff_api.delete(url).status_code == 405
    assert wallet_state(customer) == (3_000, 1)


@pytest.mark.parametrize(
    "number, problem",
    [
        ("6037991234567890", "not a valid card number"),  # Luhn fails
        ("603799123456789", "16 digits"),  # 15 digits
        ("\U000fd07f\u00a1", "digits"),  # what the fuzzer once stored
        ("6037 9912 3456 78a3", "digits"),
    ],
)
def test_a_bank_card_number_must_be_one(staff_api, number, problem):
    response = staff_api.post(
        "/api/v1/bank-cards/",
        {"card_number": number, "holder_name": "MoonVPN", "bank_name": "Melli"},
        format="json",
    )
    assert response.status_code == 400
    assert problem in " ".join(response.json()["errors"]["card_number"])
    assert not BankCard.objects.exists()


def test_the_console_checks_card_numbers_too():
    from django.core.exceptions import ValidationError

    card = BankCard(card_number="٦٠٣٧ ٩٩١٢ ٣٤٥٦ ٧٨٩٠", holder_name="x", bank_name="y")
    with pytest.raises(ValidationError) as raised:
        card.full_clean()
    assert "card_number" in raised.value.message_dict
    card.card_number = "٦٠٣٧ ٩٩١٢ ٣٤٥٦ ٧٨٩٣"
    card.full_clean()
    card.save()
    assert BankCard.objects.get().card_number == "6037991234567893"
