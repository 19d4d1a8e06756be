"""Contract tests: XuiClient against the fake 3x-ui panel, for every panel profile.

Every test asserts on what ends up on the (fake) panel, not on which methods ran.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid

import pytest

from panels.xui import (
    V2,
    V3_CLIENTS,
    ClientNotFound,
    DuplicateEmail,
    LastClientError,
    PanelAuthError,
    PanelConfig,
    PanelError,
    PanelRejected,
    PanelUnavailable,
    XuiClient,
    client_key,
)
from standins.xui import FakeXuiPanel

PROFILES = ["v2", "v2_old", "v3_0", "v3", "legacy"]
GENERATION = {"v2": "v2", "v2_old": "v2", "v3_0": "v3", "v3": "v3_clients", "legacy": "legacy"}
REFUSES_LAST_CLIENT = {"v2": True, "v2_old": True, "v3_0": True, "v3": False, "legacy": True}
REPORTS_UNKNOWN_DELETE = {"v2": True, "v2_old": False, "v3_0": True, "v3": True, "legacy": False}
PROTOCOLS = ["vless", "vmess", "trojan", "shadowsocks"]
GiB = 1024**3


@pytest.fixture(params=PROFILES)
def panel(request):
    fake = FakeXuiPanel(profile=request.param)
    fake.start()
    yield fake
    fake.stop()
    assert fake.errors == [], "the fake panel itself crashed"


def make_client(panel: FakeXuiPanel, **overrides) -> XuiClient:
    config = {
        "base_url": panel.url,
        "username": "admin",
        "password": "secret",
        # Room for a loaded machine; the timeout tests pass their own.
        "connect_timeout": 5.0,
        "read_timeout": 10.0,
    }
    config.update(overrides)
    return XuiClient(PanelConfig(**config))


@pytest.fixture
def client(panel):
    xui = make_client(panel)
    yield xui
    xui.close()


def add_inbound(panel: FakeXuiPanel, protocol: str = "vless") -> int:
    if protocol == "vless":
        return panel.add_inbound("vless", security="reality")
    if protocol == "vmess":
        return panel.add_inbound("vmess", network="ws", security="tls")
    if protocol == "trojan":
        return panel.add_inbound("trojan", security="tls")
    return panel.add_inbound(protocol)


def new_client(protocol: str, email: str, **extra) -> dict:
    client = {
        "email": email,
        "limitIp": 2,
        "totalGB": 30 * GiB,
        "expiryTime": 1_900_000_000_000,
        "enable": True,
        "tgId": 123456789,
        "subId": uuid.uuid4().hex[:16],
        "comment": "order 17",
        "reset": 0,
    }
    if protocol == "vless":
        client.update(id=str(uuid.uuid4()), flow="xtls-rprx-vision")
    elif protocol == "vmess":
        client.update(id=str(uuid.uuid4()), security="auto")
    elif protocol == "trojan":
        client.update(password=uuid.uuid4().hex)
    elif protocol == "shadowsocks":
        client.update(password=base64.b64encode(uuid.uuid4().bytes * 2).decode())
    client.update(extra)
    return client


def as_stored(panel: FakeXuiPanel, client: dict) -> dict:
    """What the panel is expected to keep of a client we sent."""
    expected = dict(client)
    if panel.profile.name == "legacy":
        expected["tgId"] = str(client["tgId"])  # alireza0/x-ui: tgId is a string
    return expected


def assert_stored(panel: FakeXuiPanel, inbound_id: int, sent: dict) -> dict:
    stored = {c["email"]: c for c in panel.clients(inbound_id)}[sent["email"]]
    for key, value in as_stored(panel, sent).items():
        assert stored.get(key) == value, key
    return stored


# ---------------------------------------------------------------------- plain helpers


def test_config_normalises_base_url_and_keeps_secrets_out_of_repr():
    config = PanelConfig("https://vpn.example.com:2053/Ab3kD9", "admin", "pw", api_token="tok")
    assert config.base_url == "https://vpn.example.com:2053/Ab3kD9/"
    assert "pw" not in repr(config) and "tok" not in repr(config)
    with pytest.raises(ValueError):
        PanelConfig("http://x/", api_generation="v9")


def test_client_key_follows_the_protocol():
    client = {"id": "uuid-1", "password": "pw-1", "email": "a@x"}
    assert client_key("vless", client) == "uuid-1"
    assert client_key("vmess", client) == "uuid-1"
    assert client_key("trojan", client) == "pw-1"
    assert client_key("shadowsocks", client) == "a@x"


# ---------------------------------------------------------------------- login & detection


def test_detect_names_the_api_generation(panel, client):
    assert client.detect() == GENERATION[panel.profile.name]
    assert client.api_generation == GENERATION[panel.profile.name]
    assert panel.login_count == 1


def test_first_operation_detects_lazily(panel, client):
    inbound_id = add_inbound(panel)
    assert [ib["id"] for ib in client.list_inbounds()] == [inbound_id]
    assert client.api_generation == GENERATION[panel.profile.name]


def test_stored_generation_skips_detection(panel):
    xui = make_client(panel, api_generation=GENERATION[panel.profile.name])
    assert xui.online_clients() == []
    routes = [route for _, route in panel.request_log]
    assert not any(r.endswith(("clients/list", "inbounds/list", "inbounds/")) for r in routes)
    assert panel.login_count == 1


def test_wrong_password_is_an_auth_error(panel):
    xui = make_client(panel, password="not-it")
    with pytest.raises(PanelAuthError):
        xui.detect()
    with pytest.raises(PanelAuthError):
        xui.list_inbounds()
    assert panel.count("GET", "panel/api/inbounds/list") == 0


@pytest.mark.parametrize("profile", ["v3_0", "v3"])
def test_bearer_token_replaces_login(profile):
    with FakeXuiPanel(profile=profile, api_token="tok-123") as fake:
        inbound_id = add_inbound(fake)
        xui = make_client(fake, username="", password="", api_token="tok-123")
        sent = new_client("vless", "bearer@x")
        xui.add_client(inbound_id, "vless", sent)
        assert xui.api_generation == GENERATION[profile]
        assert_stored(fake, inbound_id, sent)
        assert fake.login_count == 0


@pytest.mark.parametrize("profile", ["v3_0", "v3"])
def test_wrong_bearer_token_is_an_auth_error(profile):
    with FakeXuiPanel(profile=profile, api_token="tok-123") as fake:
        xui = make_client(fake, username="", password="", api_token="guess")
        with pytest.raises(PanelAuthError):
            xui.list_inbounds()


def test_api_token_on_a_v2_panel_falls_back_to_the_password():
    with FakeXuiPanel(profile="v2") as fake:
        xui = make_client(fake, api_token="tok-123")
        assert xui.detect() == V2
        assert fake.login_count == 1


# ---------------------------------------------------------------------- inbounds


def test_list_inbounds_parses_json_text_fields(panel, client):
    vless_id = add_inbound(panel, "vless")
    trojan_id = add_inbound(panel, "trojan")
    client.add_client(vless_id, "vless", new_client("vless", "alice"))
    inbounds = {ib["id"]: ib for ib in client.list_inbounds()}
    assert set(inbounds) == {vless_id, trojan_id}
    vless = inbounds[vless_id]
    assert vless["protocol"] == "vless"
    assert vless["settings"]["decryption"] == "none"
    assert [c["email"] for c in vless["settings"]["clients"]] == ["alice"]
    assert vless["streamSettings"]["security"] == "reality"
    assert vless["streamSettings"]["realitySettings"]["settings"]["publicKey"]
    assert isinstance(vless["sniffing"], dict)
    assert [s["email"] for s in vless["clientStats"]] == ["alice"]
    assert inbounds[trojan_id]["streamSettings"]["tlsSettings"]["serverName"]


def test_get_inbound_returns_one_inbound(panel, client):
    add_inbound(panel, "vless")
    trojan_id = add_inbound(panel, "trojan")
    inbound = client.get_inbound(trojan_id)
    assert inbound["id"] == trojan_id
    assert inbound["protocol"] == "trojan"
    assert inbound["settings"]["clients"] == []
    with pytest.raises(PanelRejected):
        client.get_inbound(999)


# ---------------------------------------------------------------------- clients


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_added_client_is_stored_with_every_field(panel, client, protocol):
    inbound_id = add_inbound(panel, protocol)
    sent = new_client(protocol, f"{protocol}-user@moon")
    client.add_client(inbound_id, protocol, sent)
    assert_stored(panel, inbound_id, sent)
    row = panel.traffic(sent["email"])
    assert row["total"] == 30 * GiB
    assert row["expiryTime"] == 1_900_000_000_000
    assert row["inboundId"] == inbound_id


def test_client_added_disabled_stays_disabled(panel, client):
    # v3.1+ forces new clients on; the client has to switch it off again.
    inbound_id = add_inbound(panel)
    sent = new_client("vless", "unpaid", enable=False)
    client.add_client(inbound_id, "vless", sent)
    assert assert_stored(panel, inbound_id, sent)["enable"] is False


def test_tg_id_is_converted_to_the_panel_type(panel, client):
    inbound_id = add_inbound(panel)
    client.add_client(inbound_id, "vless", new_client("vless", "a", tgId="42"))
    client.add_client(inbound_id, "vless", new_client("vless", "b", tgId=0))
    stored = {c["email"]: c["tgId"] for c in panel.clients(inbound_id)}
    if panel.profile.name == "legacy":
        assert stored == {"a": "42", "b": ""}
    else:
        assert stored == {"a": 42, "b": 0}


def test_duplicate_email_in_another_case_is_rejected(panel, client):
    first = add_inbound(panel, "vless")
    second = add_inbound(panel, "vmess")
    client.add_client(first, "vless", new_client("vless", "alice@moon"))
    with pytest.raises(DuplicateEmail) as exc:
        client.add_client(second, "vmess", new_client("vmess", "ALICE@moon"))
    assert isinstance(exc.value, PanelRejected)
    assert "Duplicate email" in exc.value.panel_message
    assert [email for _, c in panel.all_clients() for email in [c["email"]]] == ["alice@moon"]


def test_add_to_a_missing_inbound_is_rejected(panel, client):
    with pytest.raises(PanelRejected):
        client.add_client(404, "vless", new_client("vless", "lost"))
    assert panel.all_clients() == []


def test_update_replaces_the_whole_client(panel, client):
    inbound_id = add_inbound(panel)
    sent = new_client("vless", "carol", comment="keep me?", limitIp=2)
    client.add_client(inbound_id, "vless", sent)
    panel.set_traffic("carol", 5_000, 7_000)
    replacement = {k: v for k, v in sent.items() if k != "comment"}
    replacement.update(limitIp=5, totalGB=60 * GiB, enable=False)
    client.update_client(inbound_id, "vless", sent["id"], replacement)
    stored = assert_stored(panel, inbound_id, replacement)
    assert "comment" not in stored  # not resent, so gone: the panel does not merge
    row = panel.traffic("carol")
    assert (row["up"], row["down"]) == (5_000, 7_000)  # usage survives an update
    assert row["total"] == 60 * GiB and row["enable"] is False


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_update_can_change_email_and_key(panel, client, protocol):
    inbound_id = add_inbound(panel, protocol)
    sent = new_client(protocol, f"old-{protocol}")
    client.add_client(inbound_id, protocol, sent)
    renewed = new_client(protocol, f"new-{protocol}")
    client.update_client(inbound_id, protocol, client_key(protocol, sent), renewed)
    assert [c["email"] for c in panel.clients(inbound_id)] == [renewed["email"]]
    assert_stored(panel, inbound_id, renewed)
    assert panel.traffic(sent["email"]) is None
    assert panel.traffic(renewed["email"]) is not None


def test_update_of_an_unknown_client_is_client_not_found(panel, client):
    inbound_id = add_inbound(panel)
    client.add_client(inbound_id, "vless", new_client("vless", "dave"))
    ghost = new_client("vless", "ghost")
    with pytest.raises(ClientNotFound):
        client.update_client(inbound_id, "vless", ghost["id"], ghost)
    assert [c["email"] for c in panel.clients(inbound_id)] == ["dave"]


def test_update_to_a_taken_email_is_rejected(panel, client):
    inbound_id = add_inbound(panel)
    erin, frank = new_client("vless", "erin"), new_client("vless", "frank")
    client.add_client(inbound_id, "vless", erin)
    client.add_client(inbound_id, "vless", frank)
    with pytest.raises(DuplicateEmail):
        client.update_client(inbound_id, "vless", frank["id"], {**frank, "email": "ERIN"})
    assert sorted(c["email"] for c in panel.clients(inbound_id)) == ["erin", "frank"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_delete_removes_the_client_and_its_traffic(panel, client, protocol):
    inbound_id = add_inbound(panel, protocol)
    keep, gone = new_client(protocol, "keep"), new_client(protocol, "gone")
    client.add_client(inbound_id, protocol, keep)
    client.add_client(inbound_id, protocol, gone)
    client.delete_client(inbound_id, protocol, gone)
    assert [c["email"] for c in panel.clients(inbound_id)] == ["keep"]
    assert panel.traffic("gone") is None


def test_last_client_rule_follows_the_panel(panel, client):
    inbound_id = add_inbound(panel)
    only = new_client("vless", "only")
    client.add_client(inbound_id, "vless", only)
    if REFUSES_LAST_CLIENT[panel.profile.name]:
        with pytest.raises(LastClientError) as exc:
            client.delete_client(inbound_id, "vless", only)
        assert isinstance(exc.value, PanelRejected)
        assert "no client remained" in exc.value.panel_message
        assert [c["email"] for c in panel.clients(inbound_id)] == ["only"]
    else:
        client.delete_client(inbound_id, "vless", only)
        assert panel.clients(inbound_id) == []


def test_delete_of_an_unknown_client(panel, client):
    inbound_id = add_inbound(panel)
    client.add_client(inbound_id, "vless", new_client("vless", "a"))
    client.add_client(inbound_id, "vless", new_client("vless", "b"))
    ghost = new_client("vless", "ghost")
    if REPORTS_UNKNOWN_DELETE[panel.profile.name]:
        with pytest.raises(ClientNotFound):
            client.delete_client(inbound_id, "vless", ghost)
    else:
        client.delete_client(inbound_id, "vless", ghost)  # old panels: silent success
    assert sorted(c["email"] for c in panel.clients(inbound_id)) == ["a", "b"]


def test_traffic_by_email_and_unknown_email_is_none(panel, client):
    inbound_id = add_inbound(panel)
    client.add_client(inbound_id, "vless", new_client("vless", "gina"))
    panel.set_traffic("gina", 1_000, 2_000)
    row = client.get_client_traffic("gina")
    assert (row["email"], row["up"], row["down"]) == ("gina", 1_000, 2_000)
    assert row["total"] == 30 * GiB
    assert row["inboundId"] == inbound_id
    assert client.get_client_traffic("nobody") is None


def test_reset_traffic_zeroes_usage(panel, client):
    inbound_id = add_inbound(panel)
    client.add_client(inbound_id, "vless", new_client("vless", "hank"))
    panel.set_traffic("hank", 9_000, 9_000)
    panel.set_client_enable("hank", False)
    client.reset_client_traffic(inbound_id, "hank")
    row = panel.traffic("hank")
    assert (row["up"], row["down"], row["enable"]) == (0, 0, True)


def test_online_clients(panel, client):
    assert client.online_clients() == []  # the panel answers null
    panel.set_online(["ivy", "jack"])
    assert client.online_clients() == ["ivy", "jack"]


def test_find_client_ignores_case_and_names_the_inbound(panel, client):
    add_inbound(panel, "vless")
    trojan_id = add_inbound(panel, "trojan")
    sent = new_client("trojan", "Kate@Moon.example")
    client.add_client(trojan_id, "trojan", sent)
    found = client.find_client("kate@moon.EXAMPLE")
    assert found is not None
    inbound_id, stored = found
    assert inbound_id == trojan_id
    for key, value in as_stored(panel, sent).items():
        assert stored[key] == value, key
    assert client.find_client("nobody@moon") is None


# ---------------------------------------------------------------------- sessions


def test_expired_session_costs_exactly_one_login(panel, client):
    inbound_id = add_inbound(panel)
    client.list_inbounds()
    logins = panel.login_count
    panel.expire_sessions()
    sent = new_client("vless", "after-expiry")
    client.add_client(inbound_id, "vless", sent)  # a POST: CSRF must follow the new session
    assert panel.login_count == logins + 1
    assert_stored(panel, inbound_id, sent)
    client.list_inbounds()
    assert panel.login_count == logins + 1


def test_concurrent_calls_share_one_relogin(panel, client):
    add_inbound(panel)
    client.list_inbounds()
    logins = panel.login_count
    panel.expire_sessions()
    panel.faults.latency = 0.02  # keep the threads' requests overlapping
    errors: list[BaseException] = []

    def work():
        try:
            client.list_inbounds()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert panel.login_count == logins + 1


def test_concurrent_adds_all_land(panel, client):
    inbound_id = add_inbound(panel)
    client.detect()
    sent = [new_client("vless", f"user-{i}") for i in range(20)]
    threads = [
        threading.Thread(target=client.add_client, args=(inbound_id, "vless", c)) for c in sent
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(c["email"] for c in panel.clients(inbound_id)) == sorted(c["email"] for c in sent)


# ---------------------------------------------------------------------- failures


def test_server_error_is_unavailable_and_nothing_is_stored(panel, client):
    inbound_id = add_inbound(panel)
    client.detect()
    panel.fail_next(500, count=None)
    with pytest.raises(PanelUnavailable, match="500"):
        client.list_inbounds()
    with pytest.raises(PanelUnavailable):
        client.add_client(inbound_id, "vless", new_client("vless", "x"))
    assert panel.all_clients() == []


def test_one_server_error_does_not_poison_the_client(panel, client):
    add_inbound(panel)
    client.detect()
    panel.fail_next(502, count=1)
    with pytest.raises(PanelUnavailable):
        client.list_inbounds()
    assert len(client.list_inbounds()) == 1


def test_html_answer_is_unavailable_and_shows_the_page(panel, client):
    client.detect()
    panel.faults.html = True
    with pytest.raises(PanelUnavailable) as exc:
        client.list_inbounds()
    assert "<!DOCTYPE html>" in str(exc.value)


def test_html_answer_before_login_is_unavailable(panel):
    panel.faults.html = True
    with pytest.raises(PanelUnavailable, match="<!DOCTYPE html>"):
        make_client(panel).list_inbounds()


def test_truncated_json_is_unavailable(panel, client):
    add_inbound(panel)
    client.detect()
    panel.faults.truncated_json = True
    with pytest.raises(PanelUnavailable, match="not JSON"):
        client.list_inbounds()


def test_hang_past_the_read_timeout_is_unavailable_quickly(panel):
    xui = make_client(panel, read_timeout=0.3)
    xui.detect()
    panel.faults.hang = 5.0
    started = time.monotonic()
    with pytest.raises(PanelUnavailable, match="timed out"):
        xui.online_clients()
    assert time.monotonic() - started < 1.5


def test_stopped_panel_is_unavailable(panel, client):
    client.detect()
    panel.stop()
    with pytest.raises(PanelUnavailable):
        client.list_inbounds()
    with pytest.raises(PanelUnavailable):
        make_client(panel).detect()


def test_nothing_listening_is_unavailable():
    with FakeXuiPanel() as fake:
        url = fake.url
    xui = XuiClient(PanelConfig(url, "admin", "secret", connect_timeout=0.5))
    with pytest.raises(PanelUnavailable) as exc:
        xui.list_inbounds()
    assert fake.base_path not in str(exc.value)  # the secret path stays out of messages


@pytest.mark.parametrize("protocol", ["vless", "trojan"])
def test_dropped_add_is_found_afterwards_and_never_added_twice(panel, client, protocol):
    inbound_id = add_inbound(panel, protocol)
    client.detect()
    sent = new_client(protocol, "lola@moon")
    panel.faults.drop_after_add = True
    with pytest.raises(PanelUnavailable):
        client.add_client(inbound_id, protocol, sent)
    found = client.find_client("lola@moon")
    assert found is not None and found[0] == inbound_id
    assert client_key(protocol, found[1]) == client_key(protocol, sent)
    with pytest.raises(DuplicateEmail):  # a blind retry would be refused
        client.add_client(inbound_id, protocol, sent)
    assert [c["email"] for c in panel.clients(inbound_id)] == ["lola@moon"]


def test_no_requests_exception_escapes(panel):
    xui = make_client(panel, base_url="http://127.0.0.1:1/nothing/")
    with pytest.raises(PanelError):
        xui.detect()


# ---------------------------------------------------------------------- panel upgrades


def test_panel_upgraded_to_v3_clients_is_redetected():
    with FakeXuiPanel(profile="v3") as fake:
        inbound_id = add_inbound(fake)
        xui = make_client(fake, api_generation="v2")  # what we stored before the upgrade
        sent = new_client("vless", "upgraded")
        xui.add_client(inbound_id, "vless", sent)
        assert xui.api_generation == V3_CLIENTS
        assert_stored(fake, inbound_id, sent)


def test_old_paths_are_never_followed_through_the_301():
    with FakeXuiPanel(profile="v2") as fake:
        inbound_id = add_inbound(fake)
        xui = make_client(fake, api_generation="legacy")
        sent = new_client("vless", "redirected")
        xui.add_client(inbound_id, "vless", sent)
        assert xui.api_generation == V2
        assert ("GET", "panel/api/inbounds/addClient") not in fake.request_log
        assert [c["email"] for c in fake.clients(inbound_id)] == ["redirected"]


# ---------------------------------------------------------------------- scale


@pytest.mark.parametrize("profile", ["v2", "v3"])
def test_find_client_among_10000_clients(profile):
    with FakeXuiPanel(profile=profile) as fake:
        inbound_id = add_inbound(fake)
        emails = fake.populate(inbound_id, 10_000)
        xui = make_client(fake, read_timeout=10)
        started = time.monotonic()
        sent = new_client("vless", "newcomer")
        xui.add_client(inbound_id, "vless", sent)
        assert xui.find_client(emails[-1].upper())[0] == inbound_id
        assert xui.find_client("newcomer")[1]["id"] == sent["id"]
        assert len(xui.get_inbound(inbound_id)["settings"]["clients"]) == 10_001
        assert time.monotonic() - started < 10
