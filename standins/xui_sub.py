"""The fake panel's subscription server: links built the way 3x-ui v2.9.4 builds them.

A port of ``sub/subService.go`` (v2.9.4: ``genVmessLink``, ``genVlessLink``,
``genTrojanLink``, ``genShadowsocksLink`` and their ``apply*Params`` helpers), written
from that source and deliberately NOT from ``panels.links``: the interop suite compares
what a customer is sent with what the panel's own subscription serves. Only what
MoonVPN sells is ported (tcp without header, ws, grpc, httpupgrade, xhttp path/mode;
none, tls, reality; no externalProxy, no kcp, no finalmask, no xhttp padding).

Go's quirks that are kept: ``url.Values.Encode`` sorts the query keys; the VMess JSON
is ``json.MarshalIndent`` (sorted keys, two spaces) in padded standard base64;
REALITY ``sni``/``sid`` are picked at random and ``spx`` is ``/`` + 15 random
characters; the Shadowsocks method is the inbound's (2022: ``method:server:client``);
the address is the request's host unless ``listen`` is a specific address. The remark
is ``<inbound remark>-<email>`` (remarkModel ``-ieo``, subShowInfo off).
"""

from __future__ import annotations

import base64
import json
import random
import string
from typing import Any
from urllib.parse import quote

__all__ = ["sub_links"]


def _search_host(headers: Any) -> str:
    if not isinstance(headers, dict):
        return ""
    for key, value in headers.items():
        if key.lower() == "host":
            if isinstance(value, list):
                return value[0] if value else ""
            return str(value)
    return ""


def _path_and_host(conf: dict[str, Any], out: dict[str, Any]) -> None:
    out["path"] = conf.get("path", "")
    host = conf.get("host")
    out["host"] = host if isinstance(host, str) and host else _search_host(conf.get("headers"))


def _network_params(stream: dict[str, Any], network: str, out: dict[str, Any]) -> None:
    if network == "tcp":
        header = (stream.get("tcpSettings") or {}).get("header") or {}
        if header.get("type") == "http":
            request = header.get("request") or {}
            out["path"] = (request.get("path") or [""])[0]
            out["host"] = _search_host(request.get("headers"))
            out["headerType"] = "http"
    elif network in ("ws", "httpupgrade"):
        _path_and_host(stream.get(f"{network}Settings") or {}, out)
    elif network == "grpc":
        grpc = stream.get("grpcSettings") or {}
        out["serviceName"] = grpc.get("serviceName", "")
        out["authority"] = grpc.get("authority", "")
        if grpc.get("multiMode"):
            out["mode"] = "multi"
    elif network == "xhttp":
        xhttp = stream.get("xhttpSettings") or {}
        _path_and_host(xhttp, out)
        out["mode"] = xhttp.get("mode", "")


def _tls_params(stream: dict[str, Any], out: dict[str, Any], *, vmess: bool) -> None:
    if not vmess:
        out["security"] = "tls"
    tls = stream.get("tlsSettings") or {}
    alpn = [a for a in tls.get("alpn") or [] if isinstance(a, str)]
    if alpn:
        out["alpn"] = ",".join(alpn)
    if "serverName" in tls:
        out["sni"] = tls["serverName"]
    inner = tls.get("settings") or {}
    if "fingerprint" in inner:
        out["fp"] = inner["fingerprint"]


def _reality_params(stream: dict[str, Any], out: dict[str, Any], rng: random.Random) -> None:
    out["security"] = "reality"
    reality = stream.get("realitySettings") or {}
    inner = reality.get("settings") or {}
    names = reality.get("serverNames") or []
    if names:
        out["sni"] = names[rng.randrange(len(names))]
    if "publicKey" in inner:
        out["pbk"] = inner["publicKey"]
    short_ids = reality.get("shortIds") or []
    if short_ids:
        out["sid"] = short_ids[rng.randrange(len(short_ids))]
    if inner.get("fingerprint"):
        out["fp"] = inner["fingerprint"]
    if inner.get("mldsa65Verify"):
        out["pqv"] = inner["mldsa65Verify"]
    alphabet = string.ascii_letters + string.digits
    out["spx"] = "/" + "".join(rng.choice(alphabet) for _ in range(15))


