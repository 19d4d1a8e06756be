"""The console's operator actions over the staff API: same services, same permissions.

Panels are the fake 3x-ui, Telegram the fake Bot API: the tests look at what the panel
holds, what the customer received and the rows, not at which function ran.
"""

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import IdempotencyKey
from billing.models import Order, WalletTransaction
from panels.models import AccountEvent, ClientAccount, Inbound
from panels.tests.lifecycle_helpers import (
    DAY_MS,
    GB,
    make_panel,
    make_plan,
    on_panel,
    sellable_inbound,
    sold_account,
)
from standins.telegram import FakeTelegram

pytestmark = pytest.mark.django_db

SARA = 1001


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def tg(settings):
    with FakeTelegram() as fake:
        fake.configure_telebot()
        settings.TELEGRAM_BOT_TOKEN = fake.token
        settings.TELEGRAM_API_URL = fake.base_url
        try:
            yield fake
        finally:
            fake.restore_telebot()


@pytest.fixture
def panel(fake_xui, settings):
    settings.PANEL_CONNECT_TIMEOUT, settings.PANEL_READ_TIMEOUT = 5.0, 10.0
    return make_panel(fake_xui)


@pytest.fixture
def account(customer, panel, fake_xui):
    inbound = sellable_inbound(panel, fake_xui, protocol="vless", remark="vless-1")
    return sold_account(customer, make_plan(), panel, inbound)


@pytest.fixture
def staff(staff_user):
    return api(staff_user)


