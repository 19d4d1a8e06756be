"""What a link may be built from, and the checker that turns every surprise in the
panel's loosely typed JSON into a LinkError."""

from __future__ import annotations

import ipaddress
import json
import math
from typing import Any

SELLABLE_PROTOCOLS = ("vless", "vmess", "trojan", "shadowsocks")

NETWORKS = ("tcp", "kcp", "ws", "grpc", "httpupgrade", "xhttp")
SECURITIES = ("none", "tls", "reality")
FORCE_TLS = ("same", "none", "tls")

# Xray only accepts REALITY on VLESS and Trojan inbounds; the 3x-ui form hides it
# for the others, so such an inbound was edited by hand and cannot work.
REALITY_PROTOCOLS = ("vless", "trojan")
REALITY_NETWORKS = ("tcp", "grpc", "xhttp")

# Transports that are an HTTP/1.1 upgrade: their TLS may only offer http/1.1.
HTTP1_NETWORKS = ("ws", "httpupgrade")

# 2022-blake3-chacha20-poly1305 has no multi-user mode in Xray (3x-ui's
# isSSMultiUser is false for it): every customer would share one key.
SS_SINGLE_USER_METHODS = ("2022-blake3-chacha20-poly1305",)


class LinkError(ValueError):
    """No link can be built: the inbound (or client) is malformed or uses settings a
    link cannot carry. The message names the inbound; ``problem`` is the short reason."""

    def __init__(self, problem: str, *, inbound_id: Any = None, inbound_remark: Any = None):
        self.problem = problem
        self.inbound_id = inbound_id
        self.inbound_remark = inbound_remark
        super().__init__(f"inbound {inbound_remark!r} (id {inbound_id}): {problem}")


class UnsupportedProtocol(LinkError):
    """The inbound's protocol is not one we sell (wireguard, http, mixed, tunnel, ...).

    A LinkError too, so one ``except LinkError`` covers every "no link" case."""


class Checker:
    """Reads loosely-typed panel JSON and turns every surprise into a LinkError."""

    def __init__(self, inbound: Any):
        self.inbound_id = inbound.get("id") if isinstance(inbound, dict) else None
        self.inbound_remark = inbound.get("remark") if isinstance(inbound, dict) else None

    def fail(self, problem: str) -> LinkError:
        return LinkError(problem, inbound_id=self.inbound_id, inbound_remark=self.inbound_remark)

    def unsupported(self, problem: str) -> UnsupportedProtocol:
        return UnsupportedProtocol(
            problem, inbound_id=self.inbound_id, inbound_remark=self.inbound_remark
        )

    def json_object(self, value: Any, what: str, *, required: bool) -> dict[str, Any]:
        if value is None or (isinstance(value, (str, bytes)) and not value.strip()):
            if required:
                raise self.fail(f"{what} is missing")
            return {}
        if isinstance(value, (str, bytes, bytearray)):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise self.fail(f"{what} is not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be a JSON object, not {type(value).__name__}")
        return value

    def obj(self, parent: dict[str, Any], key: str, what: str, *, required: bool = False):
        value = parent.get(key)
        if value is None:
            if required:
                raise self.fail(f"{what} is missing")
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be an object, not {type(value).__name__}")
        return value

    def text(self, parent: dict[str, Any], key: str, what: str, default: str = "") -> str:
        value = parent.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.fail(f"{what} must be a string, not {type(value).__name__}")
        return value

    def flag(self, parent: dict[str, Any], key: str, what: str) -> bool:
        value = parent.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(f"{what} must be true or false, not {value!r}")
        return value

    def text_list(self, parent: dict[str, Any], key: str, what: str) -> list[str]:
        value = parent.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            # The 3x-ui form model keeps serverNames/shortIds as comma-joined text.
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{what} must be a list of strings")
        return list(value)

    def port(self, value: Any, what: str) -> int:
        if isinstance(value, bool):
            raise self.fail(f"{what} must be a number, not {value!r}")
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        elif isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int):
            raise self.fail(f"{what} must be a number, not {value!r}")
        if not 1 <= value <= 65535:
            raise self.fail(f"{what} {value} is outside 1-65535")
        return value

    def header_host(self, headers: Any, what: str) -> str:
        """The Host header from Xray's ``headers`` map (value: string or list)."""
        if headers is None:
            return ""
        if not isinstance(headers, dict):
            raise self.fail(f"{what} must be an object")
        for name, value in headers.items():
            if isinstance(name, str) and name.lower() == "host":
                if isinstance(value, list):
                    value = value[0] if value else ""
                if not isinstance(value, str):
                    raise self.fail(f"{what} Host must be a string or list of strings")
                return value
        return ""


def checked_host(check: Checker, host: str, what: str) -> str:
    bare = host.removeprefix("[").removesuffix("]")
    if ":" in bare:
        try:
            ipaddress.IPv6Address(bare)
        except ValueError:
            raise check.fail(f"{what} {host!r} is not a host name or IP (a port in it?)") from None
    elif bare != host or any(ch in bare for ch in "/@?#%[] \t"):
        raise check.fail(f"{what} {host!r} is not a host name or IP address")
    return bare
