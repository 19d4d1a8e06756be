"""Repointing a panel's URL never sends its stored credentials to the new address,
only http(s) URLs without user:password@ are taken, and what a server answers is
never stored in last_error (which staff read over the API)."""

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tests.samples import PANEL_PASSWORD, make_panel, make_plan
from billing.models import Order
from billing.services import order_pay_from_wallet, wallet_credit
from panels.health import panel_test_connection
from panels.models import Inbound, Panel
from panels.provisioning import Outcome, order_provision
from panels.sessions import panel_clients_reset
from panels.sync import panel_sync
from panels.xui import PanelError

pytestmark = pytest.mark.django_db

BODY = "INTERNAL-ONLY-" + "x" * 180


class Listener:
    """A server of the attacker's: records what it is sent, answers 502 with a body."""

    def __init__(self, status=502, body=BODY, content_type="text/plain"):
        self.requests: list[tuple[str, str, bytes]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                listener.requests.append((self.command, self.path, self.rfile.read(length)))
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/panel/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def received(self) -> bytes:
        return b"".join(path.encode() + body for _method, path, body in self.requests)


@pytest.fixture
def listener(settings):
    settings.PANEL_CONNECT_TIMEOUT = 1.0
    settings.PANEL_READ_TIMEOUT = 2.0
    server = Listener()
    yield server
    server.close()
    panel_clients_reset()


@pytest.fixture
def api(staff_user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return client


def test_repointing_over_the_api_without_the_password_is_refused(api, listener):
    panel = make_panel()

    response = api.patch(f"/api/v1/panels/{panel.pk}/", {"base_url": listener.url}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    panel.refresh_from_db()
    assert panel.base_url == "https://frankfurt-1.example.com:2053/AbCdEf/"
    assert panel.password == PANEL_PASSWORD


def test_repointed_panel_never_sends_the_old_password(api, listener):
    panel = make_panel()
    # The API refuses it; a shell or any other path that saves the row gets the same rule.
    panel.base_url = listener.url
    panel.save()

    panel.refresh_from_db()
    assert (panel.username, panel.password, panel.api_token) == ("", "", "")
    with pytest.raises(SystemExit):  # the sync fails: nothing to log in with
        call_command("sync_panels", stdout=io.StringIO())
    assert listener.requests  # it was asked, without the secrets
    assert PANEL_PASSWORD.encode() not in listener.received()
    assert b"panel-admin" not in listener.received()


def test_new_url_with_the_password_entered_again_keeps_it(api, listener):
    panel = make_panel()

    response = api.patch(
        f"/api/v1/panels/{panel.pk}/",
        {"base_url": "https://new-host.example.com/AbCdEf/", "password": PANEL_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    panel.refresh_from_db()
    assert panel.password == PANEL_PASSWORD
    assert panel.base_url == "https://new-host.example.com/AbCdEf/"
    # Not sent again: the old username is not carried to the new URL either.
    assert panel.username == ""


def test_other_edits_keep_the_credentials(api):
    panel = make_panel()

    response = api.patch(f"/api/v1/panels/{panel.pk}/", {"capacity": 5}, format="json")
    assert response.status_code == 200
    panel.refresh_from_db()
    panel.capacity = 6
    panel.save()

    panel.refresh_from_db()
    assert (panel.username, panel.password, panel.capacity) == ("panel-admin", PANEL_PASSWORD, 6)


def test_repointing_in_the_console_asks_for_the_password_again(admin_client, listener):
    panel = make_panel()
    url = reverse("admin:panels_panel_change", args=[panel.pk])
    form = {
        "name": panel.name,
        "location_name": panel.location_name,
        "location_flag": panel.location_flag,
        "is_active": "on",
        "sort_order": "0",
        "capacity": "100",
        "base_url": listener.url,
        "username": "panel-admin",
        "password": "",
        "api_token": "",
        "verify_tls": "on",
        "public_host": panel.public_host,
        "sub_base_url": "",
    }

    response = admin_client.post(url, form, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "type the password (or the API token) again" in response.content.decode()
    panel.refresh_from_db()
    assert panel.base_url != listener.url and panel.password == PANEL_PASSWORD

    response = admin_client.post(url, {**form, "password": "typed-again"})
    assert response.status_code == 302
    panel.refresh_from_db()
    assert (panel.base_url, panel.username, panel.password) == (
        listener.url,
        "panel-admin",
        "typed-again",
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://panel.example.com/",
        "file:///etc/passwd",
        "https://admin:secret@panel.example.com:2053/x/",
        "https://user@panel.example.com/",
    ],
)
def test_only_http_urls_without_userinfo_are_taken(api, url):
    panel = make_panel()

    response = api.patch(
        f"/api/v1/panels/{panel.pk}/", {"base_url": url, "password": "p"}, format="json"
    )
    assert response.status_code == 400
    assert "base_url" in response.json()["errors"]
    with pytest.raises(ValidationError):
        Panel.objects.create(name="x", location_name="y", base_url=url, public_host="h")
    panel.refresh_from_db()
    assert panel.base_url.startswith("https://frankfurt-1")


@pytest.mark.parametrize(
    "status, body, content_type",
    [
        (502, BODY, "text/plain"),
        (200, "<html>" + BODY, "text/html"),
        (200, '{"success": false, "msg": "' + BODY + '"}', "application/json"),
        (200, "not json " + BODY, "application/json"),
        (418, BODY, "text/plain"),
    ],
)
def test_last_error_never_carries_what_the_server_answered(
    api, settings, status, body, content_type
):
    settings.PANEL_CONNECT_TIMEOUT, settings.PANEL_READ_TIMEOUT = 1.0, 2.0
    server = Listener(status=status, body=body, content_type=content_type)
    try:
        panel = make_panel(base_url=server.url, username="u", password="p")
        result = panel_sync(panel=panel)
        with pytest.raises(PanelError):
            panel_test_connection(panel=panel)
    finally:
        server.close()
        panel_clients_reset()

    assert not result.ok and "INTERNAL-ONLY" not in result.error
    panel.refresh_from_db()
    assert panel.last_error and len(panel.last_error) <= 300
    assert "INTERNAL-ONLY" not in panel.last_error
    assert "INTERNAL-ONLY" not in api.get(f"/api/v1/panels/{panel.pk}/").content.decode()


def test_an_orders_last_error_never_carries_what_the_server_answered(
    api, customer, xui_panel, fake_xui, listener
):
    remote = fake_xui.add_inbound("vless")
    assert panel_sync(panel=xui_panel).ok
    inbound = Inbound.objects.get(panel=xui_panel, remote_id=remote)
    Inbound.objects.filter(pk=inbound.pk).update(is_sellable=True)
    plan = make_plan()
    wallet_credit(user_id=customer.pk, amount=plan.price, kind="topup", idempotency_key="t1")
    order = Order.objects.create(
        user=customer, plan=plan, panel=xui_panel, inbound=inbound, amount=plan.price
    )
    order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)
    # The panel now answers from somewhere else (update(): as if it had moved there).
    Panel.objects.filter(pk=xui_panel.pk).update(base_url=listener.url, api_generation="")

    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING

    order.refresh_from_db()
    assert order.last_error and "INTERNAL-ONLY" not in order.last_error
    assert "INTERNAL-ONLY" not in api.get(f"/api/v1/orders/{order.pk}/").content.decode()


def test_add_panel_refuses_a_url_with_user_and_password():
    with pytest.raises(CommandError, match="without user:password@"):
        call_command(
            "add_panel",
            "--name=x",
            "--location=DE",
            "--url=https://admin:secret@panel.example.com:2053/",
            "--username=admin",
            "--password=secret",
        )
    assert not Panel.objects.exists()