def role(django_user_model, name):
    user = django_user_model.objects.create_user(username=f"r-{name}", is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    return api(user)


# --- panels and inbounds -------------------------------------------------------------


def test_panel_sync_reads_the_panels_inbounds(staff, panel, fake_xui):
    fake_xui.add_inbound("vless", remark="a")
    fake_xui.add_inbound("trojan", remark="b")
    response = staff.post(f"/api/v1/panels/{panel.pk}/sync/", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["inbounds"], body["created"]) == (True, 2, 2)
    assert set(Inbound.objects.filter(panel=panel).values_list("remark", flat=True)) == {"a", "b"}


def test_panel_sync_of_a_panel_that_is_down_says_why(staff, panel, fake_xui):
    fake_xui.stop()
    body = staff.post(f"/api/v1/panels/{panel.pk}/sync/", {}, format="json").json()
    assert body["ok"] is False and body["error"]
    assert not Inbound.objects.exists()


def test_test_connection(staff, panel, fake_xui):
    body = staff.post(f"/api/v1/panels/{panel.pk}/test-connection/", {}, format="json").json()
    assert body == {"ok": True, "error": "", "api_generation": "v2"}
    panel.password = "wrong"
    panel.save()
    body = staff.post(f"/api/v1/panels/{panel.pk}/test-connection/", {}, format="json").json()
    assert body["ok"] is False and body["error"]


def test_an_inbounds_live_clients(staff, account, fake_xui):
    body = staff.get(f"/api/v1/inbounds/{account.inbound_id}/clients/").json()
    assert body["live"] is True
    [row] = body["clients"]
    assert (row["email"], row["account"], row["enabled"]) == (account.email, account.pk, True)
    assert row["total_bytes"] == 50 * GB
    fake_xui.stop()
    body = staff.get(f"/api/v1/inbounds/{account.inbound_id}/clients/").json()
    assert body["live"] is False and body["error"]
    assert [row["email"] for row in body["clients"]] == [account.email]


# --- accounts --------------------------------------------------------------------------


def test_extend_adds_days_and_traffic_on_the_panel(staff, account, fake_xui):
    before = on_panel(fake_xui, account.email)
    response = staff.post(
        f"/api/v1/accounts/{account.pk}/extend/",
        {"days": 10, "traffic_gb": 5, "note": "outage"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    after = on_panel(fake_xui, account.email)
    assert after["expiryTime"] == before["expiryTime"] + 10 * DAY_MS
    assert after["totalGB"] == before["totalGB"] + 5 * GB
    assert response.json()["traffic_limit_bytes"] == 55 * GB
    assert AccountEvent.objects.get(account=account, action="extend").note == "outage"


def test_extend_needs_days_or_gigabytes_and_changes_nothing(staff, account, fake_xui):
    before = on_panel(fake_xui, account.email)
    response = staff.post(
        f"/api/v1/accounts/{account.pk}/extend/",
        {"days": 0, "traffic_gb": 0, "note": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "days or gigabytes" in response.json()["errors"]["non_field_errors"][0]
    assert on_panel(fake_xui, account.email) == before


def test_disable_enable_and_delete_on_the_panel(staff, account, fake_xui):
    url = f"/api/v1/accounts/{account.pk}"
    assert staff.post(f"{url}/disable/", {}, format="json").json()["status"] == "disabled"
    assert on_panel(fake_xui, account.email)["enable"] is False
    assert staff.post(f"{url}/enable/", {}, format="json").json()["status"] == "active"
    assert on_panel(fake_xui, account.email)["enable"] is True
    body = staff.post(f"{url}/delete-on-panel/", {"note": "asked"}, format="json").json()
    assert body["account"]["status"] == "deleted"
    # 3x-ui v2 keeps an inbound's last client: it is switched off instead.
    assert body["disabled_instead"] is True
    again = staff.post(f"{url}/disable/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["message"] == "The account is deleted."


def test_regenerate_link_gives_a_new_key_and_sends_it(staff, account, fake_xui, tg):
    old = account.uuid
    body = staff.post(f"/api/v1/accounts/{account.pk}/regenerate-link/", {}, format="json").json()
    assert body["sent"] is True
    assert body["account"]["uuid"] != old
    assert on_panel(fake_xui, account.email)["id"] == body["account"]["uuid"]
    assert tg.messages_to(SARA)


def test_resend_config_to_a_customer_who_cannot_be_reached_is_409(staff, account, tg):
    response = staff.post(f"/api/v1/accounts/{account.pk}/resend-config/", {}, format="json")
    assert response.status_code == 200
    assert tg.messages_to(SARA)
    ClientAccount.objects.filter(pk=account.pk)
    account.user.has_blocked_bot = True
    account.user.save()
    response = staff.post(f"/api/v1/accounts/{account.pk}/resend-config/", {}, format="json")
    assert response.status_code == 409


def test_account_actions_take_the_consoles_permissions(account, django_user_model, fake_xui):
    finance = role(django_user_model, "Finance")
    response = finance.post(f"/api/v1/accounts/{account.pk}/disable/", {}, format="json")
    assert response.status_code == 403
    assert on_panel(fake_xui, account.email)["enable"] is True


# --- orders ----------------------------------------------------------------------------


def paid_undelivered(customer, panel, fake_xui):
    inbound = sellable_inbound(panel, fake_xui, protocol="vless", remark="dead")
    plan = make_plan()
    order = Order.objects.create(
        user=customer, plan=plan, panel=panel, inbound=inbound, amount=plan.price
    )
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    return order


def test_move_then_retry_delivers_on_the_new_inbound(staff, customer, panel, fake_xui, tg):
    order = paid_undelivered(customer, panel, fake_xui)
    target = sellable_inbound(panel, fake_xui, protocol="trojan", remark="alive")
    moved = staff.post(
        f"/api/v1/orders/{order.pk}/move/", {"inbound": target.pk}, format="json"
    ).json()
    assert moved["inbound"] == target.pk
    retried = staff.post(f"/api/v1/orders/{order.pk}/retry/", {}, format="json").json()
    assert retried["outcome"] == "delivered"
    assert retried["order"]["status"] == "fulfilled"
    account = ClientAccount.objects.get(order=order)
    assert account.inbound_id == target.pk
    assert on_panel(fake_xui, account.email)
    # Done already: a second retry has nothing to do.
    again = staff.post(f"/api/v1/orders/{order.pk}/retry/", {}, format="json")
    assert again.status_code == 409


def test_move_to_an_inbound_not_for_sale_is_409(staff, customer, panel, fake_xui):
    order = paid_undelivered(customer, panel, fake_xui)
    closed = sellable_inbound(panel, fake_xui, protocol="trojan", remark="closed")
    Inbound.objects.filter(pk=closed.pk).update(is_sellable=False)
    response = staff.post(f"/api/v1/orders/{order.pk}/move/", {"inbound": closed.pk}, format="json")
    assert response.status_code == 409
    order.refresh_from_db()
    assert order.inbound_id != closed.pk


def test_a_retried_refund_refunds_once(staff, customer, panel, fake_xui):
    order = paid_undelivered(customer, panel, fake_xui)
    url = f"/api/v1/orders/{order.pk}/refund/"
    first = staff.post(url, {"note": "gone"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    second = staff.post(url, {"note": "gone"}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    customer.refresh_from_db()
    assert customer.balance == order.amount
    assert WalletTransaction.objects.filter(order=order).count() == 1


# --- idempotency ---------------------------------------------------------------------


def test_a_retried_wallet_adjustment_books_once(staff, customer):
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"
    body = {"amount": 5000, "note": "gift"}
    for _ in range(3):
        response = staff.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-42")
        assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.balance == 5000
    assert WalletTransaction.objects.filter(user=customer).count() == 1


def test_the_same_key_with_another_body_is_409_and_changes_nothing(staff, customer):
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"
    staff.post(url, {"amount": 5000, "note": "gift"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = staff.post(
        url, {"amount": 9000, "note": "gift"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 409
    assert "another request" in other.json()["message"]
    customer.refresh_from_db()
    assert customer.balance == 5000


def test_a_failed_request_frees_its_key(staff, customer):
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"
    too_much = staff.post(url, {"amount": -1, "note": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert too_much.status_code == 409  # the wallet is empty
    assert not IdempotencyKey.objects.exists()
    ok = staff.post(url, {"amount": 1, "note": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert ok.status_code == 200


def test_keys_are_per_user(staff, customer, django_user_model):
    finance = role(django_user_model, "Finance")
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"
    for client in (staff, finance):
        body = {"amount": 100, "note": "x"}
        assert client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="same").status_code == 200
    customer.refresh_from_db()
    assert customer.balance == 200


def test_a_malformed_key_is_400(staff, customer):
    response = staff.post(
        f"/api/v1/users/{customer.pk}/adjust-wallet/",
        {"amount": 100, "note": "x"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="has space",
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


# --- users -------------------------------------------------------------------------------


def test_block_and_unblock_a_customer(customer, django_user_model):
    support = role(django_user_model, "Support")
    body = support.post(f"/api/v1/users/{customer.pk}/block/", {}, format="json").json()
    assert body["is_blocked"] is True
    customer.refresh_from_db()
    assert customer.is_blocked
    support.post(f"/api/v1/users/{customer.pk}/unblock/", {}, format="json")
    customer.refresh_from_db()
    assert not customer.is_blocked


def test_only_a_superuser_blocks_staff(staff_user, django_user_model):
    support = role(django_user_model, "Support")
    response = support.post(f"/api/v1/users/{staff_user.pk}/block/", {}, format="json")
    assert response.status_code == 403
    staff_user.refresh_from_db()
    assert not staff_user.is_blocked


# --- bad input never a 500 ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/orders/?user=99999999999999999999",
        "/api/v1/orders/?user=9223372036854775808",
        "/api/v1/wallet-transactions/?order=-99999999999999999999",
        "/api/v1/receipts/?user=1e5",
        "/api/v1/users/?search=a%00b",
        "/api/v1/orders/?page=0",
        "/api/v1/orders/?page=99999999999999999999",
    ],
)
def test_bad_filters_are_400(staff, url):
    response = staff.get(url)
    assert response.status_code == 400, response.content
    assert response.json()["errors"]


@pytest.mark.parametrize(
    "url", ["/api/v1/orders/99999999999999999999/", "/api/v1/orders/abc/", "/api/v1/nope/"]
)
def test_unknown_rows_and_urls_are_json_404(staff, url):
    response = staff.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_booleans_and_numbers_are_json_types(staff):
    response = staff.post(
        "/api/v1/addons/",
        {"name": "x", "kind": "days", "amount": "5", "price": 1, "is_active": 0},
        format="json",
    )
    assert response.status_code == 400
    assert {"amount", "is_active"} <= set(response.json()["errors"])
