"""sync_panels and add_panel against the fake 3x-ui panel."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from panels.models import ClientAccount, Inbound, Panel
from panels.sync import panel_sync
from standins.xui import FakeXuiPanel

pytestmark = pytest.mark.django_db

GB = 1024**3


def _sync(*args):
    out = StringIO()
    try:
        call_command("sync_panels", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_sync_upserts_inbounds_and_marks_gone_ones_inactive(xui_panel, fake_xui):
    first = fake_xui.add_inbound(protocol="vless", remark="DE vless", security="reality")
    second = fake_xui.add_inbound(protocol="trojan", remark="DE trojan", network="ws")
    code, out = _sync()
    assert code == 0, out
    inbounds = {i.remote_id: i for i in Inbound.objects.filter(panel=xui_panel)}
    assert set(inbounds) == {first, second}
    assert inbounds[first].protocol == "vless"
    assert inbounds[first].security == "reality"
    assert inbounds[second].network == "ws"
    assert all(i.status == Inbound.Status.ACTIVE for i in inbounds.values())
    # Operators decide what is sold.
    assert not any(i.is_sellable for i in inbounds.values())
    Inbound.objects.filter(remote_id=first).update(is_sellable=True, display_name="Fast")

    fake_xui.remove_inbound(second)
    _sync()
    gone = Inbound.objects.get(panel=xui_panel, remote_id=second)
    assert gone.status == Inbound.Status.INACTIVE
    kept = Inbound.objects.get(panel=xui_panel, remote_id=first)
    assert (kept.is_sellable, kept.display_name) == (True, "Fast")
    assert Inbound.objects.filter(panel=xui_panel).count() == 2


def test_a_disabled_inbound_is_synced_as_disabled(xui_panel, fake_xui):
    remote = fake_xui.add_inbound(protocol="vmess", enable=False)
    panel_sync(panel=xui_panel)
    assert Inbound.objects.get(remote_id=remote).status == Inbound.Status.DISABLED


def test_unsellable_protocol_is_synced_but_never_sellable(xui_panel, fake_xui):
    remote = fake_xui.add_inbound(protocol="wireguard", settings={"peers": []})
    panel_sync(panel=xui_panel)
    inbound = Inbound.objects.get(remote_id=remote)
    assert inbound.link_problem
    Inbound.objects.filter(pk=inbound.pk).update(is_sellable=True)
    panel_sync(panel=xui_panel)
    assert Inbound.objects.get(pk=inbound.pk).is_sellable is False


@pytest.mark.django_db(transaction=True)
def test_malformed_stream_settings_are_synced_and_reported(xui_panel, fake_xui):
    remote = fake_xui.add_inbound(
        protocol="vless", stream_settings={"network": "tcp", "security": "reality"}
    )
    code, out = _sync()
    assert code == 0
    inbound = Inbound.objects.get(remote_id=remote)
    assert inbound.link_problem
    assert "not sellable" in out


def _account(panel, inbound, email, user, plan):
    return ClientAccount.objects.create(
        user=user,
        plan=plan,
        panel=panel,
        inbound=inbound,
        uuid="11111111-2222-3333-4444-555555555555",
        email=email,
        traffic_limit_bytes=10 * GB,
    )


@pytest.fixture
def plan(db):
    from billing.models import Plan

    return Plan.objects.create(name="30 days", duration_days=30, traffic_gb=10, price=100_000)


def _add_client(fake, inbound_id, email, *, total=10 * GB, expiry_ms=0, enable=True):
    from panels.xui import PanelConfig, XuiClient

    client = XuiClient(PanelConfig(base_url=fake.url, username="admin", password="secret"))
    client.add_client(
        inbound_id,
        "vless",
        {
            "id": "11111111-2222-3333-4444-555555555555" if email == "a" else None,
            "email": email,
            "totalGB": total,
            "expiryTime": expiry_ms,
            "enable": enable,
            "subId": "",
        },
    )


def test_sync_copies_usage_enable_and_expiry_onto_accounts(xui_panel, fake_xui, customer, plan):
    import uuid

    from panels.xui import PanelConfig, XuiClient

    remote = fake_xui.add_inbound(protocol="vless")
    panel_sync(panel=xui_panel)
    inbound = Inbound.objects.get(remote_id=remote)
    xui = XuiClient(PanelConfig(base_url=fake_xui.url, username="admin", password="secret"))
    for email, enable in (("alice", True), ("bob", True), ("carol", True)):
        xui.add_client(
            remote,
            "vless",
            {
                "id": str(uuid.uuid4()),
                "email": email,
                "totalGB": 10 * GB,
                "expiryTime": 4102444800000,
                "enable": enable,
            },
        )
        _account(xui_panel, inbound, email, customer, plan)
    fake_xui.set_traffic("alice", 1 * GB, 2 * GB)
    fake_xui.set_traffic("bob", 6 * GB, 5 * GB)
    fake_xui.set_client_enable("bob", False)
    fake_xui.delete_client_by_hand("carol")

    result = panel_sync(panel=xui_panel)

    assert result.ok, result.error
    alice = ClientAccount.objects.get(email="alice")
    bob = ClientAccount.objects.get(email="bob")
    carol = ClientAccount.objects.get(email="carol")
    assert (alice.used_bytes, alice.status, alice.panel_enabled) == (3 * GB, "active", True)
    assert alice.expires_at.year == 2100
    assert (bob.used_bytes, bob.status, bob.panel_enabled) == (11 * GB, "expired", False)
    assert carol.status == ClientAccount.Status.DELETED
    assert Inbound.objects.get(pk=inbound.pk).client_count == 2
    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.OK
    assert xui_panel.last_synced_at is not None
    assert xui_panel.api_generation == "v2"


@pytest.mark.django_db(transaction=True)
def test_a_failing_panel_never_stops_the_others(xui_panel, fake_xui):
    fake_xui.add_inbound(protocol="vless")
    with FakeXuiPanel(profile="v3") as other:
        other.add_inbound(protocol="trojan")
        down = Panel.objects.create(
            name="Down",
            location_name="NL",
            base_url=other.url,
            username="admin",
            password="secret",
            public_host="nl.example",
        )
        good_v3 = Panel.objects.create(
            name="V3",
            location_name="FI",
            base_url=other.url,
            username="admin",
            password="secret",
            public_host="fi.example",
        )
        Panel.objects.filter(pk=down.pk).update(base_url="http://127.0.0.1:9/nothing/")
        code, out = _sync()
    assert code == 1
    assert "FAIL 🇩🇪 Frankfurt-1" not in out
    assert "ok   🇩🇪 Frankfurt-1" in out
    assert "ok   V3" in out
    assert "FAIL Down" in out
    assert "Synced 2 of 3 panels" in out
    down.refresh_from_db()
    assert down.health == Panel.Health.DOWN
    assert down.last_error
    assert Inbound.objects.filter(panel=good_v3).count() == 1
    good_v3.refresh_from_db()
    assert good_v3.api_generation == "v3_clients"


@pytest.mark.django_db(transaction=True)
def test_sync_only_the_given_panels(xui_panel, fake_xui):
    fake_xui.add_inbound()
    other = Panel.objects.create(
        name="Other", location_name="X", base_url="http://127.0.0.1:9/", public_host="x"
    )
    code, out = _sync("--panel", str(xui_panel.pk))
    assert code == 0
    assert "Other" not in out
    other.refresh_from_db()
    assert other.health == Panel.Health.UNKNOWN


def test_wrong_credentials_are_recorded_as_auth_error(xui_panel, fake_xui):
    Panel.objects.filter(pk=xui_panel.pk).update()
    xui_panel.password = "wrong"
    xui_panel.save()
    result = panel_sync(panel=xui_panel)
    assert not result.ok
    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.AUTH_ERROR


def test_html_instead_of_json_marks_the_panel_down(xui_panel, fake_xui):
    fake_xui.add_inbound()
    fake_xui.faults.html = True
    result = panel_sync(panel=xui_panel)
    assert not result.ok
    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.DOWN
    assert Inbound.objects.count() == 0


@pytest.mark.parametrize("profile", ["v2", "v2_old", "v3_0", "v3", "legacy"])
def test_add_panel_detects_the_api_and_syncs(profile):
    with FakeXuiPanel(profile=profile) as fake:
        fake.add_inbound(protocol="vless", remark="main")
        out = StringIO()
        call_command(
            "add_panel",
            "--name",
            f"P-{profile}",
            "--location",
            "🇫🇮 Finland",
            "--url",
            fake.url,
            "--username",
            "admin",
            "--password",
            "secret",
            stdout=out,
        )
    panel = Panel.objects.get(name=f"P-{profile}")
    expected = {"v2": "v2", "v2_old": "v2", "v3_0": "v3", "v3": "v3_clients", "legacy": "legacy"}
    assert panel.api_generation == expected[profile]
    assert (panel.location_flag, panel.location_name) == ("🇫🇮", "Finland")
    assert panel.inbounds.count() == 1
    assert "1 inbounds found" in out.getvalue()
    assert panel.password == "secret"


def test_add_panel_with_wrong_password_saves_nothing(fake_xui):
    with pytest.raises(CommandError, match="cannot log in"):
        call_command(
            "add_panel",
            "--name",
            "X",
            "--location",
            "DE",
            "--url",
            fake_xui.url,
            "--username",
            "admin",
            "--password",
            "nope",
        )
    assert Panel.objects.count() == 0


def test_add_panel_unreachable_saves_nothing(db):
    with pytest.raises(CommandError, match="cannot reach"):
        call_command(
            "add_panel",
            "--name",
            "X",
            "--location",
            "DE",
            "--url",
            "http://127.0.0.1:9",
            "--username",
            "admin",
            "--password",
            "x",
        )
    assert Panel.objects.count() == 0


def test_add_panel_with_base_path_option(fake_xui):
    from urllib.parse import urlsplit

    parts = urlsplit(fake_xui.url)
    call_command(
        "add_panel",
        "--name",
        "X",
        "--location",
        "DE",
        "--url",
        f"{parts.scheme}://{parts.netloc}",
        "--web-base-path",
        parts.path,
        "--username",
        "admin",
        "--password",
        "secret",
        stdout=StringIO(),
    )
    assert Panel.objects.get(name="X").base_url == fake_xui.url


def test_every_listed_inbound_is_stamped_as_synced(xui_panel, fake_xui):
    from datetime import timedelta

    from django.utils import timezone

    fake_xui.add_inbound(protocol="vless")
    panel_sync(panel=xui_panel)
    old = timezone.now() - timedelta(days=1)
    Inbound.objects.update(last_synced_at=old)
    panel_sync(panel=xui_panel)  # nothing changed on the panel
    assert Inbound.objects.get().last_synced_at > old
