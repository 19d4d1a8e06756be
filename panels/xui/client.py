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
from typing import Any

from .config import LEGACY, V3_CLIENTS
from .errors import (
    ClientNotFound,
    DuplicateEmail,
    LastClientError,
    PanelRejected,
)
from .parsing import client_key, parse_inbound, quote_path, record_to_client
from .records import ClientTraffic
from .session import PanelSession

_NOT_FOUND = ("record not found", "not found")


class XuiClient(PanelSession):
    """One panel, one ``requests.Session``; safe to share between threads."""

    # ------------------------------------------------------------------ public API

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
        return [parse_inbound(inbound) for inbound in obj or []]

    def _get_inbound(self, inbound_id: int) -> dict[str, Any]:
        route = f"{self._inbounds_prefix()}get/{int(inbound_id)}"
        obj = self._check(self._call("GET", route), f"get inbound {inbound_id}")
        return parse_inbound(obj or {})

    def _add_client(self, inbound_id: int, protocol: str, client: dict[str, Any]) -> None:
        payload = self._client_for_panel(client)
        action = f"add client {payload.get('email', '')!r} to inbound {inbound_id}"
        if self.api_generation == V3_CLIENTS:
            body = {"client": payload, "inboundIds": [int(inbound_id)]}
            self._check(self._call("POST", "panel/api/clients/add", body), action)
            if payload.get("enable") is False:
                # v3.1+ ClientService.Create forces enable=true; a client sold
                # as "disabled until paid" must be switched off afterwards.
                route = f"panel/api/clients/update/{quote_path(payload['email'])}"
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
            route = f"panel/api/clients/update/{quote_path(email)}"
            self._check(self._call("POST", route, payload), action, missing=_NOT_FOUND)
            return
        body = {"id": int(inbound_id), "settings": json.dumps({"clients": [payload]})}
        route = f"{self._inbounds_prefix()}updateClient/{quote_path(current_key)}"
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
            route = f"panel/api/clients/del/{quote_path(email)}"
        else:
            if not key:
                raise ValueError(f"the client has no {protocol} key (see client_key())")
            route = f"{self._inbounds_prefix()}{int(inbound_id)}/delClient/{quote_path(key)}"
        self._check(self._call("POST", route), action, missing=("client not found", *_NOT_FOUND))

    def _get_client_traffic(self, email: str) -> dict[str, Any] | None:
        if self.api_generation == V3_CLIENTS:
            route = f"panel/api/clients/traffic/{quote_path(email)}"
        else:
            route = f"{self._inbounds_prefix()}getClientTraffics/{quote_path(email)}"
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
            body = self._call("GET", f"panel/api/clients/get/{quote_path(email.strip())}")
            if not body.get("success"):
                if "not found" in str(body.get("msg") or "").lower():
                    return None
                self._check(body, f"find client {email!r}")
            obj = body.get("obj") or {}
            record = obj.get("client") or {}
            if str(record.get("email") or "").lower() != needle:
                return None
            inbound_ids = obj.get("inboundIds") or []
            return (int(inbound_ids[0]) if inbound_ids else 0), record_to_client(record)
        for inbound in self._list_inbounds():
            for client in (inbound.get("settings") or {}).get("clients") or []:
                if str(client.get("email") or "").lower() == needle:
                    return int(inbound["id"]), client
        return None

    def _reset_client_traffic(self, inbound_id: int, email: str) -> None:
        if self.api_generation == V3_CLIENTS:
            route = f"panel/api/clients/resetTraffic/{quote_path(email)}"
        else:
            route = (
                f"{self._inbounds_prefix()}{int(inbound_id)}/resetClientTraffic/{quote_path(email)}"
            )
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
            body = self._call("GET", f"panel/api/clients/get/{quote_path(hint)}")
            record = {}
            if body.get("success"):
                record = (body.get("obj") or {}).get("client") or {}
            if record and (not key or client_key(protocol, record_to_client(record)) == key):
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
