"""A fake 3x-ui panel: a real HTTP server on 127.0.0.1 that behaves like the panel.

It exists so the panel client, provisioning services, the demo command and other
apps' tests can run against something that fails the way real panels fail,
without a VPS. Behaviour follows /work/shared/xui-api.md (our fact sheet), per
profile:

========  ============================================================================
profile   what it imitates
========  ============================================================================
v2        3x-ui v2.9.x: cookie ``3x-ui``, unauthenticated API = bare 404,
          ``text (error\\n)`` messages, refuses to delete an inbound's last client,
          unknown traffic email -> success:false "Inbound Not Found For Email".
v2_old    3x-ui v2.4.x: 401 JSON with the XHR header (307 without), ``text Failed:
          error`` messages, unknown traffic email -> success:true obj:null, unknown
          delClient key silently "succeeds".
v3_0      3x-ui v3.0.x: CSRF token on login and every POST, Bearer API token,
          client routes still under ``panel/api/inbounds``.
v3        3x-ui v3.6: as v3_0 but client routes only under ``panel/api/clients/*``;
          deleting an inbound's last client is allowed.
legacy    alireza0/x-ui: ``xui/API/inbounds/`` routes, cookie ``x-ui``, tgId is a
          string, 401 JSON with the XHR header.
========  ============================================================================

A TLS inbound made by ``add_inbound`` carries the client-side TLS options the
profile's inbound form saves (``Profile.tls_client``): ``allowInsecure`` up to 2.8.9,
none from 2.8.10 (3x-ui commit 511adffc "Remove allowInsecure"), and from v3.2/v3.4
``pinnedPeerCertSha256``/``verifyPeerCertByName``, which links carry as ``pcs``/``vcn``.

Usage::

    with FakeXuiPanel(profile="v2") as panel:
        inbound_id = panel.add_inbound("vless", security="reality")
        client = XuiClient(PanelConfig(panel.url, "admin", "secret"))
        ...
        assert panel.find_client("alice")

``panel.sub_url`` is the subscription server (``<sub_url><subId>``), serving links built
the way 3x-ui v2.9.4's sub/subService.go builds them (standins.xui_sub).

Faults (all take effect on the next request; ``panel.clear_faults()`` undoes them):

* ``panel.fail_next(status=500, count=1)`` — answer ``status`` with an empty body
  for the next ``count`` requests (``count=None``: until cleared).
* ``panel.faults.hang = 2.0`` — sleep before answering (beats a short read timeout).
* ``panel.faults.drop_after_add = True`` — perform the add, then hang up unanswered.
* ``panel.faults.drop_after_update = True`` — perform a client update, then hang up.
* ``panel.faults.down_after_update = True`` — as above, then answer 502 to everything
  (the panel went down right after a write: the caller cannot look it up).
* ``panel.faults.html = True`` — answer the HTML login page instead of JSON.
* ``panel.faults.truncated_json = True`` — cut every JSON answer in half.
* ``panel.faults.latency = 0.05`` — per-request delay (also the ``latency`` argument).
* ``panel.faults.drip = 0.2`` — send each answer's body one byte at a time, this far apart;
  ``panel.faults.drip_headers`` the same from the status line on.
* ``panel.expire_sessions()`` — every issued session cookie becomes invalid.
* ``panel.stop()`` — connections are refused from then on.

Stdlib only, on purpose: it must import anywhere, including Django-free tests.
"""

from __future__ import annotations

import base64
import copy
import hmac
import http.cookies
import json
import re
import secrets
import socket
import string
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from standins.xui_sub import sub_links

__all__ = ["PROFILES", "FakeXuiPanel", "Faults", "Profile"]

SUB_PATH = "/sub/"  # the subscription server's default subPath


@dataclass(frozen=True)
class Profile:
    name: str
    generation: str  # what XuiClient.detect() must answer for this panel
    cookie_name: str
    api_prefix: str  # where the inbound routes live
    client_routes: bool  # addClient/updateClient/... under api_prefix
    clients_api: bool  # panel/api/clients/* (v3.1+)
    csrf: bool
    bearer: bool
    unauth: str  # "404" | "401_bare" | "401_json"
    msg_style: str  # "paren" | "failed"
    refuse_last_client: bool
    unknown_traffic_error: bool  # v2.8.1+: success:false instead of obj:null
    unknown_delete_error: bool  # v2.9.4+: "Client Not Found In Inbound For ID"
    tg_id_string: bool
    redirect_old_paths: bool  # 3x-ui >= 1.7 answers xui/API... with a 301
    server_timestamps: bool  # created_at/updated_at on clients (v2.6.7+)
    traffic_extras: bool  # allTime/lastOnline/uuid/subId on traffic rows
    wrong_login_msg: str
    # What the inbound form saves as tlsSettings.settings (the client-side TLS options):
    # "insecure" = {allowInsecure, fingerprint} (<= v2.8.9 and the forks);
    # "plain" = {fingerprint, echConfigList} (v2.8.10 "Remove allowInsecure" .. v3.1);
    # "pins" = plain + pinnedPeerCertSha256 [] (v3.2+) + verifyPeerCertByName "" (v3.4+;
    # v3.6.0 frontend/src/schemas/protocols/security/tls.ts).
    tls_client: str = "insecure"


