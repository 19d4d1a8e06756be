"""Client for the 3x-ui panel HTTP API (and the alireza0/x-ui fork), every generation.

Sellers run whatever panel version they installed years ago next to the newest
v3, so one client speaks four API generations (see ``API_GENERATIONS``) and hides
their differences behind plain dicts in the panel's own client shape.

Panel quirks this module is built around (facts in /work/shared/xui-api.md):

* Business errors are HTTP 200 with ``success: false``; only ``success`` counts.
  Messages are localized text plus the raw error, in two formats across versions,
  so we match substrings ("Duplicate email") and send ``Accept-Language: en-US``.
* A lost session looks different per version: 401 JSON, a bare 404 (v2.8.4+), a
  307 to the login page (without the XHR header), or HTML. We always send
  ``X-Requested-With`` so it is machine-readable, treat all of them as "session
  gone", log in once more and retry once.
* We never follow redirects: 3x-ui >= 1.7 answers old ``xui/API`` paths with a
  301, and requests would replay a POST as a GET.
* v3 wants a CSRF token (from ``GET csrf-token``) on login and on every POST,
  unless a Bearer API token is used; a stale token is a bare 403.
* v3.1 moved all client operations to ``panel/api/clients/*``; a panel upgraded
  under us shows up as 404s on routes that used to exist, so we re-detect once.
* ``settings``/``streamSettings``/``sniffing`` come as JSON text (newer v3 builds
  send objects); callers always get dicts.
* A write that timed out may still have happened. We never retry writes blindly;
  ``find_client`` lets the caller check before it tries again.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import requests
import urllib3

from .deadline import Deadline, mount_deadline_adapter
from .errors import (
    ClientNotFound,
    DuplicateEmail,
    LastClientError,
    PanelAuthError,
    PanelError,
    PanelRejected,
    PanelUnavailable,
)
from .records import ClientTraffic

logger = logging.getLogger(__name__)

LEGACY = "legacy"
V2 = "v2"
V3 = "v3"
V3_CLIENTS = "v3_clients"

API_GENERATIONS: tuple[tuple[str, str], ...] = (
    (LEGACY, "x-ui (alireza0) / 3x-ui before 1.4.6 — xui/API"),
    (V2, "3x-ui 1.4.6 – 2.9.x — panel/api, cookie"),
    (V3, "3x-ui 3.0.x — CSRF or API token"),
    (V3_CLIENTS, "3x-ui 3.1+ — panel/api/clients"),
)
_GENERATION_VALUES = frozenset(value for value, _ in API_GENERATIONS)
_CSRF_GENERATIONS = frozenset({V3, V3_CLIENTS})

_SNIPPET_BYTES = 200
_KEY_FIELDS = {
    "trojan": "password",
    "shadowsocks": "email",
    "hysteria": "auth",
    "hysteria2": "auth",
}
# Record fields v3.1+ sends as "" where the panel's client object simply has no key.
_RECORD_OPTIONAL = frozenset(
    "password auth flow reverse secret adTag privateKey publicKey allowedIPs preSharedKey".split()
)
_NOT_FOUND = ("record not found", "not found")

T = TypeVar("T")


@dataclass
class PanelConfig:
    """Where a panel is and how to get in. ``base_url`` includes the web base path."""

    base_url: str
    username: str = ""
    password: str = field(default="", repr=False)
    api_token: str = field(default="", repr=False)
    verify_tls: bool = True
    api_generation: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    # Wall-clock bound on one request's answer. read_timeout is per socket read: a
    # panel dripping a byte a second never trips it (one call was held 66 s).
    deadline: float = 30.0

    def __post_init__(self) -> None:
        # Every panel route hangs off the base path, so a missing slash would
        # silently drop its last segment when routes are appended.
        self.base_url = self.base_url.strip()
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        if self.api_generation and self.api_generation not in _GENERATION_VALUES:
            raise ValueError(f"unknown api_generation {self.api_generation!r}")


def client_key(protocol: str, client: dict[str, Any]) -> str:
    """The value the panel identifies a client by in update/delete paths.

    It depends on the protocol: the UUID for vless/vmess, the password for
    trojan, the email for shadowsocks.
    """
    return str(client.get(_KEY_FIELDS.get(protocol.lower(), "id")) or "")


# ---------------------------------------------------------------------- internal signals


class _Gone(Exception):
    """The answer means "not logged in" (or, after a fresh login, "no such route")."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind, detail)
        self.kind = kind  # unauthorized | not_found | redirect | html | expired
        self.detail = detail


