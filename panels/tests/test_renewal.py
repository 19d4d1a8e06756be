"""Renewals and add-ons applied to the fake panel: the arithmetic, exactly once, same link."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import AddOn, Order, WalletTransaction
from panels.models import AccountEvent, ClientAccount
from panels.provisioning import Outcome, order_provision, orders_to_retry
from panels.sessions import panel_clients_reset
from panels.sync import panel_sync
from panels.tests.lifecycle_helpers import (
    DAY_MS,
    GB,
    kept,
    make_addon,
    make_panel,
    make_plan,
    on_panel,
    paid_addon,
    paid_renewal,
    sellable_inbound,
    set_on_panel,
    sold_account,
)
from panels.traffic import PanelState, extension_target, renewal_target
from standins.xui import FakeXuiPanel

pytestmark = pytest.mark.django_db


def now_ms():
    return int(time.time() * 1000)


@pytest.fixture
def plan(db):
    return make_plan()


@pytest.fixture
def account(customer, plan, xui_panel, fake_xui):
    inbound = sellable_inbound(xui_panel, fake_xui, protocol="vless", security="reality")
    return sold_account(customer, plan, xui_panel, inbound)


# --- the arithmetic, as pure functions -------------------------------------------------


NOW = 1_800_000_000_000


@pytest.mark.parametrize(
    "state,carry,reset,expected_total",
    [
        # carry-over on, usage kept: max(total, used) + plan
        (PanelState(NOW + DAY_MS, 50 * GB, 10 * GB, True), True, False, 100 * GB),
        (PanelState(NOW + DAY_MS, 50 * GB, 70 * GB, False), True, False, 120 * GB),
        # carry-over off, usage kept: used + plan
        (PanelState(NOW + DAY_MS, 50 * GB, 10 * GB, True), False, False, 60 * GB),
        # reset: remaining + plan, or the plan alone without carry-over
        (PanelState(NOW + DAY_MS, 50 * GB, 10 * GB, True), True, True, 90 * GB),
        (PanelState(NOW + DAY_MS, 50 * GB, 70 * GB, True), True, True, 50 * GB),
        (PanelState(NOW + DAY_MS, 50 * GB, 10 * GB, True), False, True, 50 * GB),
        # unlimited stays unlimited
        (PanelState(NOW + DAY_MS, 0, 10 * GB, True), True, False, 0),
    ],
)
def test_renewal_traffic_arithmetic(state, carry, reset, expected_total):
    target = renewal_target(
        state, days=30, traffic_bytes=50 * GB, now=NOW, carry_over=carry, reset_usage=reset
    )
    assert target.total == expected_total
    assert target.reset_usage is reset


@pytest.mark.parametrize(
    "expiry,expected",
    [
        (NOW + 5 * DAY_MS, NOW + 35 * DAY_MS),  # active: added to the current expiry
        (NOW - 5 * DAY_MS, NOW + 30 * DAY_MS),  # expired: counted from now
        (0, 0),  # never expires: stays so
        (-10 * DAY_MS, -40 * DAY_MS),  # not started yet: a longer first term
    ],
)
def test_renewal_expiry_arithmetic(expiry, expected):
    state = PanelState(expiry, 50 * GB, 0, True)
    target = renewal_target(
        state, days=30, traffic_bytes=50 * GB, now=NOW, carry_over=True, reset_usage=False
    )
    assert target.expiry_ms == expected


def test_a_plan_of_unlimited_traffic_makes_the_account_unlimited():
    state = PanelState(NOW, 50 * GB, 10 * GB, True)
    target = renewal_target(
        state, days=30, traffic_bytes=0, now=NOW, carry_over=True, reset_usage=False
    )
    assert target.total == 0


def test_extra_traffic_counts_from_the_usage_when_over_quota():
    over = PanelState(NOW + DAY_MS, 50 * GB, 55 * GB, False)
    assert extension_target(over, days=0, traffic_bytes=10 * GB, now=NOW).total == 65 * GB
    under = PanelState(NOW + DAY_MS, 50 * GB, 5 * GB, True)
    assert extension_target(under, days=0, traffic_bytes=10 * GB, now=NOW).total == 60 * GB


# --- against the fake panel ----------------------------------------------------------------


def test_renewing_an_active_account_adds_days_and_carries_traffic_over(
    customer, plan, account, fake_xui
):
    before = on_panel(fake_xui, account.email)
    config_url, qr = account.config_url, account.qr_code_path.name
    fake_xui.set_traffic(account.email, 4 * GB, 6 * GB)
    renewal_plan = make_plan(name="60 days", days=60, gb=80, price=200_000)

    order = paid_renewal(customer, account, renewal_plan)
    result = order_provision(order_id=order.pk)

    assert result.outcome is Outcome.DELIVERED, result.error
    after = on_panel(fake_xui, account.email)
    assert after["expiryTime"] == before["expiryTime"] + 60 * DAY_MS
    assert after["totalGB"] == 50 * GB + 80 * GB  # 10 used + 40 left + 80
    assert after["enable"] is True
    assert kept(after) == kept(before)
    assert fake_xui.traffic(account.email)["up"] == 4 * GB  # usage kept
    account.refresh_from_db()
    assert account.config_url == config_url
    assert account.qr_code_path.name == qr
    assert account.plan == renewal_plan
    assert account.traffic_limit_bytes == 130 * GB
    assert int(account.expires_at.timestamp() * 1000) == after["expiryTime"]
    assert (account.status, account.panel_enabled) == (ClientAccount.Status.ACTIVE, True)
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    event = AccountEvent.objects.get(account=account)
    assert (event.action, event.order) == (AccountEvent.Action.RENEW, order)


def test_carry_over_off_drops_the_unused_traffic(customer, plan, account, fake_xui, settings):
    settings.RENEW_CARRY_OVER_TRAFFIC = False
    fake_xui.set_traffic(account.email, 0, 10 * GB)
    order = paid_renewal(customer, account, plan)
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    assert on_panel(fake_xui, account.email)["totalGB"] == 10 * GB + 50 * GB


def test_reset_usage_zeroes_the_counters_and_gives_remaining_plus_plan(
    customer, plan, account, fake_xui, settings
):
    settings.RENEW_RESET_USAGE = True
    fake_xui.set_traffic(account.email, 0, 10 * GB)
    order = paid_renewal(customer, account, plan)
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    assert on_panel(fake_xui, account.email)["totalGB"] == 40 * GB + 50 * GB
    row = fake_xui.traffic(account.email)
    assert row["up"] + row["down"] == 0
    account.refresh_from_db()
    assert (account.used_bytes, account.traffic_limit_bytes) == (0, 90 * GB)


def test_renewing_an_expired_disabled_account_counts_from_now_and_enables_it(
    customer, plan, account, fake_xui
):
    before = on_panel(fake_xui, account.email)
    set_on_panel(fake_xui, account.email, expiryTime=now_ms() - 3 * DAY_MS)
    fake_xui.set_client_enable(account.email, False)
    panel_sync(panel=account.panel)
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.EXPIRED

    order = paid_renewal(customer, account, plan)
    start = now_ms()
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    end = now_ms()

    after = on_panel(fake_xui, account.email)
    assert start + 30 * DAY_MS <= after["expiryTime"] <= end + 30 * DAY_MS
    assert after["enable"] is True
    assert fake_xui.traffic(account.email)["enable"] is True
    assert kept(after) == kept(before)
    account.refresh_from_db()
    assert (account.status, account.panel_enabled) == (ClientAccount.Status.ACTIVE, True)
    panel_sync(panel=account.panel)
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.ACTIVE


def test_a_lost_answer_is_checked_on_the_panel_before_calling_it_failed(
    customer, plan, account, fake_xui
):
    before = on_panel(fake_xui, account.email)
    order = paid_renewal(customer, account, plan)
    fake_xui.faults.drop_after_update = True

    result = order_provision(order_id=order.pk)

    assert result.outcome is Outcome.DELIVERED, result.error
    assert on_panel(fake_xui, account.email)["expiryTime"] == before["expiryTime"] + 30 * DAY_MS
    assert fake_xui.count("POST", f"panel/api/inbounds/updateClient/{before['id']}") == 1


def test_a_renewal_whose_answer_was_lost_is_applied_once(customer, plan, account, fake_xui):
    before = on_panel(fake_xui, account.email)
    order = paid_renewal(customer, account, plan)
    # The update happens, its answer is lost, and the panel goes down right after.
    fake_xui.faults.down_after_update = True

    first = order_provision(order_id=order.pk)

    assert first.outcome is Outcome.PENDING
    # The panel did it; only the answer was lost.
    assert on_panel(fake_xui, account.email)["expiryTime"] == before["expiryTime"] + 30 * DAY_MS
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.target_expiry_ms == before["expiryTime"] + 30 * DAY_MS
    fake_xui.clear_faults()

    assert orders_to_retry() == [order.pk]
    retry = order_provision(order_id=order.pk)
    again = order_provision(order_id=order.pk)

    assert retry.outcome is again.outcome is Outcome.DELIVERED
    after = on_panel(fake_xui, account.email)
    assert after["expiryTime"] == before["expiryTime"] + 30 * DAY_MS  # not +60
    assert after["totalGB"] == 100 * GB  # not 150
    assert AccountEvent.objects.filter(account=account).count() == 1


def test_a_reset_whose_answer_was_lost_is_not_repeated(customer, plan, account, fake_xui, settings):
    settings.RENEW_RESET_USAGE = True
    fake_xui.set_traffic(account.email, 0, 10 * GB)
    order = paid_renewal(customer, account, plan)
    fake_xui.faults.down_after_update = True
    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING
    fake_xui.clear_faults()
    fake_xui.set_traffic(account.email, 0, 1 * GB)  # used after the renewal took effect

    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED

    row = fake_xui.traffic(account.email)
    assert row["up"] + row["down"] == 1 * GB  # the second attempt did not reset again
    assert on_panel(fake_xui, account.email)["totalGB"] == 90 * GB


def test_panel_down_keeps_the_renewal_paid_then_applies_it(customer, plan, account, fake_xui):
    before = on_panel(fake_xui, account.email)
    expires = account.expires_at
    order = paid_renewal(customer, account, plan)
    fake_xui.fail_next(500, count=None)

    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING
    account.refresh_from_db()
    assert account.expires_at == expires
    assert on_panel(fake_xui, account.email)["expiryTime"] == before["expiryTime"]
    fake_xui.clear_faults()

    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    assert on_panel(fake_xui, account.email)["expiryTime"] == before["expiryTime"] + 30 * DAY_MS


def test_a_renewal_that_cannot_be_applied_is_refunded_after_the_limit(
    customer, plan, account, fake_xui, settings
):
    settings.PROVISION_MAX_ATTEMPTS = 2
    expires = account.expires_at
    order = paid_renewal(customer, account, plan)
    fake_xui.stop()
    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING
    assert order_provision(order_id=order.pk).outcome is Outcome.REFUNDED
    customer.refresh_from_db()
    assert customer.balance == plan.price
    account.refresh_from_db()
    assert account.expires_at == expires


def test_renewing_a_client_deleted_from_the_panel_refunds_at_once(
    customer, plan, account, fake_xui
):
    fake_xui.delete_client_by_hand(account.email)
    order = paid_renewal(customer, account, plan)
    result = order_provision(order_id=order.pk)
    assert result.outcome is Outcome.REFUNDED
    assert WalletTransaction.objects.filter(order=order, kind="refund").count() == 1


def test_two_renewals_of_one_account_both_count(customer, plan, account, fake_xui):
    before = on_panel(fake_xui, account.email)
    first = paid_renewal(customer, account, plan)
    second = paid_renewal(customer, account, plan)
    fake_xui.faults.down_after_update = True
    assert order_provision(order_id=first.pk).outcome is Outcome.PENDING
    fake_xui.clear_faults()

    # The first has a target it has not finished applying: the second must wait for it.
    assert order_provision(order_id=second.pk).outcome is Outcome.PENDING
    assert order_provision(order_id=first.pk).outcome is Outcome.DELIVERED
    assert order_provision(order_id=second.pk).outcome is Outcome.DELIVERED

    after = on_panel(fake_xui, account.email)
    assert after["expiryTime"] == before["expiryTime"] + 60 * DAY_MS
    assert after["totalGB"] == 150 * GB


def test_traffic_addon_adds_gigabytes_and_reenables_an_exhausted_account(
    customer, account, fake_xui
):
    before = on_panel(fake_xui, account.email)
    fake_xui.set_traffic(account.email, 0, 52 * GB)
    fake_xui.set_client_enable(account.email, False)
    addon = make_addon(AddOn.Kind.TRAFFIC, 10)

    order = paid_addon(customer, account, addon)
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED

    after = on_panel(fake_xui, account.email)
    assert after["totalGB"] == 62 * GB
    assert after["expiryTime"] == before["expiryTime"]
    assert after["enable"] is True
    assert kept(after) == kept(before)
    account.refresh_from_db()
    assert (account.status, account.traffic_limit_bytes) == ("active", 62 * GB)
    assert AccountEvent.objects.get(account=account).action == AccountEvent.Action.ADDON


def test_days_addon_extends_expiry_only(customer, account, fake_xui):
    before = on_panel(fake_xui, account.email)
    order = paid_addon(customer, account, make_addon(AddOn.Kind.DAYS, 7))
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    after = on_panel(fake_xui, account.email)
    assert after["expiryTime"] == before["expiryTime"] + 7 * DAY_MS
    assert after["totalGB"] == before["totalGB"]


def test_an_addon_leaves_a_client_disabled_on_purpose_disabled(customer, account, fake_xui):
    set_on_panel(fake_xui, account.email, enable=False)
    order = paid_addon(customer, account, make_addon(AddOn.Kind.DAYS, 7))
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    assert on_panel(fake_xui, account.email)["enable"] is False
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.DISABLED


@pytest.mark.parametrize("profile", ["v2", "v2_old", "v3_0", "v3", "legacy"])
@pytest.mark.parametrize("protocol", ["vless", "trojan", "shadowsocks"])
def test_renewal_keeps_the_link_on_every_panel_generation(customer, profile, protocol, settings):
    settings.PANEL_CONNECT_TIMEOUT, settings.PANEL_READ_TIMEOUT = 5.0, 10.0
    with FakeXuiPanel(profile=profile) as fake:
        try:
            panel = make_panel(fake)
            inbound = sellable_inbound(panel, fake, protocol=protocol, network="tcp")
            plan = make_plan()
            account = sold_account(customer, plan, panel, inbound)
            before = on_panel(fake, account.email)
            config_url = account.config_url
            set_on_panel(fake, account.email, expiryTime=now_ms() - DAY_MS)
            fake.set_client_enable(account.email, False)

            order = paid_renewal(customer, account, plan)
            result = order_provision(order_id=order.pk)

            assert result.outcome is Outcome.DELIVERED, result.error
            after = on_panel(fake, account.email)
            assert kept(after) == kept(before)
            assert after["enable"] is True
            assert after["expiryTime"] > now_ms() + 29 * DAY_MS
            assert after["totalGB"] == 100 * GB
            account.refresh_from_db()
            assert account.config_url == config_url
            assert account.expires_at > timezone.now() + timedelta(days=29)
        finally:
            panel_clients_reset()