PROFILES: dict[str, Profile] = {
    "v2": Profile(
        name="v2",
        generation="v2",
        cookie_name="3x-ui",
        api_prefix="panel/api/inbounds/",
        client_routes=True,
        clients_api=False,
        csrf=False,
        bearer=False,
        unauth="404",
        msg_style="paren",
        refuse_last_client=True,
        unknown_traffic_error=True,
        unknown_delete_error=True,
        tg_id_string=False,
        redirect_old_paths=True,
        server_timestamps=True,
        traffic_extras=True,
        wrong_login_msg="Invalid username or password or two-factor code.",
        tls_client="plain",
    ),
    "v2_old": Profile(
        name="v2_old",
        generation="v2",
        cookie_name="3x-ui",
        api_prefix="panel/api/inbounds/",
        client_routes=True,
        clients_api=False,
        csrf=False,
        bearer=False,
        unauth="401_json",
        msg_style="failed",
        refuse_last_client=True,
        unknown_traffic_error=False,
        unknown_delete_error=False,
        tg_id_string=False,
        redirect_old_paths=True,
        server_timestamps=False,
        traffic_extras=False,
        wrong_login_msg="Invalid username or password or secret.",
        tls_client="insecure",
    ),
    "v3_0": Profile(
        name="v3_0",
        generation="v3",
        cookie_name="3x-ui",
        api_prefix="panel/api/inbounds/",
        client_routes=True,
        clients_api=False,
        csrf=True,
        bearer=True,
        unauth="401_bare",
        msg_style="paren",
        refuse_last_client=True,
        unknown_traffic_error=True,
        unknown_delete_error=True,
        tg_id_string=False,
        redirect_old_paths=True,
        server_timestamps=True,
        traffic_extras=True,
        wrong_login_msg="Invalid username or password or two-factor code.",
        tls_client="plain",
    ),
    "v3": Profile(
        name="v3",
        generation="v3_clients",
        cookie_name="3x-ui",
        api_prefix="panel/api/inbounds/",
        client_routes=False,
        clients_api=True,
        csrf=True,
        bearer=True,
        unauth="401_bare",
        msg_style="paren",
        refuse_last_client=False,
        unknown_traffic_error=False,
        unknown_delete_error=True,
        tg_id_string=False,
        redirect_old_paths=True,
        server_timestamps=True,
        traffic_extras=True,
        wrong_login_msg="Invalid username or password or two-factor code.",
        tls_client="pins",
    ),
    "legacy": Profile(
        name="legacy",
        generation="legacy",
        cookie_name="x-ui",
        api_prefix="xui/API/inbounds/",
        client_routes=True,
        clients_api=False,
        csrf=False,
        bearer=False,
        unauth="401_json",
        msg_style="failed",
        refuse_last_client=True,
        unknown_traffic_error=False,
        unknown_delete_error=False,
        tg_id_string=True,
        redirect_old_paths=False,
        server_timestamps=False,
        traffic_extras=False,
        wrong_login_msg="wrong username or password",
        tls_client="insecure",
    ),
}

LOGIN_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    b'<title>Login</title></head>\n<body><div id="app"><form class="login">'
    b'<input name="username"><input name="password" type="password">'
    b"</form></div></body>\n</html>\n"
)

_SESSION_EXPIRED = "Your session has expired, please log in again"
_WENT_WRONG = "Something went wrong"
_KEY_FIELDS = {
    "trojan": "password",
    "shadowsocks": "email",
    "hysteria": "auth",
    "hysteria2": "auth",
}


def _key_field(protocol: str) -> str:
    return _KEY_FIELDS.get(protocol, "id")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _b64key(nbytes: int = 32) -> str:
    return base64.b64encode(secrets.token_bytes(nbytes)).decode()


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass
class Faults:
    """Switches a test flips to make the panel misbehave; see the module docstring."""

    fail_status: int = 0
    fail_count: int | None = None  # None: every request while fail_status is set
    hang: float = 0.0
    drop_after_add: bool = False
    drop_after_update: bool = False
    down_after_update: bool = False
    html: bool = False
    truncated_json: bool = False
    latency: float = 0.0
    drip: float = 0.0  # send the answer's body one byte per ``drip`` seconds
    drip_headers: float = 0.0  # the same from the status line on


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    added: bool = False  # a client was stored: where drop_after_add hangs up
    updated: bool = False  # a client was replaced: where drop_after_update hangs up


_DROP = _Response(0)  # hang up without answering


