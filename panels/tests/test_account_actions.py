"""The operator's account actions (panels.lifecycle) against the fake panel."""

import time

import pytest
import zxingcpp
from django.conf import settings
from django.forms.models import model_to_dict
from django.utils import translation
from PIL import Image

from panels import lifecycle
from panels.models import AccountEvent, ClientAccount
from panels.sessions import panel_clients_reset
from panels.tests.lifecycle_helpers import (
    DAY_MS,
    GB,
    kept,
    make_panel,
    make_plan,
    on_panel,
    sellable_inbound,
    set_on_panel,
    sold_account,
)
from standins.xui import FakeXuiPanel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # The services' refusals are for operators, in the active language.
    with translation.override("en"):
        yield


def now_ms():
    return int(time.time() * 1000)


@pytest.fixture
def plan(db):
    return make_plan()


@pytest.fixture
def inbound(xui_panel, fake_xui):
    return sellable_inbound(xui_panel, fake_xui, protocol="vless", security="reality")


@pytest.fixture
def account(customer, plan, xui_panel, inbound):
    return sold_account(customer, plan, xui_panel, inbound)


@pytest.fixture
def second(customer, plan, xui_panel, inbound):
    # A second client on the same inbound, so deleting the first is not "the last one".
    return sold_account(customer, plan, xui_panel, inbound)


def snapshot(account):
    account = ClientAccount.objects.get(pk=account.pk)
    return {**model_to_dict(account), "updated_at": account.updated_at}


def test_extend_adds_days_and_traffic_and_keeps_the_client(account, fake_xui, staff_user):
    before = on_panel(fake_xui, account.email)

    lifecycle.account_extend(
        account=account, days=10, traffic_gb=5, note="outage compensation", actor=staff_user
    )

    after = on_panel(fake_xui, account.email)
    assert after["expiryTime"] == before["expiryTime"] + 10 * DAY_MS
    assert after["totalGB"] == before["totalGB"] + 5 * GB
    assert kept(after) == kept(before)
    account.refresh_from_db()
    assert account.traffic_limit_bytes == 55 * GB
    assert int(account.expires_at.timestamp() * 1000) == after["expiryTime"]
    event = AccountEvent.objects.get(account=account)
    assert (event.action, event.actor, event.note) == ("extend", staff_user, "outage compensation")
    assert (event.details["days"], event.details["traffic_gb"]) == (10, 5)


def test_extend_needs_a_note_and_something_to_add(account, staff_user):
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.account_extend(account=account, days=3, note=" ", actor=staff_user)
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.account_extend(account=account, note="why", actor=staff_user)
    assert not AccountEvent.objects.exists()


def test_extending_an_expired_account_counts_from_now_and_enables_it(account, fake_xui, staff_user):
    set_on_panel(fake_xui, account.email, expiryTime=now_ms() - 5 * DAY_MS)
    fake_xui.set_client_enable(account.email, False)
    start = now_ms()
    lifecycle.account_extend(account=account, days=3, note="goodwill", actor=staff_user)
    after = on_panel(fake_xui, account.email)
    assert start + 3 * DAY_MS <= after["expiryTime"] <= now_ms() + 3 * DAY_MS
    assert after["enable"] is True
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.ACTIVE


