"""Reading a 3x-ui inbound for links: every field checked once, every surprise a LinkError.

``prepare(inbound)`` turns the panel's loosely typed JSON into a ``Prepared`` record
(protocol, transport, TLS/REALITY, shadowsocks keys); panels.links builds the links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from panels.links.checker import (
    NETWORKS,
    REALITY_NETWORKS,
    REALITY_PROTOCOLS,
    SECURITIES,
    SELLABLE_PROTOCOLS,
    SS_SINGLE_USER_METHODS,
    Checker,
    LinkError,
)
from panels.links.stream import external_proxies, network_params, reality_params, tls_params


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

    net_params, vmess_net = network_params(check, stream, network)
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
        prepared.tls_params, prepared.vmess_tls = tls_params(check, stream, network)
    elif security == "reality":
        prepared.reality_params = reality_params(check, stream)
    if protocol == "vless":
        prepared.vless_encryption = (
            check.text(settings, "encryption", "settings.encryption", "none") or "none"
        )
    elif protocol == "shadowsocks":
        prepared.ss_method, prepared.ss_server_password = _shadowsocks_keys(check, settings)
    prepared.external_proxies = external_proxies(check, stream)
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
