"""Reading a 3x-ui inbound for links: every field checked once, every surprise a LinkError.

``prepare(inbound)`` turns the panel's loosely typed JSON into a ``Prepared`` record
(protocol, transport, TLS/REALITY, shadowsocks keys); panels.links builds the links.
"""

from __future__ import annotations

import ipaddress
import json
import math
from dataclasses import dataclass, field
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


@dataclass
class Prepared:
    """Everything about an inbound that a link needs, checked once, client-free."""

    protocol: str
    remark: str
    port: int
    listen: str
    network: str
    security: str
    # Query parameters for the transport, in 3x-ui's order.
    net_params: list[tuple[str, str]]
    # The same transport for the VMess JSON object.
    vmess_net: dict[str, Any]
    tls_params: list[tuple[str, str]] = field(default_factory=list)
    reality_params: list[tuple[str, str]] = field(default_factory=list)
    vmess_tls: dict[str, Any] = field(default_factory=dict)
    vless_encryption: str = "none"
    ss_method: str = ""
    ss_server_password: str = ""
    external_proxies: list[dict[str, Any]] = field(default_factory=list)


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


def prepare(inbound: Any) -> Prepared:
    if not isinstance(inbound, dict):
        raise LinkError(f"inbound must be an object, not {type(inbound).__name__}")
    check = Checker(inbound)
    protocol = _checked_protocol(check, inbound)
    remark, listen = _checked_remark(check, inbound), _checked_listen(check, inbound)
    port = check.port(inbound.get("port"), "port")
    settings = check.json_object(inbound.get("settings"), "settings", required=False)
    stream = check.json_object(inbound.get("streamSettings"), "streamSettings", required=True)
    network, security = _checked_transport(check, stream, protocol)

    net_params, vmess_net = _network_params(check, stream, network)
    prepared = Prepared(
        protocol=protocol,
        remark=remark,
        port=port,
        listen=listen,
        network=network,
        security=security,
        net_params=net_params,
        vmess_net=vmess_net,
    )
    if security == "tls":
        prepared.tls_params, prepared.vmess_tls = _tls_params(check, stream, network)
    elif security == "reality":
        prepared.reality_params = _reality_params(check, stream)
    if protocol == "vless":
        prepared.vless_encryption = (
            check.text(settings, "encryption", "settings.encryption", "none") or "none"
        )
    elif protocol == "shadowsocks":
        prepared.ss_method, prepared.ss_server_password = _shadowsocks_keys(check, settings)
    prepared.external_proxies = _external_proxies(check, stream)
    return prepared


def _checked_protocol(check: Checker, inbound: dict[str, Any]) -> str:
    protocol = inbound.get("protocol")
    if not isinstance(protocol, str) or not protocol:
        raise check.fail("protocol is missing")
    protocol = protocol.strip().lower()
    if protocol not in SELLABLE_PROTOCOLS:
        raise check.unsupported(
            f"protocol {protocol!r} cannot be sold (only {', '.join(SELLABLE_PROTOCOLS)})"
        )
    return protocol


def _checked_remark(check: Checker, inbound: dict[str, Any]) -> str:
    remark = inbound.get("remark")
    if remark is None:
        return ""
    if not isinstance(remark, str):
        raise check.fail("remark must be a string")
    return remark


def _checked_listen(check: Checker, inbound: dict[str, Any]) -> str:
    listen = inbound.get("listen") or ""
    if not isinstance(listen, str):
        raise check.fail("listen must be a string")
    if listen.startswith("@"):
        # A fallback target on a unix socket: clients reach it through another
        # inbound's port and TLS, which this inbound's own data does not describe.
        raise check.fail(f"listens on {listen!r} (a fallback socket), not on a public port")
    return listen


def _checked_transport(check: Checker, stream: dict[str, Any], protocol: str) -> tuple[str, str]:
    """(network, security) of the stream, and whether this protocol can use them."""
    network = check.text(stream, "network", "streamSettings.network", "tcp") or "tcp"
    if network not in NETWORKS:
        raise check.fail(f"network {network!r} is not supported ({', '.join(NETWORKS)})")
    security = check.text(stream, "security", "streamSettings.security", "none") or "none"
    if security not in SECURITIES:
        raise check.fail(f"security {security!r} is not supported ({', '.join(SECURITIES)})")
    if security == "reality" and protocol not in REALITY_PROTOCOLS:
        raise check.fail(
            f"reality is not possible with {protocol} (Xray allows it on vless/trojan)"
        )
    if security == "reality" and network not in REALITY_NETWORKS:
        raise check.fail(f"reality is not possible over {network} (Xray allows tcp, grpc, xhttp)")
    return network, security


