"""The panel's answers in the shapes callers get: inbounds with dicts, clients, keys."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from .errors import PanelUnavailable

SNIPPET_BYTES = 200
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


def client_key(protocol: str, client: dict[str, Any]) -> str:
    """The value the panel identifies a client by in update/delete paths.

    It depends on the protocol: the UUID for vless/vmess, the password for
    trojan, the email for shadowsocks.
    """
    return str(client.get(_KEY_FIELDS.get(protocol.lower(), "id")) or "")


def quote_path(value: Any) -> str:
    # Gin matches on the decoded path, so an escaped "/" would still split the
    # route; everything else survives percent-encoding.
    return quote(str(value), safe="@")


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
            f"inbound {name} is not valid JSON", remote=repr(value[:SNIPPET_BYTES])
        ) from exc


def parse_inbound(inbound: dict[str, Any]) -> dict[str, Any]:
    out = dict(inbound)
    for name in ("settings", "streamSettings", "sniffing"):
        if name in out:
            out[name] = _parse_json_text(out[name], name)
    return out


def record_to_client(record: dict[str, Any]) -> dict[str, Any]:
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
