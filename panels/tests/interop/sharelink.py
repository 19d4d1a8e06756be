"""A share-link reader written from the client apps' conventions, not from our builder.

It turns a delivered ``vless://``, ``vmess://``, ``trojan://`` or ``ss://`` link into a
sing-box outbound, reading each key the way the common client apps do:

* URI links (vless/trojan/ss): the Xray "VMessAEAD / VLESS share link" proposal that
  v2rayN (``ServiceLib/Handler/Fmt/BaseFmt.cs`` ``ResolveUriQuery``) and v2rayNG
  (``fmt/FmtBase.kt``) implement: ``type``, ``security``, ``sni``, ``alpn``, ``fp``,
  ``path``, ``host``, ``serviceName``, ``authority``, ``mode``, ``headerType``,
  ``flow``, ``encryption``, ``pbk``/``sid``/``spx`` (REALITY), ``vcn``/``pcs``.
  An insecure certificate is ``allowInsecure=1`` or ``insecure=1`` (v2rayNG reads both,
  and ``allow_insecure``; Hiddify's ray2sing ``common.go`` reads ``insecure`` and
  ``allowinsecure``).
* VMess: v2rayN's JSON (``VmessFmt.cs``): ``add``, ``port``, ``id``, ``scy``, ``net``,
  ``type``, ``host``, ``path``, ``tls``, ``sni``, ``alpn``, ``fp``; an insecure
  certificate is ``"insecure": "1"`` only: v2rayN (``Models/Dto/VmessQRCode.cs``),
  v2rayNG (``dto/VmessQRCode.kt``) and Hiddify (ray2sing looks the JSON key up as
  ``insecure`` or ``allowinsecure``, case-sensitively) ignore 3x-ui's own
  ``"allowInsecure": true``.
* Shadowsocks: SIP002 (``ss://base64(method:password)@host:port``, padded or not,
  URL-safe or not) and SIP022 plain ``method:password`` for 2022 ciphers.

What sing-box (the PyPI build, without uTLS) cannot do raises :class:`CannotRun`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


class CannotRun(Exception):
    """The link asks for something the sing-box client here cannot do (the reason)."""


@dataclass
class ShareLink:
    scheme: str
    host: str
    port: int
    secret: str  # uuid (vless/vmess), password (trojan/ss)
    remark: str = ""
    method: str = ""  # shadowsocks cipher; vmess "scy"
    network: str = "tcp"
    security: str = "none"
    params: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        return self.params.get(key, default)


def _b64decode(text: str) -> bytes:
    text = text.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {text[:40]!r}") from exc


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true")


def parse(link: str) -> ShareLink:
    scheme, _, rest = link.partition("://")
    scheme = scheme.lower()
    if scheme == "vmess":
        return _parse_vmess(rest)
    if scheme not in ("vless", "trojan", "ss"):
        raise ValueError(f"unknown scheme {scheme!r}")
    parts = urlsplit(link)
    params = {key: value for key, value in parse_qsl(parts.query, keep_blank_values=True)}
    userinfo = parts.netloc.rpartition("@")[0]
    host = parts.hostname or ""
    port = parts.port
    if scheme == "ss":
        method, secret = _ss_userinfo(userinfo)
    else:
        method, secret = "", unquote(userinfo)
    if not host or port is None:
        raise ValueError(f"no host:port in {link[:60]!r}")
    return ShareLink(
        scheme=scheme,
        host=host,
        port=port,
        secret=secret,
        remark=unquote(parts.fragment),
        method=method,
        network=params.get("type", "tcp") or "tcp",
        security=params.get("security", "none") or "none",
        params=params,
    )


def _ss_userinfo(userinfo: str) -> tuple[str, str]:
    raw = unquote(userinfo)
    if ":" in raw and raw.split(":", 1)[0].startswith("2022-"):
        plain = raw  # SIP022: method:password not encoded
    else:
        plain = _b64decode(raw).decode()
    method, _, password = plain.partition(":")
    if not method or not password:
        raise ValueError("shadowsocks userinfo is not method:password")
    return method, password


def _parse_vmess(payload: str) -> ShareLink:
    data = json.loads(_b64decode(payload.split("#", 1)[0]).decode())
    params: dict[str, str] = {}
    for key in ("type", "host", "path", "sni", "alpn", "fp", "authority", "mode", "vcn", "pcs"):
        value = data.get(key)
        if value not in (None, ""):
            params[key] = str(value)
    if _truthy(data.get("insecure")):
        params["allowInsecure"] = "1"
    tls = str(data.get("tls") or "none")
    return ShareLink(
        scheme="vmess",
        host=str(data["add"]),
        port=int(data["port"]),
        secret=str(data["id"]),
        remark=str(data.get("ps") or ""),
        method=str(data.get("scy") or "auto"),
        network=str(data.get("net") or "tcp"),
        security=tls if tls in ("tls", "reality") else "none",
        params=params,
    )


def _transport(link: ShareLink) -> dict[str, Any] | None:
    net = link.network
    if net == "tcp":
        header = link.get("type") if link.scheme == "vmess" else link.get("headerType")
        if header and header != "none":
            raise CannotRun(f"tcp header {header!r} is not wired into this client")
        return None
    if net == "ws":
        out: dict[str, Any] = {"type": "ws", "path": link.get("path", "/") or "/"}
        if link.get("host"):
            out["headers"] = {"Host": link.get("host")}
        return out
    if net == "httpupgrade":
        out = {"type": "httpupgrade", "path": link.get("path", "/") or "/"}
        if link.get("host"):
            out["host"] = link.get("host")
        return out
    if net == "grpc":
        service = link.get("path") if link.scheme == "vmess" else link.get("serviceName")
        return {"type": "grpc", "service_name": service}
    raise CannotRun(f"transport {net!r} is not in sing-box")


def _tls(link: ShareLink) -> dict[str, Any] | None:
    if link.security == "none":
        return None
    if link.security == "reality":
        raise CannotRun("REALITY needs uTLS, which the PyPI sing-box build lacks")
    if link.get("vcn") or link.get("pcs"):
        # Xray verifies by another name / pins the leaf certificate hash; sing-box can
        # only pin public keys (certificate_public_key_sha256), which is not the same.
        raise CannotRun("vcn/pcs (Xray certificate name/hash pinning) have no sing-box form")
    insecure = _truthy(link.get("allowInsecure")) or _truthy(link.get("insecure"))
    out: dict[str, Any] = {"enabled": True, "server_name": link.get("sni") or link.host}
    if insecure:
        out["insecure"] = True
    if link.get("alpn"):
        out["alpn"] = [a for a in link.get("alpn").split(",") if a]
    # fp (a uTLS fingerprint) is ignored: the client still speaks plain Go TLS.
    return out


def singbox_outbound(link: ShareLink, *, tag: str = "proxy") -> dict[str, Any]:
    """The sing-box outbound a client app would build from this link."""
    out: dict[str, Any] = {"type": "", "tag": tag, "server": link.host, "server_port": link.port}
    if link.scheme == "vless":
        if link.get("encryption", "none") not in ("", "none"):
            raise CannotRun("VLESS encryption is Xray-only")
        out.update(type="vless", uuid=link.secret)
        if link.get("flow"):
            out["flow"] = link.get("flow")
    elif link.scheme == "vmess":
        out.update(type="vmess", uuid=link.secret, security=link.method, alter_id=0)
    elif link.scheme == "trojan":
        out.update(type="trojan", password=link.secret)
    elif link.scheme == "ss":
        if link.network != "tcp" or link.security != "none":
            raise CannotRun("sing-box's shadowsocks outbound has no v2ray transport or TLS")
        out.update(type="shadowsocks", method=link.method, password=link.secret)
        return out
    tls = _tls(link)
    if tls is not None:
        out["tls"] = tls
    transport = _transport(link)
    if transport is not None:
        out["transport"] = transport
    return out


def differences(ours: str, theirs: str) -> dict[str, tuple[str, str]]:
    """What a client would do differently with ``theirs`` than with ``ours``.

    Compares what the connection uses (address, key, cipher, transport, security and
    every query key); the remark and key order are not compared, and an empty value
    is the same as a missing one (clients treat them alike).
    """
    a, b = parse(ours), parse(theirs)
    out: dict[str, tuple[str, str]] = {}
    for name in ("scheme", "host", "port", "secret", "method", "network", "security"):
        if getattr(a, name) != getattr(b, name):
            out[name] = (getattr(a, name), getattr(b, name))
    if a.scheme == "vmess" and {a.method, b.method} <= {"auto", ""}:
        out.pop("method", None)
    keys = {k for k, v in a.params.items() if v} | {k for k, v in b.params.items() if v}
    for key in sorted(keys):
        if a.get(key) != b.get(key):
            out[key] = (a.get(key), b.get(key))
    return out
