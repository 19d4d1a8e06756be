"""The fake panel must behave like the real one (xui-api.md), or client tests prove nothing.

These tests talk to the fake with plain ``requests``, never through XuiClient.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests

from standins.xui import FakeXuiPanel

PROFILES = ["v2", "v2_old", "v3_0", "v3", "legacy"]
XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture(params=PROFILES)
def panel(request):
    with FakeXuiPanel(profile=request.param) as fake:
        yield fake
    assert fake.errors == []


def prefix(panel: FakeXuiPanel) -> str:
    return panel.url + panel.profile.api_prefix


def list_url(panel: FakeXuiPanel) -> str:
    return prefix(panel) + ("" if panel.profile.name == "legacy" else "list")


def logged_in(panel: FakeXuiPanel) -> requests.Session:
    session = requests.Session()
    session.headers.update(XHR)
    if panel.profile.csrf:
        token = session.get(panel.url + "csrf-token").json()["obj"]
        session.headers["X-CSRF-Token"] = token
    answer = session.post(panel.url + "login", data={"username": "admin", "password": "secret"})
    assert answer.json()["success"] is True
    return session


def add_client_raw(panel, session, inbound_id, client):
    if panel.profile.clients_api:
        return session.post(
            panel.url + "panel/api/clients/add", json={"client": client, "inboundIds": [inbound_id]}
        ).json()
    settings = json.dumps({"clients": [client]})
    return session.post(
        prefix(panel) + "addClient", json={"id": inbound_id, "settings": settings}
    ).json()


def vless(email: str) -> dict:
    return {"id": str(uuid.uuid4()), "email": email, "enable": True, "subId": email}


def test_base_path_is_random_and_guards_everything():
    with FakeXuiPanel() as first, FakeXuiPanel() as second:
        assert first.base_path != second.base_path
        assert first.url.startswith("http://127.0.0.1:") and first.url.endswith("/")
        root = first.url[: -len(first.base_path)] + "/"
        assert requests.post(root + "login", data={"username": "admin"}).status_code == 404
        assert requests.get(first.url).headers["Content-Type"].startswith("text/html")


def test_session_cookie_name_follows_the_profile(panel):
    session = logged_in(panel)
    expected = {"v2": "3x-ui", "v2_old": "3x-ui", "v3_0": "3x-ui", "v3": "3x-ui", "legacy": "x-ui"}
    assert expected[panel.profile.name] in session.cookies.keys()


def test_wrong_password_is_http_200_success_false(panel):
    session = requests.Session()
    if panel.profile.csrf:
        session.headers["X-CSRF-Token"] = session.get(panel.url + "csrf-token").json()["obj"]
    answer = session.post(panel.url + "login", data={"username": "admin", "password": "nope"})
    assert answer.status_code == 200
    assert answer.json()["success"] is False
    assert "password" in answer.json()["msg"].lower()
    assert not session.cookies.get(panel.profile.cookie_name) or panel.profile.csrf


def test_unauthenticated_api_fails_the_way_the_version_does(panel):
    with_xhr = requests.get(list_url(panel), headers=XHR, allow_redirects=False)
    without = requests.get(list_url(panel), allow_redirects=False)
    kind = panel.profile.unauth
    if kind == "404":  # v2.8.4+: bare 404 whatever the headers
        assert (with_xhr.status_code, with_xhr.content) == (404, b"")
        assert without.status_code == 404
    elif kind == "401_bare":  # v3
        assert (with_xhr.status_code, with_xhr.content) == (401, b"")
        assert without.status_code == 404
    else:  # checkLogin: JSON with the XHR header, a 307 to the login page without
        assert with_xhr.status_code == 401
        assert with_xhr.json()["success"] is False
        assert without.status_code == 307


def test_inbound_json_fields_are_json_text(panel):
    inbound_id = panel.add_inbound("vless", security="reality")
    answer = logged_in(panel).get(list_url(panel)).json()
    inbound = answer["obj"][0]
    assert inbound["id"] == inbound_id
    for name in ("settings", "streamSettings", "sniffing"):
        assert isinstance(inbound[name], str)
        json.loads(inbound[name])
    assert json.loads(inbound["streamSettings"])["realitySettings"]["shortIds"]
    assert inbound["tag"] == f"inbound-{inbound['port']}"
    single = logged_in(panel).get(prefix(panel) + f"get/{inbound_id}").json()["obj"]
    assert single["clientStats"] is None  # only /list loads the stats


@pytest.mark.parametrize("profile", ["v2", "v2_old", "v3_0", "legacy"])
def test_add_client_wants_settings_as_text(profile):
    with FakeXuiPanel(profile=profile) as panel:
        inbound_id = panel.add_inbound("vless")
        session = logged_in(panel)
        as_object = session.post(
            prefix(panel) + "addClient",
            json={"id": inbound_id, "settings": {"clients": [vless("a")]}},
        ).json()
        assert as_object["success"] is False
        no_clients = session.post(
            prefix(panel) + "addClient", json={"id": inbound_id, "settings": "{}"}
        )
        assert (no_clients.status_code, no_clients.content) == (500, b"")  # Go panic
        assert panel.clients(inbound_id) == []
        assert panel.errors == []


def test_messages_use_the_version_format(panel):
    inbound_id = panel.add_inbound("vless")
    session = logged_in(panel)
    assert add_client_raw(panel, session, inbound_id, vless("dup"))["success"] is True
    msg = add_client_raw(panel, session, inbound_id, {**vless("DUP"), "subId": "x"})["msg"]
    assert "Duplicate email: DUP\n" in msg
    if panel.profile.msg_style == "paren":
        assert msg.endswith("(Duplicate email: DUP\n)")
    else:
        assert " Failed: Duplicate email: DUP\n" in msg


def test_email_uniqueness_is_panel_wide_and_case_insensitive(panel):
    first, second = panel.add_inbound("vless"), panel.add_inbound("vless")
    session = logged_in(panel)
    add_client_raw(panel, session, first, vless("Mia@x"))
    answer = add_client_raw(panel, session, second, {**vless("mia@X"), "subId": "other"})
    assert answer["success"] is False
    assert [c["email"] for _, c in panel.all_clients()] == ["Mia@x"]


@pytest.mark.parametrize("profile", ["v2", "v2_old", "v3_0", "legacy"])
def test_missing_protocol_key_is_empty_client_id(profile):
    with FakeXuiPanel(profile=profile) as panel:
        trojan = panel.add_inbound("trojan")
        answer = add_client_raw(panel, logged_in(panel), trojan, vless("no-password"))
        assert answer["success"] is False and "empty client ID" in answer["msg"]


def test_update_replaces_and_delete_uses_the_protocol_key():
    with FakeXuiPanel(profile="v2") as panel:
        trojan = panel.add_inbound("trojan")
        session = logged_in(panel)
        base = prefix(panel)
        for email in ("a", "b"):
            client = {"password": f"pw-{email}", "email": email, "comment": "c", "enable": True}
            add_client_raw(panel, session, trojan, client)
        new = {"password": "pw-a2", "email": "a", "enable": True}
        settings = json.dumps({"clients": [new]})
        assert session.post(
            base + "updateClient/pw-a", json={"id": trojan, "settings": settings}
        ).json()["success"]
        stored = {c["email"]: c for c in panel.clients(trojan)}["a"]
        assert stored["password"] == "pw-a2" and "comment" not in stored
        assert session.post(base + f"{trojan}/delClient/pw-b").json()["success"]
        last = session.post(base + f"{trojan}/delClient/pw-a2").json()
        assert "no client remained in Inbound" in last["msg"]
        assert [c["email"] for c in panel.clients(trojan)] == ["a"]


def test_unknown_traffic_email_per_version(panel):
    session = logged_in(panel)
    if panel.profile.clients_api:
        answer = session.get(panel.url + "panel/api/clients/traffic/nobody").json()
        assert answer == {"success": True, "msg": "", "obj": None}
    elif panel.profile.unknown_traffic_error:
        answer = session.get(prefix(panel) + "getClientTraffics/nobody").json()
        assert answer["success"] is False
        assert "Inbound Not Found For Email: nobody" in answer["msg"]
    else:
        answer = session.get(prefix(panel) + "getClientTraffics/nobody").json()
        assert answer["success"] is True and answer["obj"] is None


def test_onlines_is_null_when_nobody_is_online(panel):
    session = logged_in(panel)
    url = panel.url + (
        "panel/api/clients/onlines"
        if panel.profile.clients_api
        else panel.profile.api_prefix + "onlines"
    )
    assert session.post(url).json()["obj"] is None
    panel.set_online(["a"])
    assert session.post(url).json()["obj"] == ["a"]


@pytest.mark.parametrize("profile", ["v3_0", "v3"])
def test_v3_wants_csrf_on_login_and_posts_but_not_on_gets(profile):
    with FakeXuiPanel(profile=profile) as panel:
        bare = requests.Session()
        answer = bare.post(panel.url + "login", data={"username": "admin", "password": "secret"})
        assert (answer.status_code, answer.content) == (403, b"")
        session = logged_in(panel)
        token = session.headers.pop("X-CSRF-Token")
        assert session.get(list_url(panel)).json()["success"] is True
        onlines = "panel/api/clients/onlines" if profile == "v3" else "panel/api/inbounds/onlines"
        assert session.post(panel.url + onlines).status_code == 403
        assert session.post(panel.url + onlines, headers={"X-CSRF-Token": token}).ok


@pytest.mark.parametrize("profile", ["v3_0", "v3"])
def test_v3_bearer_token_replaces_cookie_and_csrf(profile):
    with FakeXuiPanel(profile=profile, api_token="tok") as panel:
        good = {"Authorization": "Bearer tok", **XHR}
        bad = {"Authorization": "Bearer nope", **XHR}
        assert requests.get(list_url(panel), headers=good).json()["success"] is True
        assert requests.get(list_url(panel), headers=bad).status_code == 401


def test_v3_6_has_client_routes_only_under_clients():
    with FakeXuiPanel(profile="v3") as panel:
        inbound_id = panel.add_inbound("vless")
        session = logged_in(panel)
        settings = json.dumps({"clients": [vless("a")]})
        old = session.post(
            panel.url + "panel/api/inbounds/addClient",
            json={"id": inbound_id, "settings": settings},
        )
        assert old.status_code == 404
        assert add_client_raw(panel, session, inbound_id, vless("a"))["success"] is True
        record = session.get(panel.url + "panel/api/clients/get/a").json()["obj"]
        assert record["inboundIds"] == [inbound_id]
        assert record["client"]["uuid"] == panel.clients(inbound_id)[0]["id"]
        assert session.post(panel.url + "panel/api/clients/del/a").json()["success"]
        assert panel.clients(inbound_id) == []  # the last client may go on v3.6


def test_old_paths_get_a_301_on_3x_ui():
    with FakeXuiPanel(profile="v2") as panel:
        answer = logged_in(panel).post(
            panel.url + "xui/API/inbounds/addClient", allow_redirects=False
        )
        assert answer.status_code == 301
        assert answer.headers["Location"] == panel.base_path + "panel/api/inbounds/addClient"


def test_expire_sessions_logs_everyone_out(panel):
    session = logged_in(panel)
    panel.expire_sessions()
    assert session.get(list_url(panel), allow_redirects=False).status_code in (401, 404)


def test_fail_next_counts_down_and_is_logged(panel):
    panel.fail_next(503, count=2)
    statuses = [requests.get(panel.url).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert panel.count("GET", "") == 3
    assert panel.request_log == [("GET", "")] * 3


def test_latency_and_hang_delay_answers():
    with FakeXuiPanel(latency=0.1) as panel:
        started = time.monotonic()
        requests.get(panel.url)
        assert time.monotonic() - started >= 0.1
        panel.faults.hang = 5
        with pytest.raises(requests.Timeout):
            requests.get(panel.url, timeout=0.2)


def test_html_and_truncated_json_faults(panel):
    session = logged_in(panel)
    panel.faults.truncated_json = True
    with pytest.raises(ValueError):
        json.loads(session.get(list_url(panel)).content)
    panel.clear_faults()
    panel.faults.html = True
    answer = session.get(list_url(panel))
    assert answer.status_code == 200 and answer.text.startswith("<!DOCTYPE html>")


def test_drop_after_add_stores_then_hangs_up(panel):
    inbound_id = panel.add_inbound("vless")
    session = logged_in(panel)
    panel.faults.drop_after_add = True
    with pytest.raises(requests.ConnectionError):
        add_client_raw(panel, session, inbound_id, vless("dropped"))
    assert panel.find_client("DROPPED") is not None


def test_stopped_panel_refuses_even_kept_alive_connections():
    panel = FakeXuiPanel().start()
    session = requests.Session()
    assert session.get(panel.url).ok  # leaves a pooled keep-alive connection
    panel.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(panel.url, timeout=1)


def test_restart_keeps_port_and_sessions():
    panel = FakeXuiPanel().start()
    session = logged_in(panel)
    url = panel.url
    panel.stop()
    panel.start()
    try:
        assert panel.url == url
        assert session.get(list_url(panel)).json()["success"] is True
    finally:
        panel.stop()


def test_populate_adds_many_unique_clients_fast():
    with FakeXuiPanel() as panel:
        inbound_id = panel.add_inbound("vless")
        started = time.monotonic()
        emails = panel.populate(inbound_id, 10_000)
        assert time.monotonic() - started < 2
        assert len(set(e.lower() for e in emails)) == 10_000
        assert len(panel.clients(inbound_id)) == 10_000
        assert panel.traffic(emails[-1])["inboundId"] == inbound_id


def test_concurrent_adds_keep_the_store_consistent(panel):
    inbound_id = panel.add_inbound("vless")
    session = logged_in(panel)
    results: list[bool] = []

    def add(i: int) -> None:
        # Half the emails collide in case: exactly one of each pair may win.
        email = f"user-{i // 2}".upper() if i % 2 else f"user-{i // 2}"
        results.append(add_client_raw(panel, session, inbound_id, vless(email))["success"])

    threads = [threading.Thread(target=add, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 10
    assert len(panel.clients(inbound_id)) == 10


def test_set_client_enable_follows_the_version(panel):
    inbound_id = panel.add_inbound("vless")
    add_client_raw(panel, logged_in(panel), inbound_id, vless("quota"))
    panel.set_client_enable("quota", False)
    assert panel.traffic("quota")["enable"] is False
    in_object = panel.clients(inbound_id)[0]["enable"]
    assert in_object is (not panel.profile.traffic_extras)  # old panels: stats row only


@pytest.mark.parametrize(
    "profile,keys",
    [
        ("v2_old", {"allowInsecure", "fingerprint"}),
        ("v2", {"fingerprint", "echConfigList"}),
        ("v3_0", {"fingerprint", "echConfigList"}),
        ("v3", {"fingerprint", "echConfigList", "pinnedPeerCertSha256", "verifyPeerCertByName"}),
    ],
)
def test_tls_inbounds_carry_the_client_tls_options_of_their_version(profile, keys):
    with FakeXuiPanel(profile=profile) as fake:
        inbound_id = fake.add_inbound("vless", network="ws", security="tls")
        settings = fake.inbound(inbound_id)["streamSettings"]["tlsSettings"]["settings"]
    assert set(settings) == keys
