"""The operator's panel pages: sync now, test connection, an inbound's live clients."""

import uuid

import pytest
from django.urls import reverse

from billing.models import Plan
from panels.models import ClientAccount, Inbound, Panel
from panels.sync import panel_sync
from panels.xui import PanelConfig, XuiClient

pytestmark = pytest.mark.django_db

GB = 1024**3

# These tests read the console's English texts; Persian is checked in
# accounts/tests/test_admin.py (test_operator_pages_are_persian_by_default).
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_sync_now_action_syncs_and_reports(admin_client, xui_panel, fake_xui):
    fake_xui.add_inbound(protocol="vless", remark="main")
    response = admin_client.post(
        reverse("admin:panels_panel_changelist"),
        {"action": "sync_now", "_selected_action": [xui_panel.pk]},
        follow=True,
        **EN,
    )
    assert any("synced 1 inbounds (1 new, 0 gone)" in m for m in _messages(response))
    assert Inbound.objects.filter(panel=xui_panel).count() == 1


def test_test_connection_button_reports_failure_and_health(admin_client, xui_panel, fake_xui):
    fake_xui.stop()
    response = admin_client.post(
        reverse("admin:panels_panel_test", args=[xui_panel.pk]), follow=True
    )
    assert response.status_code == 200
    assert any("Frankfurt-1" in m for m in _messages(response))
    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.DOWN
    # A GET must not trigger panel calls: it leads back to the panel's page (no bare 405).
    checked = xui_panel.last_checked_at
    response = admin_client.get(reverse("admin:panels_panel_test", args=[xui_panel.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:panels_panel_change", args=[xui_panel.pk])
    xui_panel.refresh_from_db()
    assert xui_panel.last_checked_at == checked


def test_test_connection_success_stores_generation(admin_client, xui_panel, fake_xui):
    response = admin_client.post(
        reverse("admin:panels_panel_changelist"),
        {"action": "test_connection", "_selected_action": [xui_panel.pk]},
        follow=True,
        **EN,
    )
    assert any("API generation v2" in m for m in _messages(response))
    xui_panel.refresh_from_db()
    assert (xui_panel.health, xui_panel.api_generation) == (Panel.Health.OK, "v2")


def test_panel_page_has_the_buttons_and_inbound_list_the_live_link(
    admin_client, xui_panel, fake_xui
):
    fake_xui.add_inbound()
    panel_sync(panel=xui_panel)
    page = admin_client.get(reverse("admin:panels_panel_change", args=[xui_panel.pk]))
    assert reverse("admin:panels_panel_sync", args=[xui_panel.pk]) in page.content.decode()
    inbound = Inbound.objects.get()
    listing = admin_client.get(reverse("admin:panels_inbound_changelist")).content.decode()
    assert reverse("admin:panels_inbound_clients", args=[inbound.pk]) in listing


@pytest.fixture
def inbound_with_clients(xui_panel, fake_xui, customer):
    remote = fake_xui.add_inbound(protocol="vless", remark="DE")
    panel_sync(panel=xui_panel)
    inbound = Inbound.objects.get(remote_id=remote)
    xui = XuiClient(PanelConfig(base_url=fake_xui.url, username="admin", password="secret"))
    for email in ("alice", "walkin"):
        xui.add_client(
            remote,
            "vless",
            {"id": str(uuid.uuid4()), "email": email, "totalGB": 10 * GB, "enable": True},
        )
    fake_xui.set_traffic("alice", GB, GB)
    fake_xui.set_online(["alice"])
    plan = Plan.objects.create(name="p", duration_days=30, traffic_gb=10, price=1)
    account = ClientAccount.objects.create(
        user=customer, plan=plan, panel=xui_panel, inbound=inbound, uuid="u", email="alice"
    )
    return inbound, account


def test_inbound_client_list_is_read_live_and_links_accounts(admin_client, inbound_with_clients):
    inbound, account = inbound_with_clients
    page = admin_client.get(reverse("admin:panels_inbound_clients", args=[inbound.pk]), **EN)
    html = page.content.decode()
    assert page.status_code == 200
    assert "read live from the panel" in html
    assert "alice" in html and "walkin" in html
    assert "2.0\xa0GB / 10.0\xa0GB" in html
    assert reverse("admin:panels_clientaccount_change", args=[account.pk]) in html
    rows = page.context["rows"]
    online = {row.email: row.online for row in rows}
    assert online == {"alice": True, "walkin": False}


def test_inbound_client_list_of_a_down_panel_shows_last_synced_data(
    admin_client, inbound_with_clients, fake_xui
):
    inbound, account = inbound_with_clients
    panel_sync(panel=inbound.panel)
    fake_xui.stop()
    page = admin_client.get(reverse("admin:panels_inbound_clients", args=[inbound.pk]), **EN)
    html = page.content.decode()
    assert page.status_code == 200
    assert "did not answer" in html
    assert "Showing the data of the last sync" in html
    assert "alice" in html
    assert "walkin" not in html  # only what we stored
    # Worded, no exception repr; and why fewer clients show than the inbound has.
    assert "HTTPConnection" not in html and "object at 0x" not in html
    assert "could not be reached" in html
    assert "the panel had 2 at the last sync" in html
    assert reverse("admin:panels_inbound_change", args=[inbound.pk]) in html


def test_inbound_client_list_pages_and_searches(admin_client, inbound_with_clients, fake_xui):
    inbound, account = inbound_with_clients
    xui = XuiClient(PanelConfig(base_url=fake_xui.url, username="admin", password="secret"))
    for i in range(150):
        xui.add_client(
            inbound.remote_id, "vless", {"id": str(uuid.uuid4()), "email": f"bulk{i:03d}"}
        )
    url = reverse("admin:panels_inbound_clients", args=[inbound.pk])
    first = admin_client.get(url, **EN)
    assert len(first.context["rows"]) == 100
    assert "page 1 of 2" in first.content.decode()
    second = admin_client.get(url + "?p=2", **EN)
    assert len(second.context["rows"]) == 52
    # Search by the customer's first name finds their client.
    found = admin_client.get(url + "?q=sara", **EN)
    assert [row.email for row in found.context["rows"]] == ["alice"]
    assert "1 of 152" in found.content.decode()