class _Forbidden(Exception):
    pass


class _RouteGone(Exception):
    def __init__(self, route: str, generation: str) -> None:
        super().__init__(route)
        self.route = route
        self.generation = generation


def _snippet(content: bytes) -> str:
    return content[:_SNIPPET_BYTES].decode("utf-8", "replace").strip()


def _path(value: Any) -> str:
    # Gin matches on the decoded path, so an escaped "/" would still split the
    # route; everything else survives percent-encoding.
    return quote(str(value), safe="@")


def _looks_expired(msg: str) -> bool:
    low = msg.lower()
    return any(s in low for s in ("session has expired", "log in again", "login again"))


def _describe(exc: BaseException) -> str:
    # requests' messages embed the full URL, and with it the panel's secret
    # web base path; the underlying reason is what an operator needs.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return f"{type(exc).__name__}: {reason or exc}"


def _parse_json_text(value: Any, name: str) -> Any:
    if value is None:
        return {}
    if not isinstance(value, str):
        return value  # newer v3 builds already send objects
    if not value.strip():
        return {}
    try:
        return json.loads(value)
    except ValueError as exc:
        raise PanelUnavailable(
            f"inbound {name} is not valid JSON", remote=repr(value[:_SNIPPET_BYTES])
        ) from exc


def _parse_inbound(inbound: dict[str, Any]) -> dict[str, Any]:
    out = dict(inbound)
    for name in ("settings", "streamSettings", "sniffing"):
        if name in out:
            out[name] = _parse_json_text(out[name], name)
    return out


def _record_to_client(record: dict[str, Any]) -> dict[str, Any]:
    """A v3.1+ client record in the shape ``settings.clients[]`` uses elsewhere."""
    client = dict(record)
    client.pop("id", None)  # the record's database id, not the client's UUID
    uuid = client.pop("uuid", "")
    if uuid:
        client["id"] = uuid
    for key in _RECORD_OPTIONAL:
        if client.get(key) in ("", None):
            client.pop(key, None)
    for camel, snake in (("createdAt", "created_at"), ("updatedAt", "updated_at")):
        if camel in client:
            client[snake] = client.pop(camel)
    return client


