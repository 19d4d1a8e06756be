"""Our share links as client configurations: sing-box outbounds and Clash Meta proxies.

The customer's one subscription (panels.subscription) serves the links we delivered;
``?format=singbox`` and ``?format=clash`` need the same services as client config
entries. They are read back from the delivered link (not rebuilt from the inbound), so
every format carries exactly what the customer got. The keys are those our builder
writes (panels.links): the VLESS/Trojan/SS URI query keys and v2rayN's VMess JSON.

What a format cannot express raises :class:`NotExpressible`; the subscription then
leaves that one service out of that format (it stays in the base64 list).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


class NotExpressible(ValueError):
    """The link needs something this client format has no key for (the reason)."""


@dataclass
class Link:
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
        return self.params.get(key, default) or default


def _b64decode(text: str) -> bytes:
    text = text.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true")


def parse(link: str) -> Link:
    """Read one share link (ValueError when it is not one)."""
    scheme, _, rest = link.strip().partition("://")
    scheme = scheme.lower()
    if scheme == "vmess":
        return _parse_vmess(rest)
    if scheme not in ("vless", "trojan", "ss"):
        raise ValueError(f"unknown scheme {scheme!r}")
    parts = urlsplit(link.strip())
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    userinfo = parts.netloc.rpartition("@")[0]
    host = parts.hostname or ""
    port = parts.port
    if scheme == "ss":
        raw = unquote(userinfo)
        plain = raw if raw.startswith("2022-") else _b64decode(raw).decode()
        method, _, secret = plain.partition(":")
    else:
        method, secret = "", unquote(userinfo)
    if not host or port is None or not secret:
        raise ValueError("no host, port or key")
    return Link(
        scheme=scheme,
        host=host,
        port=port,
        secret=secret,
        remark=unquote(parts.fragment),
        method=method,
        network=params.get("type") or "tcp",
        security=params.get("security") or "none",
        params=params,
    )


def _parse_vmess(payload: str) -> Link:
    data = json.loads(_b64decode(payload.split("#", 1)[0]).decode())
    params: dict[str, str] = {}
    for key in ("type", "host", "path", "sni", "alpn", "fp", "authority", "mode", "vcn", "pcs"):
        if data.get(key) not in (None, ""):
            params[key] = str(data[key])
    if _truthy(data.get("insecure")) or _truthy(data.get("allowInsecure")):
        params["allowInsecure"] = "1"
    tls = str(data.get("tls") or "none")
    return Link(
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


def _check_common(link: Link) -> None:
    if link.scheme == "vless" and link.get("encryption", "none") != "none":
        raise NotExpressible("VLESS encryption is Xray-only")
    if link.get("vcn") or link.get("pcs"):
        raise NotExpressible("Xray certificate name/hash pinning (vcn/pcs)")
    header = link.get("type") if link.scheme == "vmess" else link.get("headerType")
    if link.network == "tcp" and header not in ("", "none"):
        raise NotExpressible(f"tcp header {header!r}")
    if link.network not in ("tcp", "ws", "httpupgrade", "grpc"):
        raise NotExpressible(f"transport {link.network!r}")
    if link.scheme == "ss" and (link.network != "tcp" or link.security != "none"):
        raise NotExpressible("shadowsocks over a transport or TLS")


# --- sing-box ---------------------------------------------------------------------------


def _singbox_tls(link: Link) -> dict[str, Any] | None:
    if link.security == "none":
        return None
    out: dict[str, Any] = {"enabled": True, "server_name": link.get("sni") or link.host}
    if _truthy(link.get("allowInsecure")) or _truthy(link.get("insecure")):
        out["insecure"] = True
    if link.get("alpn"):
        out["alpn"] = [a for a in link.get("alpn").split(",") if a]
    if link.security == "reality":
        out["utls"] = {"enabled": True, "fingerprint": link.get("fp") or "chrome"}
        out["reality"] = {
            "enabled": True,
            "public_key": link.get("pbk"),
            "short_id": link.get("sid"),
        }
    elif link.get("fp"):
        out["utls"] = {"enabled": True, "fingerprint": link.get("fp")}
    return out


def _singbox_transport(link: Link) -> dict[str, Any] | None:
    if link.network == "ws":
        out: dict[str, Any] = {"type": "ws", "path": link.get("path", "/")}
        if link.get("host"):
            out["headers"] = {"Host": link.get("host")}
        return out
    if link.network == "httpupgrade":
        out = {"type": "httpupgrade", "path": link.get("path", "/")}
        if link.get("host"):
            out["host"] = link.get("host")
        return out
    if link.network == "grpc":
        service = link.get("path") if link.scheme == "vmess" else link.get("serviceName")
        return {"type": "grpc", "service_name": service}
    return None


def singbox_outbound(link: Link, *, tag: str) -> dict[str, Any]:
    """The sing-box outbound for ``link`` (NotExpressible when it has none)."""
    _check_common(link)
    out: dict[str, Any] = {"type": "", "tag": tag, "server": link.host, "server_port": link.port}
    if link.scheme == "vless":
        out.update(type="vless", uuid=link.secret)
        if link.get("flow"):
            out["flow"] = link.get("flow")
    elif link.scheme == "vmess":
        out.update(type="vmess", uuid=link.secret, security=link.method or "auto", alter_id=0)
    elif link.scheme == "trojan":
        out.update(type="trojan", password=link.secret)
    else:
        out.update(type="shadowsocks", method=link.method, password=link.secret)
        return out
    tls = _singbox_tls(link)
    if tls is not None:
        out["tls"] = tls
    transport = _singbox_transport(link)
    if transport is not None:
        out["transport"] = transport
    return out


# --- Clash Meta (mihomo) ----------------------------------------------------------------


def _clash_transport(link: Link, out: dict[str, Any]) -> None:
    if link.network in ("ws", "httpupgrade"):
        opts: dict[str, Any] = {"path": link.get("path", "/")}
        if link.get("host"):
            opts["headers"] = {"Host": link.get("host")}
        if link.network == "httpupgrade":
            opts["v2ray-http-upgrade"] = True
        out["network"] = "ws"
        out["ws-opts"] = opts
    elif link.network == "grpc":
        service = link.get("path") if link.scheme == "vmess" else link.get("serviceName")
        out["network"] = "grpc"
        out["grpc-opts"] = {"grpc-service-name": service}
    else:
        out["network"] = "tcp"


def _clash_tls(link: Link, out: dict[str, Any]) -> None:
    if link.security == "none":
        return
    name_key = "sni" if link.scheme == "trojan" else "servername"
    if link.scheme != "trojan":
        out["tls"] = True
    out[name_key] = link.get("sni") or link.host
    if _truthy(link.get("allowInsecure")) or _truthy(link.get("insecure")):
        out["skip-cert-verify"] = True
    if link.get("alpn"):
        out["alpn"] = [a for a in link.get("alpn").split(",") if a]
    if link.get("fp"):
        out["client-fingerprint"] = link.get("fp")
    if link.security == "reality":
        out["reality-opts"] = {"public-key": link.get("pbk"), "short-id": link.get("sid")}
        out.setdefault("client-fingerprint", "chrome")


def clash_proxy(link: Link, *, name: str) -> dict[str, Any]:
    """The Clash Meta proxy for ``link`` (NotExpressible when it has none)."""
    _check_common(link)
    out: dict[str, Any] = {"name": name, "type": "", "server": link.host, "port": link.port}
    if link.scheme == "ss":
        out.update(type="ss", cipher=link.method, password=link.secret, udp=True)
        return out
    if link.scheme == "vless":
        out.update(type="vless", uuid=link.secret, udp=True)
        if link.get("flow"):
            out["flow"] = link.get("flow")
    elif link.scheme == "vmess":
        out.update(type="vmess", uuid=link.secret, alterId=0, cipher=link.method or "auto")
        out["udp"] = True
    else:
        out.update(type="trojan", password=link.secret, udp=True)
    _clash_tls(link, out)
    _clash_transport(link, out)
    return out


def yaml_dump(value: Any, indent: int = 0) -> str:
    """A small YAML writer for the Clash config: block mappings and lists, JSON scalars.

    JSON strings, numbers and booleans are valid YAML scalars, so quoting every string
    the JSON way keeps values such as ``yes``, ``1.0`` or ``*`` from changing type.
    """
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{json.dumps(str(key), ensure_ascii=False)}:"
            if isinstance(item, (dict, list)) and item:
                lines.append(head)
                lines.append(yaml_dump(item, indent + 1))
            else:
                lines.append(f"{head} {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = yaml_dump(item, indent + 1).lstrip(" ")
                lines.append(f"{pad}- {inner}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(pad + _scalar(value))
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return json.dumps(value, ensure_ascii=False)
