"""Orders, the wallet ledger, plans and bank cards in the operator console."""

import pytest
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse

from accounts.tests.samples import make_panel, make_plan
from billing.admin import WalletTransactionAdmin
from billing.models import BankCard, Order, Plan, WalletTransaction
from billing.services import wallet_credit

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def paid_order(user, amount=150_000, status=Order.Status.PAID):
    return Order.objects.create(
        user=user,
        kind=Order.Kind.NEW,
        amount=amount,
        payment_method=Order.PaymentMethod.RECEIPT,
        status=status,
    )


def refund(client, *orders):
    return client.post(
        reverse("admin:billing_order_changelist"),
        {"action": "refund_to_wallet", "_selected_action": [o.pk for o in orders], "index": "0"},
        follow=True,
        **EN,
    )


def test_refund_action_credits_the_wallet_once(admin_client, customer):
    order = paid_order(customer)

    response = refund(admin_client, order)

    assert messages_of(response) == [
        f"Order #{order.pk} refunded: 150,000 Toman back to {customer}'s wallet "
        "(balance 150,000 Toman)."
    ]
    order.refresh_from_db()
    customer.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert customer.balance == 150_000
    row = WalletTransaction.objects.get(user=customer)
    assert (row.kind, row.amount, row.order_id) == ("refund", 150_000, order.pk)
    assert row.created_by.username == "admin"

    again = refund(admin_client, order)

    assert messages_of(again) == [
        f"Order #{order.pk} is refunded: only paid or failed orders can be refunded."
    ]
    customer.refresh_from_db()
    assert customer.balance == 150_000
    assert WalletTransaction.objects.filter(user=customer).count() == 1


def test_refund_action_refuses_a_fulfilled_order(admin_client, customer):
    order = paid_order(customer, status=Order.Status.FULFILLED)
    response = refund(admin_client, order)
    assert messages_of(response) == [
        f"Order #{order.pk} is fulfilled: only paid or failed orders can be refunded."
    ]
    customer.refresh_from_db()
    assert customer.balance == 0


def test_order_page_is_read_only_and_shows_money(admin_client, customer):
    order = paid_order(customer, amount=1_250_000)
    response = admin_client.get(reverse("admin:billing_order_change", args=[order.pk]), **EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "1,250,000 Toman" in html
    assert 'name="amount"' not in html and 'name="status"' not in html
    assert 'name="_save"' not in html
    assert (
        admin_client.post(
            reverse("admin:billing_order_change", args=[order.pk]), {"amount": "1"}
        ).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:billing_order_add")).status_code == 403


def test_orders_filter_by_status(admin_client, customer):
    paid = paid_order(customer)
    paid_order(customer, status=Order.Status.FULFILLED)
    response = admin_client.get(
        reverse("admin:billing_order_changelist"), {"status__exact": "paid"}
    )
    assert [o.pk for o in response.context["cl"].result_list] == [paid.pk]


# --- the ledger ------------------------------------------------------------------------


def test_ledger_has_no_add_change_or_delete_even_for_a_superuser(
    admin_client, admin_user, customer
):
    row = wallet_credit(user_id=customer.pk, amount=7_000, kind="topup", idempotency_key="t:1")
    request = RequestFactory().get("/")
    request.user = admin_user
    ledger_admin = WalletTransactionAdmin(WalletTransaction, admin_site=None)
    assert not ledger_admin.has_add_permission(request)
    assert not ledger_admin.has_change_permission(request, row)
    assert not ledger_admin.has_delete_permission(request, row)

    changelist = reverse("admin:billing_wallettransaction_changelist")
    change = reverse("admin:billing_wallettransaction_change", args=[row.pk])
    listing = admin_client.get(changelist, **EN)
    assert listing.status_code == 200
    assert "+7,000 Toman" in listing.content.decode()
    assert 'name="action"' not in listing.content.decode()  # no delete_selected either
    page = admin_client.get(change, **EN)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()

    assert admin_client.get(reverse("admin:billing_wallettransaction_add")).status_code == 403
    assert admin_client.post(change, {"amount": "1000000", "note": "x"}).status_code == 403
    delete = reverse("admin:billing_wallettransaction_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert (row.amount, row.balance_after) == (7_000, 7_000)
    assert WalletTransaction.objects.count() == 1


def test_ledger_can_be_filtered_by_user(admin_client, customer, django_user_model):
    other = django_user_model.objects.create_user(username="tg_1002", telegram_id=1002)
    mine = wallet_credit(user_id=customer.pk, amount=1_000, kind="topup", idempotency_key="a")
    wallet_credit(user_id=other.pk, amount=2_000, kind="topup", idempotency_key="b")
    url = reverse("admin:billing_wallettransaction_changelist")
    response = admin_client.get(url, {"user__id__exact": customer.pk})
    assert [r.pk for r in response.context["cl"].result_list] == [mine.pk]


# --- plans and bank cards ----------------------------------------------------------------


def test_plan_can_be_limited_to_panels(admin_client):
    panel = make_panel()
    response = admin_client.post(
        reverse("admin:billing_plan_add"),
        {
            "name": "3 months",
            "duration_days": "90",
            "traffic_gb": "0",
            "price": "390000",
            "max_devices": "2",
            "is_active": "on",
            "sort_order": "1",
            "panels": [panel.pk],
        },
    )
    assert response.status_code == 302
    plan = Plan.objects.get(name="3 months")
    assert list(plan.panels.all()) == [panel]
    listing = admin_client.get(reverse("admin:billing_plan_changelist"), **EN).content.decode()
    assert "390,000 Toman" in listing
    assert panel.name in listing


def test_plan_without_panels_is_sold_everywhere(admin_client):
    make_plan()
    listing = admin_client.get(reverse("admin:billing_plan_changelist"), **EN).content.decode()
    assert "every panel" in listing


def test_bank_card_list_shows_grouped_number_and_toggles(admin_client):
    card = BankCard.objects.create(
        card_number="6037991234567890", holder_name="MoonVPN", bank_name="Melli"
    )
    url = reverse("admin:billing_bankcard_changelist")
    assert "6037-9912-3456-7890" in admin_client.get(url).content.decode()
    response = admin_client.post(
        url,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": card.pk,
            "form-0-sort_order": "3",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.is_active, card.sort_order) == (False, 3)
