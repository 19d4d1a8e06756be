"""cleanup_accounts: expired accounts leave their panel after the grace period, with notice."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.utils import timezone

from botapp.management.commands.cleanup_accounts import clean_up
from panels.models import AccountEvent, AccountReminder, ClientAccount
from panels.sync import panel_sync
from panels.tests.lifecycle_helpers import (
    kept,
    make_plan,
    on_panel,
    sellable_inbound,
    set_on_panel,
    sold_account,
)

pytestmark = pytest.mark.django_db

SARA = 1001
GRACE = 7


@pytest.fixture(autouse=True)
def grace(settings):
    settings.CLEANUP_GRACE_DAYS = GRACE


@pytest.fixture
def plan(db):
    return make_plan()


@pytest.fixture
def inbound(xui_panel, fake_xui):
    return sellable_inbound(xui_panel, fake_xui, protocol="vless")


def expired_account(customer, plan, inbound, fake, days_ago: float) -> ClientAccount:
    account = sold_account(customer, plan, inbound.panel, inbound)
    expiry = timezone.now() - timedelta(days=days_ago)
    set_on_panel(fake, account.email, expiryTime=int(expiry.timestamp() * 1000), enable=False)
    panel_sync(panel=inbound.panel)
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.EXPIRED
    return account


@pytest.fixture
def keeper(customer, plan, inbound):
    # Another client on the inbound, so deleting an account is not "the last client".
    return sold_account(customer, plan, inbound.panel, inbound)


def test_nothing_happens_well_within_the_grace_period(tg, customer, plan, inbound, fake_xui):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=3)
    counts = clean_up()
    assert not any(counts.values())
    assert fake_xui.find_client(account.email) is not None
    assert tg.messages_to(SARA) == []


@pytest.mark.parametrize("days_ago", [0.1, 1, 3, 5.99, 6.5, 6.99])
def test_never_deleted_within_its_grace_period(
    tg, customer, plan, inbound, fake_xui, keeper, days_ago
):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=days_ago)
    # Even with a notice long on record, nothing within the grace period goes.
    AccountReminder.objects.create(
        account=account, kind="cleanup", threshold=1, period=int(account.expires_at.timestamp())
    )
    AccountReminder.objects.update(created_at=timezone.now() - timedelta(days=30))
    clean_up()
    clean_up(now=account.expires_at + timedelta(days=GRACE, seconds=-1))
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.EXPIRED
    assert fake_xui.find_client(account.email) is not None


def test_the_customer_is_told_once_a_day_before(tg, customer, plan, inbound, fake_xui, keeper):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=6.5)
    clean_up()
    clean_up()
    [notice] = tg.messages_to(SARA)
    assert notice["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"rn:{account.pk}"
    assert AccountReminder.objects.filter(account=account, kind="cleanup").count() == 1
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.EXPIRED


def test_deleted_after_the_grace_period_and_the_notice(
    tg, customer, plan, inbound, fake_xui, keeper
):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=6.5)
    clean_up()  # the notice
    tomorrow = timezone.now() + timedelta(days=1, minutes=1)

    counts = clean_up(now=tomorrow)

    assert counts["deleted"] == 1
    assert fake_xui.find_client(account.email) is None
    assert fake_xui.find_client(keeper.email) is not None
    account.refresh_from_db()
    assert (account.status, account.panel_enabled) == (ClientAccount.Status.DELETED, False)
    event = AccountEvent.objects.get(account=account)
    assert (event.action, event.actor) == ("cleanup", None)


def test_long_expired_but_never_told_is_told_first_and_deleted_a_day_later(
    tg, customer, plan, inbound, fake_xui, keeper
):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=30)
    assert clean_up()["deleted"] == 0
    assert len(tg.messages_to(SARA)) == 1
    assert fake_xui.find_client(account.email) is not None
    assert clean_up(now=timezone.now() + timedelta(hours=23))["deleted"] == 0
    assert clean_up(now=timezone.now() + timedelta(hours=25))["deleted"] == 1


def test_the_last_client_of_an_inbound_is_disabled_and_marked(
    tg, customer, plan, inbound, fake_xui
):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=6.5)
    before = on_panel(fake_xui, account.email)
    set_on_panel(fake_xui, account.email, enable=True)  # say an operator switched it back on
    clean_up()

    counts = clean_up(now=timezone.now() + timedelta(days=1, minutes=1))

    assert counts["disabled"] == 1
    after = on_panel(fake_xui, account.email)
    assert after["enable"] is False
    assert kept(after) == kept(before)
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.DELETED


def test_a_client_renewed_on_the_panel_by_hand_is_kept(
    tg, customer, plan, inbound, fake_xui, keeper
):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=6.5)
    clean_up()
    later = int((timezone.now() + timedelta(days=20)).timestamp() * 1000)
    set_on_panel(fake_xui, account.email, expiryTime=later, enable=True)  # not synced yet

    counts = clean_up(now=timezone.now() + timedelta(days=1, minutes=1))

    assert (counts["deleted"], counts["failed"]) == (0, 1)
    assert fake_xui.find_client(account.email) is not None
    account.refresh_from_db()
    assert account.status != ClientAccount.Status.DELETED
    assert int(account.expires_at.timestamp() * 1000) == later


def test_a_panel_that_is_down_keeps_the_account(tg, customer, plan, inbound, fake_xui, keeper):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=6.5)
    clean_up()
    before = model_to_dict(ClientAccount.objects.get(pk=account.pk))
    fake_xui.stop()
    out = StringIO()
    call_command("cleanup_accounts", stdout=out)  # not due yet: nothing to do
    counts = clean_up(now=timezone.now() + timedelta(days=1, minutes=1))
    assert counts["failed"] == 1
    assert model_to_dict(ClientAccount.objects.get(pk=account.pk)) == before
    assert not AccountEvent.objects.exists()


def test_a_customer_who_blocked_the_bot_still_gets_a_days_grace(
    tg, customer, plan, inbound, fake_xui, keeper
):
    account = expired_account(customer, plan, inbound, fake_xui, days_ago=6.5)
    customer.has_blocked_bot = True
    customer.save()
    clean_up()
    assert tg.messages_to(SARA) == []
    notice = AccountReminder.objects.get(account=account)
    assert notice.outcome == "blocked"
    assert clean_up(now=timezone.now() + timedelta(days=1, minutes=1))["deleted"] == 1


def test_the_command_reports(tg, customer, plan, inbound, fake_xui, keeper):
    expired_account(customer, plan, inbound, fake_xui, days_ago=6.5)
    out = StringIO()
    call_command("cleanup_accounts", stdout=out)
    assert "told 1, deleted 0" in out.getvalue()


def test_a_paid_renewal_waiting_to_be_applied_keeps_the_account(
    tg, customer, plan, inbound, fake_xui, keeper
):
    from panels.provisioning import order_provision
    from panels.tests.lifecycle_helpers import paid_renewal

    account = expired_account(customer, plan, inbound, fake_xui, days_ago=6.5)
    clean_up()
    order = paid_renewal(customer, account, plan)  # paid; the panel call comes later

    assert clean_up(now=timezone.now() + timedelta(days=1, minutes=1))["deleted"] == 0
    order_provision(order_id=order.pk)
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.ACTIVE
    assert on_panel(fake_xui, account.email)["enable"] is True
