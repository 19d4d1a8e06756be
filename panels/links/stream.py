"""An inbound's ``streamSettings`` for links: transport parameters, TLS, REALITY and
external proxies, each checked."""

from __future__ import annotations

from typing import Any

from panels.links.checker import (
    FORCE_TLS,
    HTTP1_NETWORKS,
    Checker,
    checked_host,
)


def network_params(
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


def tls_params(
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


def reality_params(check: Checker, stream: dict[str, Any]) -> list[tuple[str, str]]:
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


def external_proxies(check: Checker, stream: dict[str, Any]) -> list[dict[str, Any]]:
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