def _shadowsocks_keys(check: Checker, settings: dict[str, Any]) -> tuple[str, str]:
    """(method, server password); the password only for a 2022 cipher."""
    method = check.text(settings, "method", "settings.method").strip()
    if not method:
        raise check.fail("settings.method is missing")
    if method in SS_SINGLE_USER_METHODS:
        raise check.fail(
            f"shadowsocks method {method} is single-user; clients cannot have own keys"
        )
    if not method.startswith("2022-"):
        return method, ""
    password = check.text(settings, "password", "settings.password")
    if not password:
        raise check.fail(f"settings.password (server key) is missing for {method}")
    return method, password


def _network_params(
    check: Checker, stream: dict[str, Any], network: str
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    params: list[tuple[str, str]] = []
    # VMess always carries host and path (v2rayN's own export does, and old clients
    # index them without checking).
    vmess: dict[str, Any] = {"type": "none", "host": "", "path": ""}

    if network == "tcp":
        tcp = check.obj(stream, "tcpSettings", "tcpSettings")
        header = check.obj(tcp, "header", "tcpSettings.header")
        header_type = check.text(header, "type", "tcpSettings.header.type", "none") or "none"
        if header_type == "http":
            request = check.obj(header, "request", "tcpSettings.header.request")
            # The UI joins every path with commas; clients split them again.
            path = ",".join(check.text_list(request, "path", "tcp request path")) or "/"
            host = check.header_host(request.get("headers"), "tcp request headers")
            params.append(("path", path))
            if host:
                params.append(("host", host))
            params.append(("headerType", "http"))
            vmess.update(type="http", host=host, path=path)
        elif header_type != "none":
            raise check.fail(f"tcp header type {header_type!r} is not supported (none, http)")

    elif network == "kcp":
        kcp = check.obj(stream, "kcpSettings", "kcpSettings")
        header = check.obj(kcp, "header", "kcpSettings.header")
        header_type = check.text(header, "type", "kcpSettings.header.type", "none") or "none"
        seed = check.text(kcp, "seed", "kcpSettings.seed")
        params.append(("headerType", header_type))
        if seed:
            params.append(("seed", seed))
        vmess.update(type=header_type, path=seed)

    elif network in ("ws", "httpupgrade"):
        key = f"{network}Settings"
        conf = check.obj(stream, key, key)
        path = check.text(conf, "path", f"{key}.path", "/") or "/"
        header_host = check.header_host(conf.get("headers"), f"{key}.headers")
        host = check.text(conf, "host", f"{key}.host") or header_host
        params.append(("path", path))
        if host:
            params.append(("host", host))
        vmess.update(host=host, path=path)

    elif network == "grpc":
        grpc = check.obj(stream, "grpcSettings", "grpcSettings")
        service_name = check.text(grpc, "serviceName", "grpcSettings.serviceName")
        authority = check.text(grpc, "authority", "grpcSettings.authority")
        multi = check.flag(grpc, "multiMode", "grpcSettings.multiMode")
        params.append(("serviceName", service_name))
        if authority:
            params.append(("authority", authority))
        if multi:
            params.append(("mode", "multi"))
        vmess.update(path=service_name, authority=authority)
        if multi:
            vmess["type"] = "multi"

    elif network == "xhttp":
        xhttp = check.obj(stream, "xhttpSettings", "xhttpSettings")
        path = check.text(xhttp, "path", "xhttpSettings.path", "/") or "/"
        header_host = check.header_host(xhttp.get("headers"), "xhttpSettings.headers")
        host = check.text(xhttp, "host", "xhttpSettings.host") or header_host
        mode = check.text(xhttp, "mode", "xhttpSettings.mode", "auto") or "auto"
        params.append(("path", path))
        if host:
            params.append(("host", host))
        params.append(("mode", mode))
        vmess.update(type=mode, host=host, path=path, mode=mode)

    return params, vmess


def _tls_params(
    check: Checker, stream: dict[str, Any], network: str
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    tls = check.obj(stream, "tlsSettings", "tlsSettings")
    inner = check.obj(tls, "settings", "tlsSettings.settings")
    sni = check.text(tls, "serverName", "tlsSettings.serverName")
    alpn_list = check.text_list(tls, "alpn", "tlsSettings.alpn")
    if network in HTTP1_NETWORKS:
        # An HTTP/1.1 upgrade: offering h2 lets an Xray-style server agree on h2 and
        # then refuse the upgrade (see the module docstring).
        alpn_list = [value for value in alpn_list if value == "http/1.1"]
    alpn = ",".join(alpn_list)
    fingerprint = check.text(inner, "fingerprint", "tlsSettings.settings.fingerprint")
    insecure = check.flag(inner, "allowInsecure", "tlsSettings.settings.allowInsecure")
    ech = check.text(inner, "echConfigList", "tlsSettings.settings.echConfigList")
    verify_name = check.text(
        inner, "verifyPeerCertByName", "tlsSettings.settings.verifyPeerCertByName"
    ).strip()
    pins = ",".join(
        pin.strip()
        for pin in check.text_list(
            inner, "pinnedPeerCertSha256", "tlsSettings.settings.pinnedPeerCertSha256"
        )
        if pin.strip()
    )

    params: list[tuple[str, str]] = []
    vmess: dict[str, Any] = {}
    if fingerprint:
        params.append(("fp", fingerprint))
    if alpn:
        params.append(("alpn", alpn))
    if sni:
        params.append(("sni", sni))
    if ech:
        params.append(("ech", ech))
    if verify_name:
        params.append(("vcn", verify_name))
    if pins:
        params.append(("pcs", pins))
    if insecure:
        params.append(("allowInsecure", "1"))
    if sni:
        vmess["sni"] = sni
    if alpn:
        vmess["alpn"] = alpn
    if fingerprint:
        vmess["fp"] = fingerprint
    if ech:
        vmess["ech"] = ech
    if verify_name:
        vmess["vcn"] = verify_name
    if pins:
        vmess["pcs"] = pins
    if insecure:
        vmess["allowInsecure"] = True
        vmess["insecure"] = "1"
    return params, vmess


def _reality_params(check: Checker, stream: dict[str, Any]) -> list[tuple[str, str]]:
    reality = check.obj(stream, "realitySettings", "realitySettings", required=True)
    inner = check.obj(reality, "settings", "realitySettings.settings", required=True)
    public_key = check.text(inner, "publicKey", "realitySettings.settings.publicKey")
    if not public_key:
        raise check.fail("realitySettings.settings.publicKey is missing")
    server_names = check.text_list(reality, "serverNames", "realitySettings.serverNames")
    sni = next((name for name in server_names if name), "") or check.text(
        inner, "serverName", "realitySettings.settings.serverName"
    )
    if not sni:
        raise check.fail("realitySettings.serverNames is empty")
    short_ids = check.text_list(reality, "shortIds", "realitySettings.shortIds")
    fingerprint = check.text(inner, "fingerprint", "realitySettings.settings.fingerprint")
    spider_x = check.text(inner, "spiderX", "realitySettings.settings.spiderX")
    pqv = check.text(inner, "mldsa65Verify", "realitySettings.settings.mldsa65Verify")

    params = [("pbk", public_key)]
    if fingerprint:
        params.append(("fp", fingerprint))
    params.append(("sni", sni))
    if short_ids and short_ids[0]:
        params.append(("sid", short_ids[0]))
    if spider_x:
        params.append(("spx", spider_x))
    if pqv:
        params.append(("pqv", pqv))
    return params


def _external_proxies(check: Checker, stream: dict[str, Any]) -> list[dict[str, Any]]:
    entries = stream.get("externalProxy")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise check.fail("externalProxy must be a list")
    proxies = []
    for number, entry in enumerate(entries, start=1):
        what = f"externalProxy #{number}"
        if not isinstance(entry, dict):
            raise check.fail(f"{what} must be an object")
        force = check.text(entry, "forceTls", f"{what} forceTls", "same") or "same"
        if force not in FORCE_TLS:
            raise check.fail(f"{what} forceTls {force!r} is not one of {', '.join(FORCE_TLS)}")
        dest = check.text(entry, "dest", f"{what} dest").strip()
        if not dest:
            raise check.fail(f"{what} has no dest")
        dest = checked_host(check, dest, f"{what} dest")
        proxies.append(
            {
                "forceTls": force,
                "dest": dest,
                "port": check.port(entry.get("port"), f"{what} port"),
                "remark": check.text(entry, "remark", f"{what} remark"),
            }
        )
    return proxies


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