def _raw_response(resp: _Response) -> bytes:
    """The answer as bytes on the wire, status line to body."""
    lines = [f"HTTP/1.1 {resp.status} {HTTPStatus(resp.status).phrase}"]
    if resp.content_type:
        lines.append(f"Content-Type: {resp.content_type}")
    lines.append(f"Content-Length: {len(resp.body)}")
    lines += [f"{name}: {value}" for name, value in resp.headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + resp.body


class _Panic(Exception):
    """Where the Go code would panic; gin's recovery turns it into an empty 500."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like gin, so session reuse is exercised
    server_version = "fake-3x-ui"
    # Headers and body go out in two writes; with Nagle on, the second waits
    # for a delayed ACK and every answer costs 40 ms.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.panel._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.panel._track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.panel._serve(self, "GET")

    def do_POST(self) -> None:
        self.server.panel._serve(self, "POST")

    def do_DELETE(self) -> None:
        self.server.panel._serve(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops connections when tests fire many requests at
    # once on a loaded machine (the client then sees a connect timeout).
    request_queue_size = 128
    daemon_threads = True
    # socketserver's default backlog of 5 drops connects when 20 threads call at once,
    # and a dropped SYN is retried after 1 s: a test's 1 s connect timeout then fails.
    request_queue_size = 128
    # A hanging handler must not make stop() wait for it.
    block_on_close = False

    def __init__(self, panel: FakeXuiPanel, port: int) -> None:
        self.panel = panel
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-answer is what the timeout tests are about.
        pass


class FakeXuiPanel:
    """An in-memory 3x-ui panel served over HTTP; see the module docstring."""

    def __init__(
        self,
        profile: str = "v2",
        username: str = "admin",
        password: str = "secret",
        api_token: str = "",
        latency: float = 0.0,
        base_path: str | None = None,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
        self.profile = PROFILES[profile]
        self.username = username
        self.password = password
        self.api_token = api_token if self.profile.bearer else ""
        self.latency = latency
        path = base_path if base_path is not None else _rand(10)
        self.base_path = "/" + path.strip("/") + "/" if path.strip("/") else "/"
        self.faults = Faults()
        self.request_log: list[tuple[str, str]] = []
        self.calls: Counter[tuple[str, str]] = Counter()
        self.errors: list[str] = []  # tracebacks of bugs in the fake itself
        self.port: int | None = None

        self._lock = threading.RLock()
        self._inbounds: dict[int, dict[str, Any]] = {}
        self._traffic: dict[str, dict[str, Any]] = {}  # lower(email) -> row
        self._email_inbound: dict[str, int] = {}  # lower(email) -> inbound id
        self._record_ids: dict[str, int] = {}  # lower(email) -> v3 client record id
        self._onlines: list[str] = []
        self._sessions: dict[str, dict[str, Any]] = {}
        self._next_inbound_id = 1
        self._next_row_id = 1
        self._next_record_id = 1
        self._next_port = 20000
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        self._stopping = threading.Event()
        self._routes = self._build_routes()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeXuiPanel:
        if self._server is not None:
            return self
        self._stopping.clear()
        # Restarting keeps the port and the sessions, like a real panel whose
        # signed-cookie sessions survive a restart.
        self._server = _Server(self, self.port or 0)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"fake-xui-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        # Keep-alive connections would otherwise go on being served by their
        # handler threads, and a "stopped" panel would still answer.
        with self._conn_lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                conn.close()
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeXuiPanel:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("start() the fake panel first")
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    @property
    def sub_url(self) -> str:
        """The subscription server's base (3x-ui's is its own listener, port 2096)."""
        if self.port is None:
            raise RuntimeError("start() the fake panel first")
        return f"http://127.0.0.1:{self.port}{SUB_PATH}"

    # ------------------------------------------------------------------ faults & log

    def fail_next(self, status: int = 500, count: int | None = 1) -> None:
        with self._lock:
            self.faults.fail_status = status
            self.faults.fail_count = count

    def clear_faults(self) -> None:
        with self._lock:
            self.faults = Faults()

    def expire_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    def count(self, method: str, route: str) -> int:
        """How many requests hit ``route`` (relative to the base path)."""
        with self._lock:
            return self.calls[(method, route)]

    @property
    def login_count(self) -> int:
        return self.count("POST", "login")

    def reset_log(self) -> None:
        with self._lock:
            self.request_log.clear()
            self.calls.clear()

    # ------------------------------------------------------------------ test helpers

    def add_inbound(
        self,
        protocol: str = "vless",
        port: int | None = None,
        remark: str = "",
        network: str = "tcp",
        security: str = "none",
        stream_settings: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        enable: bool = True,
    ) -> int:
        with self._lock:
            if port is None:
                while any(ib["port"] == self._next_port for ib in self._inbounds.values()):
                    self._next_port += 1
                port = self._next_port
                self._next_port += 1
            if any(ib["port"] == port for ib in self._inbounds.values()):
                raise ValueError(f"Port already exists: {port}")
            if settings is None:
                settings = _default_settings(protocol)
            if stream_settings is None:
                stream_settings = _default_stream(network, security, self.profile.tls_client)
            inbound_id = self._next_inbound_id
            self._next_inbound_id += 1
            inbound: dict[str, Any] = {
                "id": inbound_id,
                "up": 0,
                "down": 0,
                "total": 0,
                "remark": remark or f"{protocol}-{port}",
                "enable": enable,
                "expiryTime": 0,
                "listen": "",
                "port": port,
                "protocol": protocol,
                "settings": copy.deepcopy(settings),
                "streamSettings": copy.deepcopy(stream_settings),
                "tag": f"inbound-{port}",
                "sniffing": {
                    "enabled": False,
                    "destOverride": ["http", "tls", "quic", "fakedns"],
                    "metadataOnly": False,
                    "routeOnly": False,
                },
            }
            if self.profile.traffic_extras:
                inbound.update(allTime=0, trafficReset="never", lastTrafficResetTime=0)
            self._inbounds[inbound_id] = inbound
            for client in _clients_of(inbound):
                self._index_client(inbound_id, client)
            return inbound_id

    def remove_inbound(self, inbound_id: int) -> None:
        with self._lock:
            inbound = self._inbounds.pop(inbound_id)
            for client in _clients_of(inbound):
                self._forget_email(str(client.get("email") or ""))

    def inbound(self, inbound_id: int) -> dict[str, Any]:
        """The stored inbound, settings as dicts (a copy)."""
        with self._lock:
            return copy.deepcopy(self._inbounds[inbound_id])

    def clients(self, inbound_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(_clients_of(self._inbounds[inbound_id]))

    def all_clients(self) -> list[tuple[int, dict[str, Any]]]:
        with self._lock:
            return [
                (inbound_id, copy.deepcopy(client))
                for inbound_id, inbound in sorted(self._inbounds.items())
                for client in _clients_of(inbound)
            ]

    def find_client(self, email: str) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            found = self._locate(email)
            return (found[0], copy.deepcopy(found[1])) if found else None

    def traffic(self, email: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._traffic.get(email.lower())
            return copy.deepcopy(row) if row else None

    def set_traffic(self, email: str, up: int, down: int) -> None:
        with self._lock:
            row = self._traffic[email.lower()]
            row["up"], row["down"] = up, down
            if "allTime" in row:
                row["allTime"] = max(row["allTime"], up + down)

    def set_client_enable(self, email: str, enable: bool) -> None:
        """What the panel does when quota or time runs out.

        v2.9+/v3 flip ``enable`` in the client object too; older v2 and the
        alireza0 fork only touch the traffic row.
        """
        with self._lock:
            self._traffic[email.lower()]["enable"] = enable
            if self.profile.traffic_extras:
                found = self._locate(email)
                if found:
                    found[1]["enable"] = enable

    def set_online(self, emails: list[str]) -> None:
        with self._lock:
            self._onlines = list(emails)

    def delete_client_by_hand(self, email: str) -> None:
        """An operator deleting the client in the panel UI (no last-client rule)."""
        with self._lock:
            for inbound in self._inbounds.values():
                clients = _clients_of(inbound)
                clients[:] = [
                    c for c in clients if str(c.get("email") or "").lower() != email.lower()
                ]
            self._forget_email(email)

    def populate(self, inbound_id: int, n: int, prefix: str = "bench") -> list[str]:
        """Add ``n`` clients straight into the store (for 10k-client benchmarks)."""
        with self._lock:
            inbound = self._inbounds[inbound_id]
            key_field = _key_field(inbound["protocol"])
            clients = _clients_of(inbound)
            start = len(self._email_inbound)
            emails = []
            now = _now_ms()
            for i in range(n):
                email = f"{prefix}-{start + i}-{_rand(4).lower()}"
                client = {
                    "id": str(uuid.uuid4()),
                    "email": email,
                    "limitIp": 0,
                    "totalGB": 0,
                    "expiryTime": 0,
                    "enable": True,
                    "tgId": "" if self.profile.tg_id_string else 0,
                    "subId": _rand(16, string.ascii_lowercase + string.digits),
                    "reset": 0,
                }
                if key_field == "password":
                    client["password"] = _rand(10)
                if self.profile.server_timestamps:
                    client["created_at"] = client["updated_at"] = now
                clients.append(client)
                self._index_client(inbound_id, client)
                emails.append(email)
            return emails

    # ------------------------------------------------------------------ HTTP plumbing

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def _serve(self, handler: _Handler, method: str) -> None:
        try:
            length = _int(handler.headers.get("Content-Length"))
            raw = handler.rfile.read(length) if length else b""
            split = urlsplit(handler.path)
            path = split.path
            route = path[len(self.base_path) :] if path.startswith(self.base_path) else None
            with self._lock:
                key = (method, route if route is not None else path)
                self.request_log.append(key)
                self.calls[key] += 1
                faults = copy.copy(self.faults)
                if faults.fail_status and faults.fail_count is not None:
                    self.faults.fail_count = faults.fail_count - 1
                    if self.faults.fail_count <= 0:
                        self.faults.fail_status, self.faults.fail_count = 0, None
            delay = self.latency + faults.latency + faults.hang
            if delay:
                self._stopping.wait(delay)
            if self._stopping.is_set():
                handler.close_connection = True
                return
            if faults.fail_status:
                resp = _Response(faults.fail_status)
            elif faults.html:
                resp = _Response(200, LOGIN_PAGE, "text/html; charset=utf-8")
            elif method == "GET" and path.startswith(SUB_PATH):
                resp = self._subscription(unquote(path[len(SUB_PATH) :]), handler.headers)
            elif route is None:
                resp = _Response(404)
            else:
                resp = self._dispatch_safely(method, route, split.query, handler, raw, faults)
            if resp is _DROP:
                handler.close_connection = True
                return
            if faults.truncated_json and resp.body.startswith(b"{"):
                resp.body = resp.body[: max(1, len(resp.body) // 2)]
            if faults.drip_headers:
                # A slow-drip server that starts dripping at the status line: no
                # header is complete until the whole answer has arrived.
                handler.log_request(resp.status)
                self._drip(handler, _raw_response(resp), faults.drip_headers)
                return
            handler.send_response(resp.status)
            if resp.content_type:
                handler.send_header("Content-Type", resp.content_type)
            handler.send_header("Content-Length", str(len(resp.body)))
            for name, value in resp.headers:
                handler.send_header(name, value)
            handler.end_headers()
            if resp.body and faults.drip:
                # A slow-drip server: every byte arrives well within a read timeout,
                # the whole answer takes len(body) * drip seconds.
                self._drip(handler, resp.body, faults.drip)
            elif resp.body:
                handler.wfile.write(resp.body)
        except OSError:
            handler.close_connection = True

    def _drip(self, handler, data: bytes, interval: float) -> None:
        for index in range(len(data)):
            handler.wfile.write(data[index : index + 1])
            handler.wfile.flush()
            if self._stopping.wait(interval):
                handler.close_connection = True
                return

    def _subscription(self, sub_id: str, headers) -> _Response:
        # sub/subController.go: base64 of the newline-joined links (subEncrypt on);
        # an unknown subId is HTTP 400 "Error!". The address is the request's host.
        address = (headers.get("Host") or "127.0.0.1").rsplit(":", 1)[0].strip("[]")
        with self._lock:
            inbounds = [copy.deepcopy(self._inbounds[i]) for i in sorted(self._inbounds)]
        links = sub_links(inbounds, sub_id, address)
        if not sub_id or not links:
            return _Response(400, b"Error!", "text/plain; charset=utf-8")
        body = base64.b64encode("\n".join(links).encode())
        return _Response(200, body, "text/plain; charset=utf-8")

    def _dispatch_safely(self, method, route, query, handler, raw, faults) -> _Response:
        try:
            resp = self._dispatch(method, route, query, handler.headers, raw)
        except _Panic:
            return _Response(500)
        except Exception:  # a bug in the fake: keep it visible to the test
            self.errors.append(traceback.format_exc())
            return _Response(500)
        if resp.updated and faults.down_after_update:
            self.fail_next(502, count=None)
            return _DROP
        if (resp.added and faults.drop_after_add) or (resp.updated and faults.drop_after_update):
            return _DROP
        return resp

    def _dispatch(self, method: str, route: str, query: str, headers, raw: bytes) -> _Response:
        p = self.profile
        if p.redirect_old_paths and (route == "xui" or route.startswith("xui/")):
            # 3x-ui >= 1.7 sends old paths to their new home with a 301, which
            # HTTP clients follow as a GET: an old-style POST silently breaks.
            if route.startswith("xui/API"):
                target = "panel/api" + route[len("xui/API") :]
            else:
                target = "panel" + route[len("xui") :]
            return _Response(301, headers=[("Location", self.base_path + target)])
        if route == "" and method == "GET":
            return _Response(200, LOGIN_PAGE, "text/html; charset=utf-8")
        if route == "csrf-token" and method == "GET" and p.csrf:
            return self._csrf_token(headers)
        if route == "login" and method == "POST":
            return self._login(headers, raw)
        if route == "logout" and method == "GET":
            return _Response(307, headers=[("Location", self.base_path)])
        for route_method, pattern, func in self._routes:
            if route_method != method:
                continue
            match = pattern.fullmatch(route)
            if match is None:
                continue
            with self._lock:
                denied = self._authorize(method, headers, raw)
                if denied is not None:
                    return denied
                args = [unquote(g) for g in match.groups()]
                return func(*args, body=self._parse_body(headers, raw), query=parse_qs(query))
        return _Response(404)  # gin's NoRoute: bare, whoever asks

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., _Response]]]:
        p = self.profile
        prefix = re.escape(p.api_prefix)
        list_route = prefix if p.name == "legacy" else prefix + "list"
        table: list[tuple[str, str, Callable[..., _Response]]] = [
            ("GET", list_route, self._api_list),
            ("GET", prefix + r"get/(\d+)", self._api_get),
            ("POST", prefix + r"del/(\d+)", self._api_del_inbound),
        ]
        if p.client_routes:
            table += [
                ("POST", prefix + "addClient", self._api_add_client),
                ("POST", prefix + r"updateClient/([^/]+)", self._api_update_client),
                ("POST", prefix + r"(\d+)/delClient/([^/]+)", self._api_del_client),
                ("GET", prefix + r"getClientTraffics/([^/]+)", self._api_traffic),
                ("POST", prefix + r"(\d+)/resetClientTraffic/([^/]+)", self._api_reset),
                ("POST", prefix + "onlines", self._api_onlines),
            ]
        if p.clients_api:
            c = "panel/api/clients/"
            table += [
                ("GET", c + "list", self._c_list),
                ("GET", c + r"get/([^/]+)", self._c_get),
                ("GET", c + r"traffic/([^/]+)", self._c_traffic),
                ("POST", c + "add", self._c_add),
                ("POST", c + r"update/([^/]+)", self._c_update),
                ("POST", c + r"del/([^/]+)", self._c_del),
                ("POST", c + r"resetTraffic/([^/]+)", self._c_reset),
                ("POST", c + "onlines", self._api_onlines),
            ]
        return [(m, re.compile(r), f) for m, r, f in table]

    # ------------------------------------------------------------------ auth

    def _session(self, headers) -> tuple[str, dict[str, Any]] | None:
        jar = http.cookies.SimpleCookie()
        try:
            jar.load(headers.get("Cookie", ""))
        except http.cookies.CookieError:
            return None
        morsel = jar.get(self.profile.cookie_name)
        if morsel is None:
            return None
        session = self._sessions.get(morsel.value)
        return (morsel.value, session) if session is not None else None

    def _cookie(self, sid: str) -> tuple[str, str]:
        return (
            "Set-Cookie",
            f"{self.profile.cookie_name}={sid}; Path={self.base_path}; Max-Age=21600; "
            "HttpOnly; SameSite=Lax",
        )

    def _csrf_token(self, headers) -> _Response:
        with self._lock:
            found = self._session(headers)
            cookies = []
            if found is None:
                sid = secrets.token_urlsafe(24)
                session = {"auth": False, "csrf": secrets.token_urlsafe(24)}
                self._sessions[sid] = session
                cookies.append(self._cookie(sid))
            else:
                session = found[1]
            return self._json({"success": True, "msg": "", "obj": session["csrf"]}, cookies)

    def _login(self, headers, raw: bytes) -> _Response:
        p = self.profile
        body = self._parse_body(headers, raw)
        with self._lock:
            found = self._session(headers)
            if p.csrf:
                token = headers.get("X-CSRF-Token") or body.get("_csrf")
                if found is None or not token or token != found[1]["csrf"]:
                    return _Response(403)
            username = str(body.get("username") or "")
            password = str(body.get("password") or "")
            if not username:
                return self._msg(False, "Username is required")
            if not password:
                return self._msg(False, "Password is required")
            if not (
                hmac.compare_digest(username, self.username)
                and hmac.compare_digest(password, self.password)
            ):
                return self._msg(False, p.wrong_login_msg)
            if p.csrf:
                sid, session = found
                session["auth"] = True
            else:
                sid = secrets.token_urlsafe(24)
                self._sessions[sid] = {"auth": True, "csrf": ""}
            return self._json(
                {"success": True, "msg": "Logged in successfully", "obj": None},
                [self._cookie(sid)],
            )

    def _authorize(self, method: str, headers, raw: bytes) -> _Response | None:
        p = self.profile
        if p.bearer and self.api_token:
            auth = headers.get("Authorization", "")
            if auth.startswith("Bearer ") and hmac.compare_digest(auth[7:], self.api_token):
                return None  # a token replaces both the cookie and the CSRF check
        found = self._session(headers)
        if found is None or not found[1]["auth"]:
            xhr = headers.get("X-Requested-With") == "XMLHttpRequest"
            if p.unauth == "404":
                return _Response(404)
            if p.unauth == "401_bare":
                return _Response(401 if xhr else 404)
            if xhr:
                return self._json(
                    {"success": False, "msg": _SESSION_EXPIRED, "obj": None}, status=401
                )
            return _Response(307, headers=[("Location", self.base_path)])
        if p.csrf and method != "GET":
            token = headers.get("X-CSRF-Token") or self._parse_body(headers, raw).get("_csrf")
            if not token or token != found[1]["csrf"]:
                return _Response(403)
        return None

    # ------------------------------------------------------------------ answers

    def _json(
        self, obj: Any, headers: list[tuple[str, str]] | None = None, status: int = 200
    ) -> _Response:
        return _Response(
            status, json.dumps(obj).encode(), "application/json; charset=utf-8", headers or []
        )

    def _msg(self, success: bool, msg: str, obj: Any = None) -> _Response:
        return self._json({"success": success, "msg": msg, "obj": obj})

    def _ok(self, obj: Any = None, msg: str = "") -> _Response:
        return self._msg(True, msg, obj)

    def _fail(self, text: str, err: str) -> _Response:
        # Raw Go errors from common.NewError end in a newline (Sprintln).
        if self.profile.msg_style == "paren":
            return self._msg(False, f"{text} ({err})")
        return self._msg(False, f"{text} Failed: {err}")

    def _updated(self) -> _Response:
        resp = self._ok(None, "Inbound client has been updated.")
        resp.updated = True
        return resp

    def _added(self, msg: str) -> _Response:
        resp = self._ok(None, msg)
        resp.added = True
        return resp

    def _parse_body(self, headers, raw: bytes) -> dict[str, Any]:
        if not raw:
            return {}
        ctype = headers.get("Content-Type", "")
        if "json" in ctype:
            try:
                data = json.loads(raw)
            except ValueError:
                return {"__invalid__": True}
            return data if isinstance(data, dict) else {"__invalid__": True}
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in form.items()}

    # ------------------------------------------------------------------ store helpers

    def _locate(self, email: str) -> tuple[int, dict[str, Any]] | None:
        inbound_id = self._email_inbound.get(email.lower())
        if inbound_id is None or inbound_id not in self._inbounds:
            return None
        for client in _clients_of(self._inbounds[inbound_id]):
            if str(client.get("email") or "").lower() == email.lower():
                return inbound_id, client
        return None

    def _index_client(self, inbound_id: int, client: dict[str, Any]) -> None:
        email = str(client.get("email") or "")
        if not email:
            return
        low = email.lower()
        self._email_inbound.setdefault(low, inbound_id)
        if low not in self._record_ids:
            self._record_ids[low] = self._next_record_id
            self._next_record_id += 1
        if low in self._traffic:
            return
        row: dict[str, Any] = {
            "id": self._next_row_id,
            "inboundId": inbound_id,
            "enable": bool(client.get("enable", True)),
            "email": email,
            "up": 0,
            "down": 0,
            "expiryTime": _int(client.get("expiryTime")),
            "total": _int(client.get("totalGB")),
            "reset": _int(client.get("reset")),
        }
        if self.profile.traffic_extras:
            row.update(allTime=0, lastOnline=0)
        self._next_row_id += 1
        self._traffic[low] = row

    def _forget_email(self, email: str) -> None:
        low = email.lower()
        self._email_inbound.pop(low, None)
        self._traffic.pop(low, None)
        self._record_ids.pop(low, None)
        self._onlines = [e for e in self._onlines if e.lower() != low]

    def _row_json(self, row: dict[str, Any], client: dict[str, Any] | None) -> dict[str, Any]:
        out = dict(row)
        if self.profile.traffic_extras:
            if client is None:
                found = self._locate(row["email"])
                client = found[1] if found else None
            if client is not None:
                # v2.8.1+ read enable from the client object, v2.8.3+ add uuid/subId.
                out["enable"] = bool(client.get("enable", row["enable"]))
                out["uuid"] = str(client.get("id") or "")
                out["subId"] = str(client.get("subId") or "")
        return out

    def _inbound_json(self, inbound: dict[str, Any], with_stats: bool) -> dict[str, Any]:
        out = {k: v for k, v in inbound.items() if k not in ("settings", "streamSettings")}
        # The panel stores and serves these three as JSON *text*, indented.
        out["settings"] = json.dumps(inbound["settings"], indent=2)
        out["streamSettings"] = json.dumps(inbound["streamSettings"], indent=2)
        out["sniffing"] = json.dumps(inbound["sniffing"], indent=2)
        if with_stats:
            stats = []
            for client in _clients_of(inbound):
                row = self._traffic.get(str(client.get("email") or "").lower())
                if row is not None and row["inboundId"] == inbound["id"]:
                    stats.append(self._row_json(row, client))
            out["clientStats"] = stats
        else:
            out["clientStats"] = None
        return out

    def _parse_settings_field(self, body: dict[str, Any]) -> list[dict[str, Any]] | _Response:
        if body.get("__invalid__"):
            return self._fail(_WENT_WRONG, "invalid character in JSON body")
        settings = body.get("settings")
        if not isinstance(settings, str):
            return self._fail(
                _WENT_WRONG,
                "json: cannot unmarshal object into Go struct field Inbound.settings "
                "of type string",
            )
        try:
            clients = json.loads(settings)["clients"]
            if not isinstance(clients, list) or not all(isinstance(c, dict) for c in clients):
                raise TypeError
        except (ValueError, KeyError, TypeError) as exc:
            # AddInboundClient type-asserts settings["clients"] unchecked.
            raise _Panic from exc
        return clients

    def _check_tg_id(self, clients: list[dict[str, Any]]) -> _Response | None:
        if self.profile.tg_id_string:
            for client in clients:
                if "tgId" in client and not isinstance(client["tgId"], str):
                    return self._fail(
                        _WENT_WRONG,
                        "json: cannot unmarshal number into Go struct field Client.tgId "
                        "of type string",
                    )
        return None

    def _append_clients(self, inbound: dict[str, Any], clients: list[dict[str, Any]]) -> None:
        now = _now_ms()
        for client in clients:
            stored = copy.deepcopy(client)
            if self.profile.server_timestamps:
                stored.setdefault("created_at", now)
                stored["updated_at"] = now
            _clients_of(inbound).append(stored)
            self._index_client(inbound["id"], stored)

    def _replace_client(
        self, inbound: dict[str, Any], index: int, new: dict[str, Any]
    ) -> _Response | None:
        clients = _clients_of(inbound)
        old = clients[index]
        old_low = str(old.get("email") or "").lower()
        new_email = str(new.get("email") or "")
        new_low = new_email.lower()
        if new_low != old_low and new_low in self._email_inbound:
            return self._fail(_WENT_WRONG, f"Duplicate email: {new_email}\n")
        stored = copy.deepcopy(new)  # a replace, never a merge
        if self.profile.server_timestamps:
            stored["created_at"] = old.get("created_at", _now_ms())
            stored["updated_at"] = _now_ms()
        clients[index] = stored
        row = self._traffic.pop(old_low, None)
        self._email_inbound.pop(old_low, None)
        record_id = self._record_ids.pop(old_low, None)
        if new_low:
            self._email_inbound[new_low] = inbound["id"]
            if record_id is not None:
                self._record_ids[new_low] = record_id
            if row is None:
                self._index_client(inbound["id"], stored)
            else:
                # Usage counters survive an update; limits follow the new object.
                row.update(
                    email=new_email,
                    total=_int(stored.get("totalGB")),
                    expiryTime=_int(stored.get("expiryTime")),
                    enable=bool(stored.get("enable", True)),
                    reset=_int(stored.get("reset")),
                )
                self._traffic[new_low] = row
        return None

    # ------------------------------------------------------------------ inbound API

    def _api_list(self, *, body, query) -> _Response:
        inbounds = [self._inbound_json(ib, True) for _, ib in sorted(self._inbounds.items())]
        return self._ok(inbounds)

    def _api_get(self, inbound_id: str, *, body, query) -> _Response:
        inbound = self._inbounds.get(int(inbound_id))
        if inbound is None:
            return self._fail("Obtain", "record not found")
        return self._ok(self._inbound_json(inbound, False))

    def _api_del_inbound(self, inbound_id: str, *, body, query) -> _Response:
        if int(inbound_id) not in self._inbounds:
            return self._fail(_WENT_WRONG, "record not found")
        self.remove_inbound(int(inbound_id))
        return self._ok(int(inbound_id), "Inbound has been deleted.")

    def _api_add_client(self, *, body, query) -> _Response:
        clients = self._parse_settings_field(body)
        if isinstance(clients, _Response):
            return clients
        seen: set[str] = set()
        for client in clients:
            email = str(client.get("email") or "")
            low = email.lower()
            if email and (low in self._email_inbound or low in seen):
                return self._fail(_WENT_WRONG, f"Duplicate email: {email}\n")
            seen.add(low)
        inbound = self._inbounds.get(_int(body.get("id"), -1))
        if inbound is None:
            return self._fail(_WENT_WRONG, "record not found")
        key_field = _key_field(inbound["protocol"])
        if any(not client.get(key_field) for client in clients):
            return self._fail(_WENT_WRONG, "empty client ID\n")
        bad = self._check_tg_id(clients)
        if bad is not None:
            return bad
        self._append_clients(inbound, clients)
        return self._added("Inbound client(s) have been added.")

    def _api_update_client(self, client_id: str, *, body, query) -> _Response:
        clients = self._parse_settings_field(body)
        if isinstance(clients, _Response):
            return clients
        inbound = self._inbounds.get(_int(body.get("id"), -1))
        if inbound is None:
            return self._fail(_WENT_WRONG, "record not found")
        key_field = _key_field(inbound["protocol"])
        index = _index_by_key(inbound, key_field, client_id)
        if index is None or not clients or not clients[0].get(key_field):
            return self._fail(_WENT_WRONG, "empty client ID\n")
        bad = self._check_tg_id(clients[:1])
        if bad is not None:
            return bad
        bad = self._replace_client(inbound, index, clients[0])
        return bad or self._updated()

    def _api_del_client(self, inbound_id: str, client_id: str, *, body, query) -> _Response:
        inbound = self._inbounds.get(int(inbound_id))
        if inbound is None:
            return self._fail(_WENT_WRONG, "record not found")
        index = _index_by_key(inbound, _key_field(inbound["protocol"]), client_id)
        if index is None:
            if self.profile.unknown_delete_error:
                return self._fail(_WENT_WRONG, f"Client Not Found In Inbound For ID: {client_id}\n")
            return self._ok(None, "Inbound client has been deleted.")
        clients = _clients_of(inbound)
        if self.profile.refuse_last_client and len(clients) == 1:
            return self._fail(_WENT_WRONG, "no client remained in Inbound\n")
        removed = clients.pop(index)
        self._forget_email(str(removed.get("email") or ""))
        return self._ok(None, "Inbound client has been deleted.")

    def _api_traffic(self, email: str, *, body, query) -> _Response:
        row = self._traffic.get(email.lower())
        if row is None or row["email"] != email:  # WHERE email = ? is case-sensitive
            if self.profile.unknown_traffic_error:
                return self._fail(
                    "Error getting traffics.", f"Inbound Not Found For Email: {email}\n"
                )
            return self._ok(None)
        return self._ok(self._row_json(row, None))

    def _api_reset(self, inbound_id: str, email: str, *, body, query) -> _Response:
        row = self._traffic.get(email.lower())
        if row is not None:
            row["up"] = row["down"] = 0
            row["enable"] = True
        return self._ok(None, "Traffic has been reset.")

    def _api_onlines(self, *, body, query) -> _Response:
        return self._ok(list(self._onlines) or None)  # null when nobody is online

    # ------------------------------------------------------------------ v3.1+ clients API

    def _record(self, client: dict[str, Any]) -> dict[str, Any]:
        low = str(client.get("email") or "").lower()
        return {
            "id": self._record_ids.get(low, 0),
            "email": client.get("email", ""),
            "subId": client.get("subId", ""),
            "uuid": client.get("id", ""),
            "password": client.get("password", ""),
            "auth": client.get("auth", ""),
            "flow": client.get("flow", ""),
            "security": client.get("security", ""),
            "reverse": None,
            "limitIp": client.get("limitIp", 0),
            "limitHwid": 0,
            "totalGB": client.get("totalGB", 0),
            "expiryTime": client.get("expiryTime", 0),
            "enable": client.get("enable", True),
            "tgId": client.get("tgId", 0),
            "group": "",
            "comment": client.get("comment", ""),
            "reset": client.get("reset", 0),
            "trafficReset": "never",
            "trafficResetDay": 1,
            "createdAt": client.get("created_at", 0),
            "updatedAt": client.get("updated_at", 0),
        }

    def _attached(self, email: str) -> list[tuple[int, int]]:
        """(inbound id, index) of every inbound holding this email."""
        low = email.lower()
        out = []
        for inbound_id, inbound in sorted(self._inbounds.items()):
            for index, client in enumerate(_clients_of(inbound)):
                if str(client.get("email") or "").lower() == low:
                    out.append((inbound_id, index))
        return out

    def _fill_defaults(self, client: dict[str, Any], inbound: dict[str, Any]) -> None:
        protocol = inbound["protocol"]
        if protocol in ("vless", "vmess") and not client.get("id"):
            client["id"] = str(uuid.uuid4())
        elif protocol == "trojan" and not client.get("password"):
            client["password"] = uuid.uuid4().hex
        elif protocol == "shadowsocks" and not client.get("password"):
            client["password"] = _b64key(32)

    def _c_list(self, *, body, query) -> _Response:
        clients: dict[str, dict[str, Any]] = {}
        attached: dict[str, list[int]] = {}
        for inbound_id, inbound in sorted(self._inbounds.items()):
            for client in _clients_of(inbound):
                low = str(client.get("email") or "").lower()
                if low:
                    clients.setdefault(low, client)
                    attached.setdefault(low, []).append(inbound_id)
        rows = []
        for low in sorted(clients):
            record = self._record(clients[low])
            record["inboundIds"] = attached[low]
            row = self._traffic.get(low)
            record["traffic"] = self._row_json(row, clients[low]) if row else None
            rows.append(record)
        return self._ok(rows)

    def _c_get(self, email: str, *, body, query) -> _Response:
        found = self._locate(email)
        if found is None:
            return self._fail("Get", "record not found")
        row = self._traffic.get(email.lower()) or {"up": 0, "down": 0}
        return self._ok(
            {
                "client": self._record(found[1]),
                "inboundIds": [i for i, _ in self._attached(email)],
                "externalLinks": [],
                "usedTraffic": row["up"] + row["down"],
            }
        )

    def _c_traffic(self, email: str, *, body, query) -> _Response:
        row = self._traffic.get(email.lower())
        return self._ok(self._row_json(row, None) if row else None)

    def _c_add(self, *, body, query) -> _Response:
        client = body.get("client")
        if body.get("__invalid__") or not isinstance(client, dict):
            return self._fail(_WENT_WRONG, "invalid request body")
        client = copy.deepcopy(client)
        email = str(client.get("email") or "").strip()
        if not email:
            return self._fail(_WENT_WRONG, "client email is required\n")
        inbound_ids = [_int(i, -1) for i in body.get("inboundIds") or []]
        if not inbound_ids:
            return self._fail(_WENT_WRONG, "at least one inbound is required\n")
        client.setdefault("subId", str(uuid.uuid4()))
        client["enable"] = True  # ClientService.Create forces new clients on
        found = self._locate(email)
        if found is not None and found[1].get("email") == email:
            if not found[1].get("subId") or found[1].get("subId") != client.get("subId"):
                return self._fail(_WENT_WRONG, f"email already in use: {email}\n")
        for inbound_id in inbound_ids:
            inbound = self._inbounds.get(inbound_id)
            if inbound is None:
                return self._fail(_WENT_WRONG, "record not found")
            if email.lower() in self._email_inbound:
                return self._fail(_WENT_WRONG, f"Duplicate email: {email}\n")
            per_inbound = copy.deepcopy(client)
            self._fill_defaults(per_inbound, inbound)
            self._append_clients(inbound, [per_inbound])
            # Further inbounds carry the same client under the same email.
            self._email_inbound.pop(email.lower(), None)
        self._email_inbound[email.lower()] = inbound_ids[0]
        return self._added("Inbound client(s) have been added.")

    def _c_update(self, email: str, *, body, query) -> _Response:
        if body.get("__invalid__"):
            return self._fail(_WENT_WRONG, "invalid request body")
        new = copy.deepcopy(body)
        found = self._locate(email)
        if found is None:
            return self._fail(_WENT_WRONG, "record not found")
        if not str(new.get("email") or "").strip():
            return self._fail(_WENT_WRONG, "client email is required\n")
        if not new.get("subId"):
            new["subId"] = found[1].get("subId", "")
        for inbound_id, index in self._attached(email):
            inbound = self._inbounds[inbound_id]
            per_inbound = copy.deepcopy(new)
            self._fill_defaults(per_inbound, inbound)
            bad = self._replace_client(inbound, index, per_inbound)
            if bad is not None:
                return bad
        return self._updated()

    def _c_del(self, email: str, *, body, query) -> _Response:
        attached = self._attached(email)
        if not attached:
            return self._fail(_WENT_WRONG, "record not found")
        for inbound_id, index in reversed(attached):
            _clients_of(self._inbounds[inbound_id]).pop(index)
        keep = query.get("keepTraffic", [""])[-1] == "1"
        row = self._traffic.get(email.lower())
        self._forget_email(email)
        if keep and row is not None:
            self._traffic[email.lower()] = row
        return self._ok(None, "Inbound client has been deleted.")

    def _c_reset(self, email: str, *, body, query) -> _Response:
        if self._locate(email) is None:
            return self._fail(_WENT_WRONG, "record not found")
        return self._api_reset("0", email, body=body, query=query)


# ---------------------------------------------------------------------- seed data


def _clients_of(inbound: dict[str, Any]) -> list[dict[str, Any]]:
    settings = inbound["settings"]
    if not isinstance(settings, dict):
        return []
    return settings.setdefault("clients", [])


def _index_by_key(inbound: dict[str, Any], key_field: str, key: str) -> int | None:
    for index, client in enumerate(_clients_of(inbound)):
        if str(client.get(key_field) or "") == key:
            return index
    return None


def _default_settings(protocol: str) -> dict[str, Any]:
    if protocol == "vless":
        return {"clients": [], "decryption": "none", "encryption": "none", "fallbacks": []}
    if protocol == "vmess":
        return {"clients": []}
    if protocol == "trojan":
        return {"clients": [], "fallbacks": []}
    if protocol == "shadowsocks":
        return {
            "method": "2022-blake3-aes-256-gcm",
            "password": _b64key(32),
            "network": "tcp,udp",
            "clients": [],
            "ivCheck": False,
        }
    return {"clients": []}


def _tls_client_settings(shape: str) -> dict[str, Any]:
    if shape == "insecure":
        return {"allowInsecure": False, "fingerprint": "chrome"}
    settings: dict[str, Any] = {"fingerprint": "chrome", "echConfigList": ""}
    if shape == "pins":
        settings.update(pinnedPeerCertSha256=[], verifyPeerCertByName="")
    return settings


def _default_stream(network: str, security: str, tls_client: str = "insecure") -> dict[str, Any]:
    stream: dict[str, Any] = {"network": network, "security": security, "externalProxy": []}
    if network == "tcp":
        stream["tcpSettings"] = {"acceptProxyProtocol": False, "header": {"type": "none"}}
    elif network == "ws":
        stream["wsSettings"] = {
            "acceptProxyProtocol": False,
            "path": "/ws",
            "host": "",
            "headers": {},
        }
    elif network == "grpc":
        stream["grpcSettings"] = {"serviceName": "grpc", "authority": "", "multiMode": False}
    elif network == "httpupgrade":
        stream["httpupgradeSettings"] = {"path": "/up", "host": ""}
    elif network == "xhttp":
        stream["xhttpSettings"] = {"path": "/xh", "host": "", "mode": "auto"}
    if security == "tls":
        stream["tlsSettings"] = {
            "serverName": "vpn.example.com",
            "minVersion": "1.2",
            "maxVersion": "1.3",
            "alpn": ["h2", "http/1.1"],
            "certificates": [{"certificateFile": "/root/cert.crt", "keyFile": "/root/private.key"}],
            "settings": _tls_client_settings(tls_client),
        }
    elif security == "reality":
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        stream["realitySettings"] = {
            "show": False,
            "xver": 0,
            "dest": "www.microsoft.com:443",
            "serverNames": ["www.microsoft.com", "microsoft.com"],
            "privateKey": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
            "shortIds": [secrets.token_hex(4), secrets.token_hex(8)],
            "settings": {
                "publicKey": key,
                "fingerprint": "chrome",
                "serverName": "",
                "spiderX": "/",
            },
        }
    return stream
