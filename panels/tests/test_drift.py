"""The drift view's comparison and each fix, against the fake 3x-ui panel."""

import uuid

import pytest

from panels import drift
from panels.models import AccountEvent, ClientAccount
from panels.xui import PanelConfig, XuiClient

from .lifecycle_helpers import (
    DAY_MS,
    GB,
    make_panel,
    make_plan,
    on_panel,
    sellable_inbound,
    set_on_panel,
    sold_account,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(fake_xui, customer, settings):
    settings.PANEL_CONNECT_TIMEOUT = 5.0
    settings.PANEL_READ_TIMEOUT = 10.0
    panel = make_panel(fake_xui)
    inbound = sellable_inbound(panel, fake_xui, protocol="vless")
    plan = make_plan(devices=2)
    account = sold_account(customer, plan, panel, inbound)
    return panel, inbound, plan, account


def _stranger(fake, inbound, email="stranger@x"):
    client = {
        "id": str(uuid.uuid4()),
        "email": email,
        "enable": True,
        "expiryTime": 0,
        "totalGB": 0,
        "limitIp": 0,
        "subId": "strangersub",
        "flow": "",
    }
    with XuiClient(PanelConfig(fake.url, "admin", "secret")) as xui:
        xui.add_client(inbound.remote_id, "vless", client)
    return client


def test_a_panel_that_agrees_shows_no_drift(world):
    panel, *_ = world
    assert drift.panel_drift(panel=panel).clean


def test_differences_are_listed_and_pushing_ours_fixes_the_panel(world, fake_xui, staff_user):
    panel, _, _, account = world
    theirs_expiry = on_panel(fake_xui, account.email)["expiryTime"] + 5 * DAY_MS
    set_on_panel(fake_xui, account.email, expiryTime=theirs_expiry, limitIp=9, enable=False)
    report = drift.panel_drift(panel=panel)
    (difference,) = report.differs
    assert set(difference.fields) == {"expiryTime", "limitIp", "enable"}
    assert difference.fields["limitIp"] == (2, 9)
    assert report.as_dict()["differs"][0]["fields"]["enable"] == {"ours": True, "panel": False}

    drift.drift_push(account=account, actor=staff_user)
    client = on_panel(fake_xui, account.email)
    assert client["limitIp"] == 2 and client["enable"] is True
    assert client["expiryTime"] == theirs_expiry - 5 * DAY_MS
    assert drift.panel_drift(panel=panel).clean
    event = account.events.get(action=AccountEvent.Action.DRIFT)
    assert event.actor == staff_user and event.details["panel"]["limitIp"] == [9, 2]


def test_accepting_the_panels_values_changes_the_database(world, fake_xui, staff_user):
    panel, _, _, account = world
    set_on_panel(fake_xui, account.email, totalGB=80 * GB)
    drift.drift_accept(account=account, actor=staff_user)
    account.refresh_from_db()
    assert account.traffic_limit_bytes == 80 * GB
    assert drift.panel_drift(panel=panel).clean
    assert account.events.filter(action=AccountEvent.Action.DRIFT, actor=staff_user).exists()


def test_a_missing_client_is_recreated_with_the_same_keys(world, fake_xui, staff_user):
    panel, _, _, account = world
    before = on_panel(fake_xui, account.email)
    fake_xui.delete_client_by_hand(account.email)
    report = drift.panel_drift(panel=panel)
    assert [a.pk for a in report.missing] == [account.pk]
    assert drift.drift_fix_all(panel=panel, kind="recreate", actor=staff_user) == 1
    after = on_panel(fake_xui, account.email)
    assert (after["id"], after["subId"]) == (before["id"], before["subId"])
    assert after["expiryTime"] == before["expiryTime"]
    assert drift.panel_drift(panel=panel).clean
    assert account.events.filter(action=AccountEvent.Action.DRIFT).count() == 1


def test_a_client_without_an_account_is_adopted_onto_a_customer(
    world, fake_xui, staff_user, customer
):
    panel, inbound, plan, _ = world
    client = _stranger(fake_xui, inbound)
    (orphan,) = drift.panel_drift(panel=panel).orphans
    assert orphan.email == "stranger@x"
    account = drift.drift_adopt(
        panel=panel, email="stranger@x", user=customer, plan=plan, actor=staff_user
    )
    assert account.uuid == client["id"] and account.user == customer
    assert client["id"] in account.config_url
    assert account.events.get().action == AccountEvent.Action.DRIFT
    report = drift.panel_drift(panel=panel)
    assert not report.orphans and not report.missing
    # limitIp 0 on the panel vs the plan's 2: the one remaining difference, shown.
    assert [set(d.fields) for d in report.differs] == [{"limitIp"}]


def test_a_client_without_an_account_is_deleted(world, fake_xui, staff_user):
    panel, inbound, _, _ = world
    _stranger(fake_xui, inbound)
    drift.drift_delete_orphan(panel=panel, email="stranger@x", actor=staff_user)
    assert fake_xui.find_client("stranger@x") is None
    assert drift.panel_drift(panel=panel).clean
    assert ClientAccount.objects.count() == 1


def test_bulk_push_fixes_every_difference(world, fake_xui, customer, staff_user):
    panel, inbound, plan, first = world
    second = sold_account(customer, plan, panel, inbound)
    for account in (first, second):
        set_on_panel(fake_xui, account.email, limitIp=7)
    assert len(drift.panel_drift(panel=panel).differs) == 2
    assert drift.drift_fix_all(panel=panel, kind="push", actor=staff_user) == 2
    assert drift.panel_drift(panel=panel).clean


def test_the_console_page_lists_and_fixes(world, fake_xui, client, staff_user, customer):
    panel, inbound, plan, account = world
    set_on_panel(fake_xui, account.email, limitIp=9)
    _stranger(fake_xui, inbound)
    client.force_login(staff_user)
    url = f"/admin/panels/panel/{panel.pk}/drift/"
    page = client.get(url).content.decode()
    assert "stranger@x" in page and account.email in page and "limitIp" in page
    assert client.post(url, {"fix": "push", "account": account.pk}).status_code == 302
    assert on_panel(fake_xui, account.email)["limitIp"] == plan.max_devices
    answer = client.post(
        url,
        {"fix": "adopt", "email": "stranger@x", "telegram_id": customer.telegram_id,
         "plan": plan.pk},
    )  # fmt: skip
    assert answer.status_code == 302
    assert ClientAccount.objects.filter(email="stranger@x", user=customer).exists()
    change = client.get(f"/admin/panels/panel/{panel.pk}/change/").content.decode()
    assert url in change


def test_the_api_reports_and_fixes(world, fake_xui, staff_user):
    from rest_framework.test import APIClient

    panel, inbound, _, account = world
    set_on_panel(fake_xui, account.email, totalGB=99 * GB)
    api = APIClient()
    api.force_authenticate(staff_user)
    report = api.get(f"/api/v1/panel-drift/{panel.pk}/report/").json()
    assert report["differs"][0]["fields"]["totalGB"]["panel"] == 99 * GB
    answer = api.post(
        f"/api/v1/panel-drift/{panel.pk}/fix/",
        {"fix": "accept", "account": account.pk},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    account.refresh_from_db()
    assert account.traffic_limit_bytes == 99 * GB
    assert api.get(f"/api/v1/panel-drift/{panel.pk}/report/").json()["differs"] == []
    bad = api.post(f"/api/v1/panel-drift/{panel.pk}/fix/", {"fix": "push"}, format="json")
    assert bad.status_code == 400