def _go_query(params: dict[str, str]) -> str:
    # url.Values.Encode: keys sorted, QueryEscape (space as +, "/" as %2F).
    return "&".join(
        f"{quote(k, safe='')}={quote(v, safe='').replace('%20', '+')}"
        for k, v in sorted(params.items())
    )


def _go_url(scheme: str, user: str, address: str, port: int, params, remark: str) -> str:
    host = f"[{address}]" if ":" in address else address
    fragment = quote(remark, safe="-_.~!$&'()*+,;=:@/?")
    return f"{scheme}://{quote(user, safe='')}@{host}:{port}?{_go_query(params)}#{fragment}"


def _link(inbound: dict[str, Any], client: dict[str, Any], address: str, rng) -> str:
    protocol = inbound["protocol"]
    stream = inbound.get("streamSettings") or {}
    settings = inbound.get("settings") or {}
    network = stream.get("network", "tcp")
    security = stream.get("security", "")
    listen = inbound.get("listen") or ""
    if listen not in ("", "0.0.0.0", "::", "::0"):
        address = listen
    remark = "-".join(p for p in (inbound.get("remark", ""), client.get("email", "")) if p)
    port = inbound["port"]

    if protocol == "vmess":
        obj: dict[str, Any] = {"v": "2", "add": address, "port": port, "type": "none"}
        obj["net"] = network
        if network == "tcp":
            header = (stream.get("tcpSettings") or {}).get("header") or {}
            obj["type"] = header.get("type", "")
        elif network == "grpc":
            grpc = stream.get("grpcSettings") or {}
            obj["path"] = grpc.get("serviceName", "")
            obj["authority"] = grpc.get("authority", "")
            if grpc.get("multiMode"):
                obj["type"] = "multi"
        else:
            _network_params(stream, network, obj)
        obj["tls"] = security
        if security == "tls":
            _tls_params(stream, obj, vmess=True)
        obj["id"] = client.get("id", "")
        obj["scy"] = client.get("security", "")
        obj["ps"] = remark
        text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False)
        return "vmess://" + base64.b64encode(text.encode()).decode()

    params: dict[str, str] = {"type": network}
    if protocol == "vless" and isinstance(settings.get("encryption"), str):
        params["encryption"] = settings["encryption"]
    _network_params(stream, network, params)
    flow = client.get("flow") or ""
    if security == "tls":
        _tls_params(stream, params, vmess=False)
        if protocol == "vless" and network == "tcp" and flow:
            params["flow"] = flow
    elif security == "reality":
        _reality_params(stream, params, rng)
        if protocol in ("vless", "trojan") and network == "tcp" and flow:
            params["flow"] = flow
    elif protocol != "shadowsocks":
        params["security"] = "none"

    if protocol == "vless":
        return _go_url("vless", client.get("id", ""), address, port, params, remark)
    if protocol == "trojan":
        return _go_url("trojan", client.get("password", ""), address, port, params, remark)
    method = settings.get("method", "")
    secret = f"{method}:{client.get('password', '')}"
    if method.startswith("2"):
        secret = f"{method}:{settings.get('password', '')}:{client.get('password', '')}"
    userinfo = base64.b64encode(secret.encode()).decode()
    host = f"[{address}]" if ":" in address else address
    fragment = quote(remark, safe="-_.~!$&'()*+,;=:@/?")
    # Go's url.URL.String escapes "/" in the userinfo; "+" and "=" stay.
    user = quote(userinfo, safe="+=")
    return f"ss://{user}@{host}:{port}?{_go_query(params)}#{fragment}"


def sub_links(inbounds: list[dict[str, Any]], sub_id: str, address: str) -> list[str]:
    """Every link of ``sub_id`` on the enabled sellable inbounds, in inbound order."""
    rng = random.Random()
    links = []
    for inbound in inbounds:
        if not inbound.get("enable", True):
            continue
        if inbound.get("protocol") not in ("vmess", "vless", "trojan", "shadowsocks"):
            continue
        for client in (inbound.get("settings") or {}).get("clients") or []:
            if client.get("subId") == sub_id:
                links.append(_link(inbound, client, address, rng))
    return links
