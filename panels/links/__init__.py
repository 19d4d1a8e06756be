"""Share links for 3x-ui clients, built the way the panel itself builds them.

The reference is 3x-ui v2 (``web/assets/js/model/inbound.js`` for the order of the
query parameters, ``sub/subService.go`` for the subscription server); see
/work/shared/xui-api.md §8. Where the two disagree we pick one and say why:

* Address: the public host configured for the server, not a request host (the bot
  has none) nor ``listen`` (panels mostly listen on 0.0.0.0); a specific ``listen``
  is only a fallback when no host is configured.
* Reality: ``sni`` is the first serverName and ``sid`` the first shortId (the UI's
  choice; the sub server picks at random, which would make the link -- and so the QR
  file name -- change on every call). ``spx`` is ``settings.spiderX`` as in the UI.
* Shadowsocks userinfo is the sub server's standard padded base64, with the ``/`` that
  base64 may contain escaped as ``%2F`` (as Go's url package does) so that it cannot
  end the authority. ``2022-blake3-*`` methods carry ``method:serverKey:clientKey``.
* Empty optional query values (host, authority, sni, fp, alpn) are left out instead of
  being sent as ``host=``; clients treat both the same. The VMess JSON always has
  ``host`` and ``path`` (v2rayN's own export shape).
* VMess ``type`` carries the xhttp mode (the UI, which v2rayN reads) and ``mode`` is
  added as well (the sub server).

Where the panel's own links do not connect, we part from them (each proven with real
proxy software by the interop suite, ``pytest -m interop``):

* ALPN over ``ws`` and ``httpupgrade``: only ``http/1.1`` (or none), never the inbound's
  ``h2,http/1.1`` default. Both are HTTP/1.1 upgrades: Xray's own dialers offer only
  http/1.1 (``transport/internet/{websocket,httpupgrade}/dialer.go``), Xray's ws server
  (a Go http.Server behind TLS) speaks h2 when h2 is agreed and then rejects the
  upgrade ("bogus greeting"), and Hiddify (ray2sing ``common.go``) forces http/1.1 for
  both. ``xhttp`` keeps the list: Xray picks the HTTP version from it
  (``splithttp/dialer.go`` decideHTTPVersion).
* A self-signed certificate (``tlsSettings.settings.allowInsecure``, which the 3x-ui
  form set up to 2.8.9) is announced in every link: ``allowInsecure=1`` on URI links
  (v2rayNG, Hiddify and v2rayN for trojan read it) and, in the VMess JSON,
  ``"allowInsecure": true`` (the panel's own <= 2.8.9 export) and ``"insecure": "1"``
  (the key v2rayN, v2rayNG and Hiddify actually read). 3x-ui 2.8.10 dropped the key
  from its links, following Xray, which has refused ``allowInsecure`` since June 2026;
  we keep it for inbounds that have it.
* Its replacements, ``pinnedPeerCertSha256`` (3x-ui v3.2+) and ``verifyPeerCertByName``
  (v3.4+), go out as ``pcs`` (comma-joined) and ``vcn``, in the URI and in the VMess
  JSON alike (v3.6 ``internal/sub/service.go`` applyShareTLSParams).
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

from panels.links.checker import (  # noqa: F401 - part of this package's API
    SELLABLE_PROTOCOLS,
    Checker,
    LinkError,
    UnsupportedProtocol,
    checked_host,
)
from panels.links.inbound import Prepared, prepare  # noqa: F401 - part of this package's API

# What JavaScript's encodeURIComponent leaves alone; 3x-ui encodes the remark with it.
_URI_COMPONENT_SAFE = "-_.!~*'()"

# Listen values that mean "all interfaces" (3x-ui's resolveInboundAddress).
_WILDCARD_LISTEN = ("", "0.0.0.0", "::", "::0")


__all__ = [
    "SELLABLE_PROTOCOLS",
    "LinkError",
    "UnsupportedProtocol",
    "build_link",
    "build_links",
    "inbound_link_problem",
    "subscription_url",
]


def _client_secret(check: Checker, prepared: Prepared, client: Any) -> str:
    if not isinstance(client, dict):
        raise check.fail(f"client must be an object, not {type(client).__name__}")
    key = "id" if prepared.protocol in ("vless", "vmess") else "password"
    secret = client.get(key)
    if not isinstance(secret, str) or not secret:
        raise check.fail(f"client {client.get('email')!r} has no {key}")
    return secret


def _url_host(host: str) -> str:
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def _remark(parts: tuple[str, str, str]) -> str:
    # remarkModel "-ieo": inbound remark, email, external-proxy remark; empties skipped.
    return "-".join(part for part in parts if part)


def _ss_userinfo(prepared: Prepared, client: dict[str, Any], password: str) -> str:
    if prepared.ss_server_password:
        plain = f"{prepared.ss_method}:{prepared.ss_server_password}:{password}"
    else:
        # Legacy ciphers let each client have its own method; empty means inherit.
        method = client.get("method")
        if not isinstance(method, str) or not method or method.startswith("2022-"):
            method = prepared.ss_method
        plain = f"{method}:{password}"
    encoded = base64.b64encode(plain.encode()).decode("ascii")
    # "/" would end the authority; Go's url package escapes it the same way.
    return encoded.replace("/", "%2F")


def _one_link(
    prepared: Prepared,
    client: dict[str, Any],
    secret: str,
    *,
    address: str,
    port: int,
    force_tls: str,
    remark: str,
) -> str:
    security = prepared.security if force_tls == "same" else force_tls
    # forceTls only switches the outer security; TLS details exist only when the
    # inbound itself terminates TLS, and REALITY cannot be forced onto a proxy.
    own_tls = security == "tls" and prepared.security == "tls"
    own_reality = security == "reality"
    flow = client.get("flow") if prepared.protocol == "vless" else ""
    if not isinstance(flow, str):
        flow = ""
    flow_ok = bool(flow) and prepared.network == "tcp" and (own_tls or own_reality)

    if prepared.protocol == "vmess":
        scy = client.get("security")
        obj: dict[str, Any] = {
            "v": "2",
            "ps": remark,
            "add": address,
            "port": port,
            "id": secret,
            "scy": scy if isinstance(scy, str) and scy else "auto",
            "net": prepared.network,
        }
        obj.update(prepared.vmess_net)
        obj["tls"] = security
        if own_tls:
            obj.update(prepared.vmess_tls)
        text = json.dumps(obj, indent=2, ensure_ascii=False)
        return "vmess://" + base64.b64encode(text.encode()).decode("ascii")

    params: list[tuple[str, str]] = [("type", prepared.network)]
    if prepared.protocol == "vless":
        params.append(("encryption", prepared.vless_encryption))
    params.extend(prepared.net_params)
    if security == "tls":
        params.append(("security", "tls"))
        if own_tls:
            params.extend(prepared.tls_params)
    elif own_reality:
        params.append(("security", "reality"))
        params.extend(prepared.reality_params)
    elif prepared.protocol != "shadowsocks":
        # 3x-ui writes security=none for vless/trojan but nothing for ss.
        params.append(("security", "none"))
    if flow_ok:
        params.append(("flow", flow))

    if prepared.protocol == "shadowsocks":
        userinfo = _ss_userinfo(prepared, client, secret)
        scheme = "ss"
    else:
        userinfo = quote(secret, safe=_URI_COMPONENT_SAFE)
        scheme = prepared.protocol
    link = f"{scheme}://{userinfo}@{_url_host(address)}:{port}"
    link += "?" + urlencode(params, quote_via=quote)
    if remark:
        link += "#" + quote(remark, safe=_URI_COMPONENT_SAFE)
    return link


def build_links(
    *,
    inbound: dict[str, Any],
    client: dict[str, Any],
    host: str,
    remark_prefix: str | None = None,
) -> list[str]:
    """Every share link of ``client`` on ``inbound``: one per externalProxy entry, or one.

    ``host`` is the server's public address. ``remark_prefix``, when given, replaces the
    inbound remark as the first part of the ``#remark`` (an empty string drops it).
    Raises UnsupportedProtocol or LinkError (both ValueError) naming the inbound.
    """
    prepared = prepare(inbound)
    check = Checker(inbound)
    secret = _client_secret(check, prepared, client)

    address = host.strip() if isinstance(host, str) else ""
    if not address and prepared.listen not in _WILDCARD_LISTEN:
        address = prepared.listen
    if not address:
        raise check.fail("no public host configured for its server")
    address = checked_host(check, address, "public host")

    email = client.get("email") if isinstance(client.get("email"), str) else ""
    first = prepared.remark if remark_prefix is None else remark_prefix
    if not prepared.external_proxies:
        return [
            _one_link(
                prepared,
                client,
                secret,
                address=address,
                port=prepared.port,
                force_tls="same",
                remark=_remark((first, email, "")),
            )
        ]
    return [
        _one_link(
            prepared,
            client,
            secret,
            address=proxy["dest"],
            port=proxy["port"],
            force_tls=proxy["forceTls"],
            remark=_remark((first, email, proxy["remark"])),
        )
        for proxy in prepared.external_proxies
    ]


def build_link(
    *,
    inbound: dict[str, Any],
    client: dict[str, Any],
    host: str,
    remark_prefix: str | None = None,
) -> str:
    """The first link of :func:`build_links` (the one to show and put in a QR code)."""
    return build_links(inbound=inbound, client=client, host=host, remark_prefix=remark_prefix)[0]


def inbound_link_problem(inbound: dict[str, Any]) -> str | None:
    """Why no client of this inbound could ever get a working link, or None if fine."""
    try:
        prepare(inbound)
    except LinkError as exc:
        return exc.problem
    return None


def subscription_url(sub_base_url: str, sub_id: str) -> str:
    """The panel's subscription URL for ``sub_id``; "" without a base URL or sub id.

    ``sub_base_url`` is what the panel would prefix (``https://sub.example.com:2096/sub/``
    or a reverse-proxy subURI); exactly one slash ends up between it and the id.
    """
    base = (sub_base_url or "").strip()
    sub_id = (sub_id or "").strip()
    if not base or not sub_id:
        return ""
    return base.rstrip("/") + "/" + quote(sub_id, safe="")


# --- for a stored inbound and panel ---------------------------------------------------


def inbound_as_panel_dict(inbound) -> dict:
    return {
        "id": inbound.remote_id,
        "remark": inbound.remark,
        "protocol": inbound.protocol,
        "port": inbound.port,
        "listen": inbound.listen,
        "settings": inbound.settings or {},
        "streamSettings": inbound.stream_settings or {},
    }


def account_links(*, panel, inbound, client: dict) -> tuple[str, str]:
    """The config link and subscription URL of ``client`` (panels.models Panel and Inbound)."""
    config = build_link(
        inbound=inbound_as_panel_dict(inbound), client=client, host=panel.public_host
    )
    return config, subscription_url(panel.sub_base_url, client.get("subId", ""))