def test_disable_then_enable_on_the_panel(account, fake_xui, staff_user):
    before = on_panel(fake_xui, account.email)
    lifecycle.account_disable(account=account, actor=staff_user)
    assert on_panel(fake_xui, account.email)["enable"] is False
    account.refresh_from_db()
    assert (account.status, account.panel_enabled) == (ClientAccount.Status.DISABLED, False)

    lifecycle.account_enable(account=account, actor=staff_user)
    after = on_panel(fake_xui, account.email)
    assert after["enable"] is True
    assert kept(after) == kept(before)
    account.refresh_from_db()
    assert (account.status, account.panel_enabled) == (ClientAccount.Status.ACTIVE, True)
    actions = list(AccountEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["disable", "enable"]


def test_enabling_an_account_out_of_traffic_is_refused(account, fake_xui, staff_user):
    fake_xui.set_traffic(account.email, 0, 60 * GB)
    fake_xui.set_client_enable(account.email, False)
    with pytest.raises(lifecycle.LifecycleError, match="extend"):
        lifecycle.account_enable(account=account, actor=staff_user)
    assert on_panel(fake_xui, account.email)["enable"] is False


def test_delete_removes_the_client_and_marks_the_account(account, second, fake_xui, staff_user):
    result = lifecycle.account_delete(account=account, actor=staff_user)
    assert not result.disabled_instead
    assert fake_xui.find_client(account.email) is None
    assert fake_xui.find_client(second.email) is not None
    account.refresh_from_db()
    assert (account.status, account.panel_enabled) == (ClientAccount.Status.DELETED, False)


def test_the_last_client_of_an_inbound_is_disabled_instead(account, fake_xui, staff_user):
    before = on_panel(fake_xui, account.email)

    result = lifecycle.account_delete(account=account, actor=staff_user)

    assert result.disabled_instead
    after = on_panel(fake_xui, account.email)  # v2 kept it ...
    assert after["enable"] is False  # ... switched off, with a full replace
    assert kept(after) == kept(before)
    assert after["expiryTime"] == before["expiryTime"]
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.DELETED
    assert AccountEvent.objects.get(account=account).details["disabled_instead"] is True


def test_v3_deletes_the_last_client_too(customer, plan, settings):
    settings.PANEL_CONNECT_TIMEOUT, settings.PANEL_READ_TIMEOUT = 5.0, 10.0
    with FakeXuiPanel(profile="v3") as fake:
        try:
            panel = make_panel(fake)
            inbound = sellable_inbound(panel, fake, protocol="vless")
            account = sold_account(customer, plan, panel, inbound)
            result = lifecycle.account_delete(account=account, actor=None)
            assert not result.disabled_instead
            assert fake.find_client(account.email) is None
        finally:
            panel_clients_reset()


def _decode(account):
    path = f"{settings.MEDIA_ROOT}/{account.qr_code_path.name}"
    return zxingcpp.read_barcodes(Image.open(path))[0].text


@pytest.mark.parametrize("protocol", ["vless", "trojan", "shadowsocks"])
def test_regenerate_gives_a_new_key_link_and_qr(customer, plan, xui_panel, fake_xui, protocol):
    inbound = sellable_inbound(xui_panel, fake_xui, protocol=protocol)
    account = sold_account(customer, plan, xui_panel, inbound)
    before = on_panel(fake_xui, account.email)
    old_url, old_key = account.config_url, account.uuid
    old_qr = f"{settings.MEDIA_ROOT}/{account.qr_code_path.name}"

    lifecycle.account_regenerate_link(account=account, actor=None)

    after = on_panel(fake_xui, account.email)
    key_field = "id" if protocol == "vless" else "password"
    assert after[key_field] != before[key_field]
    for name in ("subId", "tgId", "limitIp", "comment", "expiryTime", "totalGB", "email"):
        assert after[name] == before[name]
    account.refresh_from_db()
    assert account.uuid == after[key_field] != old_key
    assert account.config_url != old_url
    assert _decode(account) == account.config_url
    import os

    assert not os.path.exists(old_qr)
    assert AccountEvent.objects.get(account=account).action == "regenerate"


def test_a_regenerated_link_whose_answer_was_lost_is_still_recorded(account, fake_xui):
    fake_xui.faults.drop_after_update = True
    lifecycle.account_regenerate_link(account=account, actor=None)
    account.refresh_from_db()
    assert on_panel(fake_xui, account.email)["id"] == account.uuid


ACTIONS = {
    "extend": lambda a, u: lifecycle.account_extend(account=a, days=1, note="n", actor=u),
    "disable": lambda a, u: lifecycle.account_disable(account=a, actor=u),
    "enable": lambda a, u: lifecycle.account_enable(account=a, actor=u),
    "delete": lambda a, u: lifecycle.account_delete(account=a, actor=u),
    "regenerate": lambda a, u: lifecycle.account_regenerate_link(account=a, actor=u),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_panel_that_is_down_changes_nothing(action, account, fake_xui, staff_user):
    before = snapshot(account)
    fake_xui.stop()
    with pytest.raises(lifecycle.LifecycleError) as failure:
        ACTIONS[action](account, staff_user)
    assert "refused" in str(failure.value).lower() or "connect" in str(failure.value).lower()
    assert snapshot(account) == before
    assert not AccountEvent.objects.exists()


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_deleted_account_is_refused(action, account, staff_user):
    ClientAccount.objects.filter(pk=account.pk).update(status=ClientAccount.Status.DELETED)
    account.refresh_from_db()
    with pytest.raises(lifecycle.LifecycleError):
        ACTIONS[action](account, staff_user)


def test_a_link_that_cannot_be_built_leaves_the_old_key(account, fake_xui):
    before = on_panel(fake_xui, account.email)
    inbound = account.inbound
    inbound.stream_settings = {**inbound.stream_settings, "security": "xtls"}
    inbound.save()
    account.refresh_from_db()
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.account_regenerate_link(account=account, actor=None)
    assert on_panel(fake_xui, account.email)["id"] == before["id"] == account.uuid
    assert not AccountEvent.objects.exists()
