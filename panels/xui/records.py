"""3x-ui's replies as typed records, parsed once: milliseconds become datetimes here.

3x-ui stores times in milliseconds since the epoch (0: never; negative: "starts on
first use", which has no date yet) and traffic in bytes, and older panels send numbers
as strings or nulls. Callers read these records instead of picking at the JSON.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def as_int(value) -> int:
    """A panel number (int, numeric string, null) as an int; 0 when it is not one."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def ms_to_datetime(value) -> datetime | None:
    """A panel time in ms as an aware datetime; None for never or "on first use"."""
    value = as_int(value)
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value > 0 else None


def datetime_to_ms(value: datetime | None) -> int:
    return int(value.timestamp() * 1000) if value else 0


@dataclass(frozen=True)
class ClientTraffic:
    """A client's traffic row (``getClientTraffics``)."""

    email: str
    up: int
    down: int
    total: int
    expiry_ms: int
    enable: bool

    @property
    def used(self) -> int:
        return self.up + self.down

    @property
    def expires_at(self) -> datetime | None:
        return ms_to_datetime(self.expiry_ms)

    @classmethod
    def from_panel(cls, row: dict[str, Any] | None) -> ClientTraffic | None:
        if not isinstance(row, dict):
            return None
        return cls(
            email=str(row.get("email") or ""),
            up=as_int(row.get("up")),
            down=as_int(row.get("down")),
            total=as_int(row.get("total")),
            expiry_ms=as_int(row.get("expiryTime")),
            enable=bool(row.get("enable", True)),
        )


@dataclass(frozen=True)
class ClientRecord:
    """A client as stored in an inbound's settings (the dict is resent whole on update)."""

    email: str
    total: int
    expiry_ms: int
    enable: bool
    raw: dict[str, Any]

    @property
    def expires_at(self) -> datetime | None:
        return ms_to_datetime(self.expiry_ms)

    @property
    def starts_on_first_use(self) -> bool:
        return self.expiry_ms < 0

    @classmethod
    def from_panel(cls, client: dict[str, Any]) -> ClientRecord:
        return cls(
            email=str(client.get("email") or ""),
            total=as_int(client.get("totalGB")),
            expiry_ms=as_int(client.get("expiryTime")),
            enable=bool(client.get("enable", True)),
            raw=client,
        )


def new_client_secret(protocol: str, inbound_settings: dict | None) -> dict[str, str]:
    """A fresh key for a new client of this protocol: ``{"id": uuid}`` or ``{"password": ...}``.

    Trojan: a random password. Shadowsocks: a base64 key of the cipher's size (16 bytes
    for the aes-128 2022 cipher, else 32; legacy ciphers accept any). Others: a UUID.
    """
    if protocol == "trojan":
        return {"password": secrets.token_urlsafe(12)}
    if protocol == "shadowsocks":
        method = str((inbound_settings or {}).get("method", ""))
        size = 16 if "aes-128" in method else 32
        return {"password": base64.b64encode(secrets.token_bytes(size)).decode()}
    return {"id": str(uuid.uuid4())}