class XuiClient:
    """One panel, one ``requests.Session``; safe to share between threads."""

    def __init__(self, config: PanelConfig) -> None:
        self.config = config
        self.api_generation = config.api_generation
        self._session = requests.Session()
        mount_deadline_adapter(self._session)
        self._session.headers.update(
            {
                # Without it an expired session is a 307 to an HTML page.
                "X-Requested-With": "XMLHttpRequest",
                # The first half of every message is localized; keep it English.
                "Accept-Language": "en-US",
                "Accept": "application/json",
            }
        )
        self._lock = threading.RLock()
        self._csrf_token = ""
        self._logged_in = False
        self._auth_epoch = 0
        self._csrf_required = self.api_generation in _CSRF_GENERATIONS
        self._use_bearer = bool(config.api_token) and self._csrf_required

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> XuiClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ public API

    def login(self) -> None:
        """Log in now (detecting the API generation first if it is unknown)."""
        with self._lock:
            if not self.api_generation:
                self._detect_unlocked()
            elif not self._use_bearer:
                self._login_unlocked()

    def detect(self) -> str:
        """Find out which API generation the panel speaks; also logs in."""
        with self._lock:
            return self._detect_unlocked()

    def list_inbounds(self) -> list[dict[str, Any]]:
        return self._run(self._list_inbounds)

    def get_inbound(self, inbound_id: int) -> dict[str, Any]:
        return self._run(lambda: self._get_inbound(inbound_id))

    def add_client(self, inbound_id: int, protocol: str, client: dict[str, Any]) -> None:
        """Add one client (panel shape) to an inbound.

        Raises ``DuplicateEmail`` when the email exists anywhere on the panel.
        After ``PanelUnavailable`` the client may or may not exist: check with
        ``find_client`` before adding again.
        """
        self._run(lambda: self._add_client(inbound_id, protocol, client))

    def update_client(
        self, inbound_id: int, protocol: str, current_key: str, client: dict[str, Any]
    ) -> None:
        """Replace a client. The panel does not merge: resend every field."""
        if not current_key:
            raise ValueError("current_key is required (see client_key())")
        self._run(lambda: self._update_client(inbound_id, protocol, current_key, client))

    def delete_client(self, inbound_id: int, protocol: str, client: dict[str, Any]) -> None:
        """Delete a client.

        ``LastClientError``: v2.1.2+ keeps the last client of an inbound;
        disable it instead. ``ClientNotFound`` is raised where the panel says
        so (3x-ui v2.9.4+, v3); older panels report success for unknown keys,
        which leaves the same end state.
        """
        self._run(lambda: self._delete_client(inbound_id, protocol, client))

    def get_client_traffic(self, email: str) -> dict[str, Any] | None:
        return self._run(lambda: self._get_client_traffic(email))

    def client_traffic(self, email: str) -> ClientTraffic | None:
        """The client's traffic row as a typed record, or None when the panel has none."""
        return ClientTraffic.from_panel(self.get_client_traffic(email))

    def find_client(self, email: str) -> tuple[int, dict[str, Any]] | None:
        """``(inbound_id, client)`` for this email (any case), or None.

        On v3.1+ a client may be attached to no inbound; its inbound id is 0.
        """
        return self._run(lambda: self._find_client(email))

    def reset_client_traffic(self, inbound_id: int, email: str) -> None:
        self._run(lambda: self._reset_client_traffic(inbound_id, email))

    def online_clients(self) -> list[str]:
        return self._run(self._online_clients)

    # ------------------------------------------------------------------ operations

    def _inbounds_prefix(self) -> str:
        return "xui/API/inbounds/" if self.api_generation == LEGACY else "panel/api/inbounds/"

    def _list_inbounds(self) -> list[dict[str, Any]]:
        route = self._inbounds_prefix() + ("" if self.api_generation == LEGACY else "list")
        obj = self._check(self._call("GET", route), "list inbounds")
        return [_parse_inbound(inbound) for inbound in obj or []]

    def _get_inbound(self, inbound_id: int) -> dict[str, Any]:
        route = f"{self._inbounds_prefix()}get/{int(inbound_id)}"
        obj = self._check(self._call("GET", route), f"get inbound {inbound_id}")
        return _parse_inbound(obj or {})

    def _add_client(self, inbound_id: int, protocol: str, client: dict[str, Any]) -> None:
        payload = self._client_for_panel(client)
        action = f"add client {payload.get('email', '')!r} to inbound {inbound_id}"
        if self.api_generation == V3_CLIENTS:
            body = {"client": payload, "inboundIds": [int(inbound_id)]}
            self._check(self._call("POST", "panel/api/clients/add", body), action)
            if payload.get("enable") is False:
                # v3.1+ ClientService.Create forces enable=true; a client sold
                # as "disabled until paid" must be switched off afterwards.
                route = f"panel/api/clients/update/{_path(payload['email'])}"
                self._check(self._call("POST", route, payload), action, missing=_NOT_FOUND)
            return
        body = {"id": int(inbound_id), "settings": json.dumps({"clients": [payload]})}
        self._check(self._call("POST", self._inbounds_prefix() + "addClient", body), action)

    def _update_client(
        self, inbound_id: int, protocol: str, current_key: str, client: dict[str, Any]
    ) -> None:
        payload = self._client_for_panel(client)
        action = f"update client {current_key!r} in inbound {inbound_id}"
        if self.api_generation == V3_CLIENTS:
            email = self._v3_email(inbound_id, protocol, current_key, payload)
            route = f"panel/api/clients/update/{_path(email)}"
            self._check(self._call("POST", route, payload), action, missing=_NOT_FOUND)
            return
        body = {"id": int(inbound_id), "settings": json.dumps({"clients": [payload]})}
        route = f"{self._inbounds_prefix()}updateClient/{_path(current_key)}"
        missing = _NOT_FOUND
        if client_key(protocol, payload):
            # With a key in the body, "empty client ID" can only mean that the
            # key in the path matched nobody.
            missing += ("empty client id",)
        self._check(self._call("POST", route, body), action, missing=missing)

    def _delete_client(self, inbound_id: int, protocol: str, client: dict[str, Any]) -> None:
        key = client_key(protocol, client)
        action = f"delete client {client.get('email') or key!r} from inbound {inbound_id}"
        if self.api_generation == V3_CLIENTS:
            email = client.get("email") or self._v3_email(inbound_id, protocol, key, client)
            route = f"panel/api/clients/del/{_path(email)}"
        else:
            if not key:
                raise ValueError(f"the client has no {protocol} key (see client_key())")
            route = f"{self._inbounds_prefix()}{int(inbound_id)}/delClient/{_path(key)}"
        self._check(self._call("POST", route), action, missing=("client not found", *_NOT_FOUND))

    def _get_client_traffic(self, email: str) -> dict[str, Any] | None:
        if self.api_generation == V3_CLIENTS:
            route = f"panel/api/clients/traffic/{_path(email)}"
        else:
            route = f"{self._inbounds_prefix()}getClientTraffics/{_path(email)}"
        body = self._call("GET", route)
        if body.get("success"):
            return body.get("obj") or None  # <= v2.8.0 and v3.1+: obj null
        if "not found" in str(body.get("msg") or "").lower():
            return None  # v2.8.1+: "Inbound Not Found For Email"
        self._check(body, f"get traffic of {email!r}")
        return None

    def _find_client(self, email: str) -> tuple[int, dict[str, Any]] | None:
        needle = email.strip().lower()
        if self.api_generation == V3_CLIENTS:
            body = self._call("GET", f"panel/api/clients/get/{_path(email.strip())}")
            if not body.get("success"):
                if "not found" in str(body.get("msg") or "").lower():
                    return None
                self._check(body, f"find client {email!r}")
            obj = body.get("obj") or {}
            record = obj.get("client") or {}
            if str(record.get("email") or "").lower() != needle:
                return None
            inbound_ids = obj.get("inboundIds") or []
            return (int(inbound_ids[0]) if inbound_ids else 0), _record_to_client(record)
        for inbound in self._list_inbounds():
            for client in (inbound.get("settings") or {}).get("clients") or []:
                if str(client.get("email") or "").lower() == needle:
                    return int(inbound["id"]), client
        return None

    def _reset_client_traffic(self, inbound_id: int, email: str) -> None:
        if self.api_generation == V3_CLIENTS:
            route = f"panel/api/clients/resetTraffic/{_path(email)}"
        else:
            route = f"{self._inbounds_prefix()}{int(inbound_id)}/resetClientTraffic/{_path(email)}"
        self._check(self._call("POST", route), f"reset traffic of {email!r}", missing=_NOT_FOUND)

    def _online_clients(self) -> list[str]:
        if self.api_generation == V3_CLIENTS:
            route = "panel/api/clients/onlines"
        else:
            route = self._inbounds_prefix() + "onlines"
        obj = self._check(self._call("POST", route), "list online clients")
        return [str(email) for email in obj or []]  # null when nobody is online

    def _v3_email(self, inbound_id: int, protocol: str, key: str, client: dict[str, Any]) -> str:
        """v3.1+ addresses clients by their current email; callers hold a key."""
        if protocol.lower() == "shadowsocks" and key:
            return key
        hint = str(client.get("email") or "")
        if hint:
            body = self._call("GET", f"panel/api/clients/get/{_path(hint)}")
            record = {}
            if body.get("success"):
                record = (body.get("obj") or {}).get("client") or {}
            if record and (not key or client_key(protocol, _record_to_client(record)) == key):
                return str(record.get("email") or hint)
        if key:
            # The email is changing (or was not given): find the old one by key.
            inbound = self._get_inbound(inbound_id)
            for stored in (inbound.get("settings") or {}).get("clients") or []:
                if client_key(protocol, stored) == key and stored.get("email"):
                    return str(stored["email"])
        raise ClientNotFound(f"no client {key or hint!r} in inbound {inbound_id}")

    def _client_for_panel(self, client: dict[str, Any]) -> dict[str, Any]:
        payload = copy.deepcopy(client)
        if "tgId" not in payload:
            return payload
        tg_id = payload["tgId"]
        if self.api_generation == LEGACY:
            # alireza0/x-ui declares tgId a string; a number breaks its parsing.
            payload["tgId"] = "" if tg_id in (None, 0, "0") else str(tg_id)
        elif isinstance(tg_id, str):
            # 3x-ui >= 2.2.8 (and v3's strict JSON binding) want an int64.
            text = tg_id.strip()
            if not text:
                payload["tgId"] = 0
            elif text.lstrip("-").isdigit():
                payload["tgId"] = int(text)
        elif tg_id is None:
            payload["tgId"] = 0
        return payload

    def _check(self, body: dict[str, Any], action: str, *, missing: tuple[str, ...] = ()) -> Any:
        if body.get("success"):
            return body.get("obj")
        msg = str(body.get("msg") or "")
        low = msg.lower()
        if "duplicate email" in low or "email already in use" in low:
            raise DuplicateEmail(msg, action=action)
        if "no client remained" in low:
            raise LastClientError(msg, action=action)
        if any(marker in low for marker in missing):
            raise ClientNotFound(f"{action}: not on the panel", remote=msg.strip())
        raise PanelRejected(msg, action=action)

    # ------------------------------------------------------------------ recovery

    def _run(self, op: Callable[[], T]) -> T:
        self._ensure_generation()
        try:
            return op()
        except _RouteGone as gone:
            with self._lock:
                if self.api_generation == gone.generation:
                    # Nobody re-detected meanwhile: the panel was probably upgraded.
                    new = self._detect_unlocked()
                    if new == gone.generation:
                        raise PanelUnavailable(
                            f"{gone.route}: HTTP 404 even after a fresh login; "
                            f"the panel does not serve the {new} API there"
                        ) from None
                    logger.warning(
                        "panel %s changed API generation from %s to %s",
                        self._where(),
                        gone.generation,
                        new,
                    )
        try:
            return op()
        except _RouteGone as gone:
            raise PanelUnavailable(
                f"{gone.route}: HTTP 404 after re-detecting the panel API"
            ) from None

    def _ensure_generation(self) -> None:
        if not self.api_generation:
            with self._lock:
                if not self.api_generation:
                    self._detect_unlocked()

    def _ensure_session(self) -> int:
        if not (self._use_bearer or self._logged_in):
            with self._lock:
                if not (self._use_bearer or self._logged_in):
                    self._login_unlocked()
        return self._auth_epoch

    def _relogin(self, seen_epoch: int) -> None:
        with self._lock:
            if self._auth_epoch != seen_epoch:
                return  # another thread already logged in again
            logger.info("panel %s: session gone, logging in again", self._where())
            self._login_unlocked()

    def _call(self, method: str, route: str, json_body: Any = None) -> dict[str, Any]:
        """Send one API request, riding out one lost session and one stale CSRF token."""
        generation = self.api_generation
        relogged = csrf_refreshed = False
        while True:
            epoch = self._ensure_session()
            resp = self._send(method, route, json_body=json_body)
            try:
                return self._classify(resp, route)
            except _Forbidden as exc:
                if self._use_bearer or csrf_refreshed:
                    raise PanelAuthError(
                        f"{method} {route}: HTTP 403 forbidden", remote=str(exc)
                    ) from None
                csrf_refreshed = True
                with self._lock:
                    if not self._fetch_csrf_unlocked():
                        raise PanelAuthError(
                            f"{method} {route}: HTTP 403 forbidden", remote=str(exc)
                        ) from None
            except _Gone as gone:
                if gone.kind == "html" and (relogged or self._use_bearer):
                    raise PanelUnavailable(
                        f"{method} {route}: answered HTML instead of JSON", remote=gone.detail
                    ) from None
                if gone.kind in ("not_found", "redirect") and (relogged or self._use_bearer):
                    raise _RouteGone(route, generation) from None
                if self._use_bearer:
                    raise PanelAuthError(f"{method} {route}: the API token was rejected") from None
                if relogged:
                    raise PanelAuthError(
                        f"{method} {route}: still logged out right after a successful login"
                    ) from None
                relogged = True
                self._relogin(epoch)

    def _classify(self, resp: requests.Response, route: str) -> dict[str, Any]:
        status = resp.status_code
        if 300 <= status < 400:
            raise _Gone("redirect", f"HTTP {status}")
        if status == 401:
            raise _Gone("unauthorized", "HTTP 401")
        if status == 403:
            raise _Forbidden(_snippet(resp.content))
        if status == 404:
            raise _Gone("not_found", "HTTP 404")
        if status >= 500:
            raise PanelUnavailable(
                f"{route}: HTTP {status}", remote=_snippet(resp.content) or "(empty body)"
            )
        if not 200 <= status < 300:
            raise PanelUnavailable(f"{route}: HTTP {status}", remote=_snippet(resp.content))
        body = self._decode(resp, route)
        if not body.get("success") and _looks_expired(str(body.get("msg") or "")):
            raise _Gone("expired", str(body.get("msg")))  # pre-v2.2.5: 200 + this text
        return body

    def _decode(self, resp: requests.Response, route: str) -> dict[str, Any]:
        content = resp.content
        if "html" in resp.headers.get("Content-Type", "") or content.lstrip()[:1] == b"<":
            raise _Gone("html", _snippet(content))
        try:
            body = json.loads(content)
        except ValueError:
            raise PanelUnavailable(
                f"{route}: answer is not JSON (truncated or garbage)",
                remote=repr(_snippet(content)),
            ) from None
        if not isinstance(body, dict) or "success" not in body:
            raise PanelUnavailable(f"{route}: unexpected answer", remote=repr(_snippet(content)))
        return body

    def _send(
        self, method: str, route: str, *, json_body: Any = None, form: Any = None, auth: bool = True
    ) -> requests.Response:
        headers = {}
        if auth and self._use_bearer:
            headers["Authorization"] = f"Bearer {self.config.api_token}"
        elif method != "GET" and self._csrf_token:
            headers["X-CSRF-Token"] = self._csrf_token
        what = f"{method} {route}"
        deadline = Deadline(self.config.deadline)
        try:
            with deadline:
                return self._session.request(
                    method,
                    self.config.base_url + route,
                    json=json_body,
                    data=form,
                    headers=headers,
                    timeout=(self.config.connect_timeout, self.config.read_timeout),
                    allow_redirects=False,
                    verify=self.config.verify_tls,
                )
        except requests.Timeout as exc:
            raise PanelUnavailable(
                f"{what}: timed out ({type(exc).__name__})", remote=_describe(exc)
            ) from exc
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            OSError,
            ValueError,
        ) as exc:
            if deadline.expired:
                raise PanelUnavailable(
                    f"{what}: no complete answer within the {self.config.deadline:g}s deadline"
                ) from exc
            # The reason can quote bytes the server sent (a broken chunk length...).
            raise PanelUnavailable(f"{what}: {type(exc).__name__}", remote=_describe(exc)) from exc

    # ------------------------------------------------------------------ login & detection

    def _fetch_csrf_unlocked(self, *, required: bool = False) -> bool:
        resp = self._send("GET", "csrf-token", auth=False)
        token = None
        if resp.status_code == 200:
            try:
                body = json.loads(resp.content)
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("success"):
                token = body.get("obj")
        if isinstance(token, str) and token:
            self._csrf_token = token
            return True
        if required:
            raise PanelUnavailable(
                f"csrf-token: no CSRF token (HTTP {resp.status_code})",
                remote=_snippet(resp.content),
            )
        return False

    def _login_unlocked(self, *, fresh: bool = True) -> None:
        if not (self.config.username or self.config.password):
            raise PanelAuthError("no username/password configured for this panel")
        self._logged_in = False
        if fresh:
            # A dead session's cookie and its CSRF token are useless; v3 ties
            # the token to the session, so both go together.
            self._session.cookies.clear()
            self._csrf_token = ""
        if self._csrf_required and not self._csrf_token:
            self._fetch_csrf_unlocked(required=True)
        form = {"username": self.config.username, "password": self.config.password}
        resp = self._send("POST", "login", form=form, auth=False)
        if resp.status_code == 403 and not self._csrf_required and self._fetch_csrf_unlocked():
            # A panel upgraded to v3 under a stored v2 record now wants CSRF.
            self._csrf_required = True
            resp = self._send("POST", "login", form=form, auth=False)
        status = resp.status_code
        if status == 403:
            raise PanelAuthError("login: HTTP 403 forbidden (CSRF token refused)")
        if status == 404:
            raise PanelUnavailable("login: HTTP 404; check the panel URL and its web base path")
        if 300 <= status < 400:
            raise PanelUnavailable(
                f"login: HTTP {status} redirect; check http/https and the web base path"
            )
        if status != 200:
            raise PanelUnavailable(f"login: HTTP {status}", remote=_snippet(resp.content))
        try:
            body = self._decode(resp, "login")
        except _Gone as gone:
            raise PanelUnavailable(
                "login: answered HTML instead of JSON", remote=gone.detail
            ) from None
        if not body.get("success"):
            raise PanelAuthError("login refused", remote=str(body.get("msg") or "").strip())
        self._logged_in = True
        self._auth_epoch += 1

    def _probe(self, method: str, route: str) -> bool:
        resp = self._send(method, route)
        status = resp.status_code
        if status >= 500:
            raise PanelUnavailable(f"{route}: HTTP {status}", remote=_snippet(resp.content))
        if status == 401 and self._use_bearer:
            raise PanelAuthError("the API token was rejected")
        if status != 200:
            return False
        try:
            return bool(self._decode(resp, route).get("success"))
        except _Gone:
            return False

    def _detect_unlocked(self) -> str:
        self._session.cookies.clear()
        self._csrf_token = ""
        self._logged_in = False
        self._use_bearer = False
        is_v3 = self._fetch_csrf_unlocked()
        self._csrf_required = is_v3
        if is_v3 and self.config.api_token:
            self._use_bearer = True
        elif self.config.username or self.config.password:
            self._login_unlocked(fresh=False)  # keep the session the token belongs to
        elif self.config.api_token:
            raise PanelAuthError("API tokens need 3x-ui v3; set a username and password")
        else:
            raise PanelAuthError("no credentials configured for this panel")
        if is_v3 and self._probe("GET", "panel/api/clients/list"):
            generation = V3_CLIENTS
        elif self._probe("GET", "panel/api/inbounds/list"):
            generation = V3 if is_v3 else V2
        elif not is_v3 and self._probe("GET", "xui/API/inbounds/"):
            generation = LEGACY
        elif not is_v3 and self._probe("POST", "xui/inbound/list"):
            raise PanelError("vaxilu/x-ui has no per-client API; it is not supported")
        else:
            raise PanelUnavailable("no known 3x-ui API answered at this URL")
        self.api_generation = generation
        logger.info("panel %s speaks API generation %s", self._where(), generation)
        return generation

    def _where(self) -> str:
        # Host only: the web base path is a secret worth keeping out of logs.
        return self.config.base_url.split("/")[2] if "//" in self.config.base_url else "?"
