"""Share links built like 3x-ui's, and parsed back the way a VPN client reads them."""

import base64
import copy
import json
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from panels.links import (
    SELLABLE_PROTOCOLS,
    LinkError,
    UnsupportedProtocol,
    build_link,
    build_links,
    inbound_link_problem,
    subscription_url,
)


@pytest.fixture(autouse=True)
def _media_root():
    """Pure functions: shadow the project conftest's Django-only autouse fixture."""


UUID = "b831381d-6324-4d53-ad4f-8cda48b30811"
TROJAN_PASSWORD = "Xq4mT9vLp2"
SS_SERVER_KEY = "oY5pSDPSd0d2rnvb1DJfSg=="
SS_CLIENT_KEY = "k0KV9Lbsxa7KOK23NUvRLw=="
HOST = "vpn.example.com"
PORT = 443
PBK = "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw"

NETWORKS = {
    "tcp": ("tcp", {"tcpSettings": {"acceptProxyProtocol": False, "header": {"type": "none"}}}),
    "tcp-http": (
        "tcp",
        {
            "tcpSettings": {
                "header": {
                    "type": "http",
                    "request": {
                        "version": "1.1",
                        "method": "GET",
                        "path": ["/news"],
                        "headers": {"Host": ["cdn.example.org"]},
                    },
                    "response": {"version": "1.1", "status": "200"},
                }
            }
        },
    ),
    "ws": ("ws", {"wsSettings": {"path": "/ws", "host": "ws.example.org", "headers": {}}}),
    "grpc": (
        "grpc",
        {
            "grpcSettings": {
                "serviceName": "svc",
                "authority": "auth.example.org",
                "multiMode": True,
            }
        },
    ),
    "httpupgrade": (
        "httpupgrade",
        # No host field: the Host header is used, as the panel does.
        {"httpupgradeSettings": {"path": "/up", "host": "", "headers": {"host": "hu.example.org"}}},
    ),
    "xhttp": (
        "xhttp",
        {"xhttpSettings": {"path": "/xh", "host": "xh.example.org", "mode": "packet-up"}},
    ),
}

NET_PARAMS = {
    "tcp": {},
    "tcp-http": {"path": "/news", "host": "cdn.example.org", "headerType": "http"},
    "ws": {"path": "/ws", "host": "ws.example.org"},
    "grpc": {"serviceName": "svc", "authority": "auth.example.org", "mode": "multi"},
    "httpupgrade": {"path": "/up", "host": "hu.example.org"},
    "xhttp": {"path": "/xh", "host": "xh.example.org", "mode": "packet-up"},
}

VMESS_NET = {
    "tcp": {"type": "none", "host": "", "path": ""},
    "tcp-http": {"type": "http", "host": "cdn.example.org", "path": "/news"},
    "ws": {"type": "none", "host": "ws.example.org", "path": "/ws"},
    "grpc": {"type": "multi", "host": "", "path": "svc", "authority": "auth.example.org"},
    "httpupgrade": {"type": "none", "host": "hu.example.org", "path": "/up"},
    "xhttp": {"type": "packet-up", "host": "xh.example.org", "path": "/xh", "mode": "packet-up"},
}

SECURITY = {
    "none": {},
    "tls": {
        "tlsSettings": {
            "serverName": "sni.example.org",
            "minVersion": "1.2",
            "alpn": ["h2", "http/1.1"],
            "certificates": [{"certificateFile": "/root/cert.crt", "keyFile": "/root/k.key"}],
            "settings": {"allowInsecure": False, "fingerprint": "chrome"},
        }
    },
    "reality": {
        "realitySettings": {
            "show": False,
            "xver": 0,
            "dest": "www.speedtest.net:443",
            "serverNames": ["www.speedtest.net", "speedtest.net"],
            "privateKey": "cGl2YXRlLWtleS1ub3QtaW4tbGlua3M",
            "shortIds": ["6ba85179e30d4fc2", "ab"],
            "settings": {
                "publicKey": PBK,
                "fingerprint": "firefox",
                "serverName": "",
                "spiderX": "/probe",
            },
        }
    },
}

SECURITY_PARAMS = {
    "none": {"security": "none"},
    "tls": {"security": "tls", "fp": "chrome", "alpn": "h2,http/1.1", "sni": "sni.example.org"},
    "reality": {
        "security": "reality",
        "pbk": PBK,
        "fp": "firefox",
        "sni": "www.speedtest.net",
        "sid": "6ba85179e30d4fc2",
        "spx": "/probe",
    },
}


def make_inbound(protocol="vless", net="tcp", security="none", *, as_json=True, **extra):
    network, net_settings = NETWORKS[net]
    stream = {"network": network, "security": security, "externalProxy": []}
    stream.update(copy.deepcopy(net_settings))
    stream.update(copy.deepcopy(SECURITY[security]))
    settings = {
        "vless": {"clients": [], "decryption": "none", "encryption": "none", "fallbacks": []},
        "vmess": {"clients": []},
        "trojan": {"clients": [], "fallbacks": []},
        "shadowsocks": {
            "method": "2022-blake3-aes-128-gcm",
            "password": SS_SERVER_KEY,
            "network": "tcp,udp",
            "clients": [],
            "ivCheck": False,
        },
    }.get(protocol, {})
    inbound = {
        "id": 7,
        "remark": "DE-1",
        "enable": True,
        "listen": "",
        "port": PORT,
        "protocol": protocol,
        "settings": json.dumps(settings) if as_json else settings,
        "streamSettings": json.dumps(stream) if as_json else stream,
        "tag": f"inbound-{PORT}",
    }
    inbound.update(extra)
    return inbound


def make_client(protocol="vless", **extra):
    client = {
        "email": "alice",
        "enable": True,
        "expiryTime": 0,
        "totalGB": 0,
        "limitIp": 0,
        "subId": "k3h2m9q8w7e6r5t4",
        "tgId": 0,
        "reset": 0,
    }
    if protocol == "vless":
        client.update(id=UUID, flow="xtls-rprx-vision")
    elif protocol == "vmess":
        client.update(id=UUID, security="auto")
    elif protocol == "trojan":
        client.update(password=TROJAN_PASSWORD)
    elif protocol == "shadowsocks":
        client.update(password=SS_CLIENT_KEY, method="")
    client.update(extra)
    return client


def parse_link(link):
    """(scheme, userinfo, host, port, query dict, remark) as a client would read them."""
    parts = urlsplit(link)
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    assert all(len(values) == 1 for values in query.values()), f"repeated parameter in {link}"
    return (
        parts.scheme,
        unquote(parts.username or ""),
        parts.hostname,
        parts.port,
        {key: values[0] for key, values in query.items()},
        unquote(parts.fragment),
    )


def decode_vmess(link):
    assert link.startswith("vmess://")
    payload = link.removeprefix("vmess://")
    assert len(payload) % 4 == 0, "standard padded base64"
    return json.loads(base64.b64decode(payload, validate=True).decode())


def decode_ss_userinfo(link):
    raw = urlsplit(link).username
    assert "/" not in raw, "a raw slash would end the authority"
    return base64.b64decode(unquote(raw), validate=True).decode()


def matrix():
    for protocol in SELLABLE_PROTOCOLS:
        for net in NETWORKS:
            for security in ("none", "tls", "reality"):
                if security == "reality" and (
                    protocol not in ("vless", "trojan") or net not in ("tcp", "grpc", "xhttp")
                ):
                    continue  # Xray refuses these; tested below as errors
                yield protocol, net, security


def _alpn(net):
    # ws and httpupgrade are HTTP/1.1 upgrades: the inbound's h2 is not offered.
    return "http/1.1" if net in ("ws", "httpupgrade") else "h2,http/1.1"


@pytest.mark.parametrize(("protocol", "net", "security"), list(matrix()))
def test_every_combination_parses_back_to_the_panel_settings(protocol, net, security):
    inbound = make_inbound(protocol, net, security)
    links = build_links(inbound=inbound, client=make_client(protocol), host=HOST)

    assert len(links) == 1
    link = links[0]
    assert build_link(inbound=inbound, client=make_client(protocol), host=HOST) == link
    network = NETWORKS[net][0]

    if protocol == "vmess":
        expected = {
            "v": "2",
            "ps": "DE-1-alice",
            "add": HOST,
            "port": PORT,
            "id": UUID,
            "scy": "auto",
            "net": network,
            **VMESS_NET[net],
            "tls": security,
        }
        if security == "tls":
            expected.update(sni="sni.example.org", alpn=_alpn(net), fp="chrome")
        assert decode_vmess(link) == expected
        return

    scheme, userinfo, host, port, query, remark = parse_link(link)
    assert (host, port, remark) == (HOST, PORT, "DE-1-alice")
    expected_query = {"type": network}
    if protocol == "vless":
        expected_query["encryption"] = "none"
    expected_query.update(NET_PARAMS[net])
    if protocol != "shadowsocks" or security != "none":
        expected_query.update(SECURITY_PARAMS[security])
    if security == "tls":
        expected_query["alpn"] = _alpn(net)
    if protocol == "vless" and network == "tcp" and security in ("tls", "reality"):
        expected_query["flow"] = "xtls-rprx-vision"
    assert query == expected_query

    if protocol == "vless":
        assert (scheme, userinfo) == ("vless", UUID)
    elif protocol == "trojan":
        assert (scheme, userinfo) == ("trojan", TROJAN_PASSWORD)
    else:
        assert scheme == "ss"
        assert decode_ss_userinfo(link) == (
            f"2022-blake3-aes-128-gcm:{SS_SERVER_KEY}:{SS_CLIENT_KEY}"
        )


# Exact strings, checked by hand against genVLESSLink / genTrojanLink / genSSLink /
# genVmessLink of 3x-ui v2.9.4's inbound.js: same parameter order, same
# encodeURIComponent fragment; "/" is %2F there too (URLSearchParams).


def test_vless_reality_vision_link_is_exactly_what_the_panel_shows():
    link = build_link(
        inbound=make_inbound("vless", "tcp", "reality"), client=make_client("vless"), host=HOST
    )
    assert link == (
        f"vless://{UUID}@vpn.example.com:443?type=tcp&encryption=none&security=reality"
        f"&pbk={PBK}&fp=firefox&sni=www.speedtest.net&sid=6ba85179e30d4fc2&spx=%2Fprobe"
        "&flow=xtls-rprx-vision#DE-1-alice"
    )


def test_vless_ws_tls_link_is_what_the_panel_shows_but_offers_only_http1():
    # flow is dropped off tcp, as the panel does. The panel would copy the inbound's
    # alpn (h2,http/1.1); a ws upgrade over an agreed h2 fails on Xray servers.
    link = build_link(
        inbound=make_inbound("vless", "ws", "tls"), client=make_client("vless"), host=HOST
    )
    assert link == (
        f"vless://{UUID}@vpn.example.com:443?type=ws&encryption=none&path=%2Fws"
        "&host=ws.example.org&security=tls&fp=chrome&alpn=http%2F1.1"
        "&sni=sni.example.org#DE-1-alice"
    )


def test_trojan_grpc_reality_link_is_exactly_what_the_panel_shows():
    link = build_link(
        inbound=make_inbound("trojan", "grpc", "reality"), client=make_client("trojan"), host=HOST
    )
    assert link == (
        f"trojan://{TROJAN_PASSWORD}@vpn.example.com:443?type=grpc&serviceName=svc"
        f"&authority=auth.example.org&mode=multi&security=reality&pbk={PBK}&fp=firefox"
        "&sni=www.speedtest.net&sid=6ba85179e30d4fc2&spx=%2Fprobe#DE-1-alice"
    )


def test_shadowsocks_2022_link_uses_padded_base64_of_method_server_and_client_key():
    link = build_link(
        inbound=make_inbound("shadowsocks", "tcp", "none"),
        client=make_client("shadowsocks"),
        host=HOST,
    )
    # printf '%s' '2022-blake3-aes-128-gcm:<server>:<client>' | base64 -w0
    assert link == (
        "ss://MjAyMi1ibGFrZTMtYWVzLTEyOC1nY206b1k1cFNEUFNkMGQycm52YjFESmZTZz09Om"
        "swS1Y5TGJzeGE3S09LMjNOVXZSTHc9PQ==@vpn.example.com:443?type=tcp#DE-1-alice"
    )


def test_vmess_link_is_padded_base64_of_the_indented_json():
    link = build_link(
        inbound=make_inbound("vmess", "ws", "tls"), client=make_client("vmess"), host=HOST
    )
    expected_json = """{
  "v": "2",
  "ps": "DE-1-alice",
  "add": "vpn.example.com",
  "port": 443,
  "id": "b831381d-6324-4d53-ad4f-8cda48b30811",
  "scy": "auto",
  "net": "ws",
  "type": "none",
  "host": "ws.example.org",
  "path": "/ws",
  "tls": "tls",
  "sni": "sni.example.org",
  "alpn": "http/1.1",
  "fp": "chrome"
}"""
    assert link == "vmess://" + base64.b64encode(expected_json.encode()).decode()


def test_legacy_shadowsocks_cipher_carries_only_the_client_password():
    inbound = make_inbound("shadowsocks", "ws", "none")
    settings = json.loads(inbound["settings"])
    settings.update(method="chacha20-ietf-poly1305", password="")
    inbound["settings"] = json.dumps(settings)

    link = build_link(
        inbound=inbound, client=make_client("shadowsocks", password="s3cret"), host=HOST
    )

    assert decode_ss_userinfo(link) == "chacha20-ietf-poly1305:s3cret"
    assert parse_link(link)[4] == {"type": "ws", "path": "/ws", "host": "ws.example.org"}


def test_legacy_shadowsocks_client_with_own_method_uses_it():
    inbound = make_inbound("shadowsocks", "tcp", "none")
    settings = json.loads(inbound["settings"])
    settings.update(method="aes-256-gcm", password="")
    inbound["settings"] = json.dumps(settings)
    client = make_client("shadowsocks", password="pw", method="chacha20-ietf-poly1305")

    assert decode_ss_userinfo(build_link(inbound=inbound, client=client, host=HOST)) == (
        "chacha20-ietf-poly1305:pw"
    )


def test_shadowsocks_base64_slash_is_escaped_so_the_link_still_parses():
    inbound = make_inbound("shadowsocks", "tcp", "none")
    settings = json.loads(inbound["settings"])
    settings.update(method="aes-256-gcm", password="")
    inbound["settings"] = json.dumps(settings)

    # base64("aes-256-gcm:ab?") == "YWVzLTI1Ni1nY206YWI/"
    link = build_link(inbound=inbound, client=make_client("shadowsocks", password="ab?"), host=HOST)

    assert link.startswith("ss://YWVzLTI1Ni1nY206YWI%2F@vpn.example.com:443?")
    assert urlsplit(link).hostname == HOST
    assert decode_ss_userinfo(link) == "aes-256-gcm:ab?"


def test_settings_may_be_parsed_dicts_or_json_strings():
    for protocol, net, security in [("vless", "grpc", "reality"), ("vmess", "xhttp", "tls")]:
        as_text = make_inbound(protocol, net, security)
        as_dicts = make_inbound(protocol, net, security, as_json=False)
        client = make_client(protocol)
        assert build_links(inbound=as_dicts, client=client, host=HOST) == build_links(
            inbound=as_text, client=client, host=HOST
        )


def test_special_characters_in_path_remark_email_and_password_survive_the_round_trip():
    inbound = make_inbound("trojan", "ws", "tls", remark="سرور آلمان #1 & co", as_json=False)
    inbound["streamSettings"]["wsSettings"]["path"] = "/ws?ed=2048&x=a b"
    client = make_client("trojan", email="ali+1@mail.com/ü", password="p@ss:w/rd?#")

    link = build_link(inbound=inbound, client=client, host=HOST)

    assert " " not in link and "#" not in link.split("#", 1)[1]
    assert "path=%2Fws%3Fed%3D2048%26x%3Da%20b" in link
    scheme, userinfo, host, port, query, remark = parse_link(link)
    assert userinfo == "p@ss:w/rd?#"
    assert (host, port) == (HOST, PORT)
    assert query["path"] == "/ws?ed=2048&x=a b"
    assert remark == "سرور آلمان #1 & co-ali+1@mail.com/ü"
    # JavaScript's encodeURIComponent, as the panel uses for the fragment.
    assert link.endswith("-ali%2B1%40mail.com%2F%C3%BC")


def test_vmess_remark_keeps_unicode_and_decodes_exactly():
    inbound = make_inbound("vmess", "tcp", "none", remark="آلمان ۱")
    obj = decode_vmess(build_link(inbound=inbound, client=make_client("vmess"), host=HOST))
    assert obj["ps"] == "آلمان ۱-alice"


def test_remark_prefix_replaces_the_inbound_remark():
    inbound = make_inbound("vless", "tcp", "none")
    client = make_client("vless")
    assert (
        parse_link(build_link(inbound=inbound, client=client, host=HOST, remark_prefix="Moon"))[5]
        == "Moon-alice"
    )
    assert (
        parse_link(build_link(inbound=inbound, client=client, host=HOST, remark_prefix=""))[5]
        == "alice"
    )


def test_empty_remark_parts_are_skipped():
    inbound = make_inbound("vless", "tcp", "none", remark="")
    link = build_link(inbound=inbound, client=make_client("vless", email=""), host=HOST)
    assert "#" not in link


def test_external_proxies_give_one_link_each_with_forced_security():
    inbound = make_inbound("vless", "ws", "tls", as_json=False)
    inbound["streamSettings"]["externalProxy"] = [
        {"forceTls": "none", "dest": "cdn1.example.net", "port": 80, "remark": "CDN"},
        {"forceTls": "tls", "dest": "cdn2.example.net", "port": 8443.0, "remark": ""},
        {"forceTls": "same", "dest": "2001:db8::7", "port": 2053, "remark": "v6"},
    ]

    links = build_links(inbound=inbound, client=make_client("vless"), host=HOST)

    assert len(links) == 3
    _, uuid, host, port, query, remark = parse_link(links[0])
    assert (uuid, host, port, remark) == (UUID, "cdn1.example.net", 80, "DE-1-alice-CDN")
    assert query == {
        "type": "ws",
        "encryption": "none",
        "path": "/ws",
        "host": "ws.example.org",
        "security": "none",
    }
    _, _, host, port, query, remark = parse_link(links[1])
    assert (host, port, remark) == ("cdn2.example.net", 8443, "DE-1-alice")
    assert query["security"] == "tls" and query["sni"] == "sni.example.org"
    assert "@[2001:db8::7]:2053?" in links[2]
    _, _, host, port, query, remark = parse_link(links[2])
    assert (host, port, remark) == ("2001:db8::7", 2053, "DE-1-alice-v6")
    assert query["security"] == "tls"
    assert build_link(inbound=inbound, client=make_client("vless"), host=HOST) == links[0]


def test_external_proxy_forcing_tls_on_a_plain_inbound_adds_no_foreign_tls_details():
    inbound = make_inbound("trojan", "ws", "none", as_json=False)
    inbound["streamSettings"]["externalProxy"] = [
        {"forceTls": "tls", "dest": "cdn.example.net", "port": 443, "remark": "CF"}
    ]
    (link,) = build_links(inbound=inbound, client=make_client("trojan"), host=HOST)
    query = parse_link(link)[4]
    assert query == {"type": "ws", "path": "/ws", "host": "ws.example.org", "security": "tls"}


def test_external_proxy_forcing_none_on_reality_drops_reality_and_flow():
    inbound = make_inbound("vless", "tcp", "reality", as_json=False)
    inbound["streamSettings"]["externalProxy"] = [
        {"forceTls": "none", "dest": "relay.example.net", "port": 8080, "remark": ""}
    ]
    (link,) = build_links(inbound=inbound, client=make_client("vless"), host=HOST)
    assert parse_link(link)[4] == {"type": "tcp", "encryption": "none", "security": "none"}


def test_vmess_external_proxy_forcing_none_drops_sni_alpn_fp():
    inbound = make_inbound("vmess", "grpc", "tls", as_json=False)
    inbound["streamSettings"]["externalProxy"] = [
        {"forceTls": "none", "dest": "cdn.example.net", "port": 80, "remark": "CDN"},
        {"forceTls": "same", "dest": "cdn.example.net", "port": 443, "remark": "CDN-TLS"},
    ]
    plain, tls = (
        decode_vmess(link)
        for link in build_links(inbound=inbound, client=make_client("vmess"), host=HOST)
    )
    assert plain["tls"] == "none" and not {"sni", "alpn", "fp"} & plain.keys()
    assert (plain["add"], plain["port"], plain["ps"]) == ("cdn.example.net", 80, "DE-1-alice-CDN")
    assert tls["tls"] == "tls" and tls["sni"] == "sni.example.org" and tls["port"] == 443


def test_vless_encryption_comes_from_inbound_settings():
    inbound = make_inbound("vless", "tcp", "none", as_json=False)
    inbound["settings"]["encryption"] = "mlkem768x25519plus.native.0rtt.abc"
    query = parse_link(build_link(inbound=inbound, client=make_client("vless"), host=HOST))[4]
    assert query["encryption"] == "mlkem768x25519plus.native.0rtt.abc"


def test_grpc_without_multi_mode_and_empty_optional_values():
    inbound = make_inbound("vless", "grpc", "none", as_json=False)
    inbound["streamSettings"]["grpcSettings"] = {
        "serviceName": "",
        "authority": "",
        "multiMode": False,
    }
    query = parse_link(build_link(inbound=inbound, client=make_client("vless"), host=HOST))[4]
    assert query == {"type": "grpc", "encryption": "none", "serviceName": "", "security": "none"}


def test_kcp_carries_header_type_and_seed():
    inbound = make_inbound("vless", "tcp", "none", as_json=False)
    inbound["streamSettings"] = {
        "network": "kcp",
        "security": "none",
        "kcpSettings": {"mtu": 1350, "tti": 20, "header": {"type": "wechat-video"}, "seed": "s33d"},
    }
    query = parse_link(build_link(inbound=inbound, client=make_client("vless"), host=HOST))[4]
    assert query == {
        "type": "kcp",
        "encryption": "none",
        "headerType": "wechat-video",
        "seed": "s33d",
        "security": "none",
    }


def test_ipv6_public_host_is_bracketed_in_urls_and_bare_in_vmess():
    link = build_link(
        inbound=make_inbound("trojan"), client=make_client("trojan"), host="2001:db8::1"
    )
    assert "@[2001:db8::1]:443?" in link
    assert parse_link(link)[2] == "2001:db8::1"
    vmess = decode_vmess(
        build_link(inbound=make_inbound("vmess"), client=make_client("vmess"), host="[2001:db8::1]")
    )
    assert vmess["add"] == "2001:db8::1"


def test_specific_listen_address_is_used_only_when_no_public_host_is_set():
    inbound = make_inbound("vless", listen="203.0.113.9")
    assert parse_link(build_link(inbound=inbound, client=make_client(), host=HOST))[2] == HOST
    assert parse_link(build_link(inbound=inbound, client=make_client(), host=""))[2] == (
        "203.0.113.9"
    )


@pytest.mark.parametrize(
    "host", ["", "   ", "vpn.example.com:443", "http://vpn.example.com", "a b"]
)
def test_unusable_public_host_is_a_link_error(host):
    with pytest.raises(LinkError, match=r"inbound 'DE-1' \(id 7\)"):
        build_link(inbound=make_inbound("vless"), client=make_client(), host=host)


@pytest.mark.parametrize(
    "protocol",
    ["wireguard", "http", "mixed", "tunnel", "dokodemo-door", "hysteria", "hysteria2", "socks"],
)
def test_protocols_we_cannot_sell_raise_unsupported_protocol(protocol):
    inbound = {
        "id": 12,
        "remark": "WG",
        "protocol": protocol,
        "port": 51820,
        "settings": "{}",
        "streamSettings": "",
    }
    with pytest.raises(UnsupportedProtocol, match=r"inbound 'WG' \(id 12\).*" + protocol):
        build_links(inbound=inbound, client=make_client(), host=HOST)
    # Callers that only catch LinkError (provisioning) still get a clean failure.
    assert issubclass(UnsupportedProtocol, LinkError) and issubclass(LinkError, ValueError)
    assert protocol in inbound_link_problem(inbound)


def _set(path, value):
    def mutate(stream):
        target = stream
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


MALFORMED = {
    "stream not json": ("vless", "tcp", "none", "streamSettings", "{not json", "not valid JSON"),
    "stream is a list": ("vless", "tcp", "none", "streamSettings", "[1, 2]", "JSON object"),
    "stream is a number": ("vless", "tcp", "none", "streamSettings", 5, "JSON object"),
    "stream missing": ("vless", "tcp", "none", "streamSettings", None, "missing"),
    "settings not json": ("vless", "tcp", "none", "settings", "{oops", "settings is not valid"),
    "port text": ("vless", "tcp", "none", "port", "https", "port"),
    "port too big": ("vless", "tcp", "none", "port", 70000, "outside"),
    "no port": ("vless", "tcp", "none", "port", None, "port"),
    "network list": ("vless", "tcp", "none", _set(["network"], ["ws"]), None, "network"),
    "unknown network": ("vless", "tcp", "none", _set(["network"], "quic"), None, "'quic'"),
    "unknown security": ("vless", "tcp", "none", _set(["security"], "xtls"), None, "'xtls'"),
    "ws settings list": ("vless", "ws", "none", _set(["wsSettings"], []), None, "wsSettings"),
    "ws path number": ("vmess", "ws", "none", _set(["wsSettings", "path"], 8), None, "path"),
    "ws headers list": (
        "vless",
        "ws",
        "none",
        _set(["wsSettings", "headers"], ["Host"]),
        None,
        "headers",
    ),
    "grpc multi text": (
        "trojan",
        "grpc",
        "none",
        _set(["grpcSettings", "multiMode"], "yes"),
        None,
        "multiMode",
    ),
    "tcp path not list": (
        "vless",
        "tcp-http",
        "none",
        _set(["tcpSettings", "header", "request", "path"], [1]),
        None,
        "path",
    ),
    "tcp header odd": (
        "vless",
        "tcp",
        "none",
        _set(["tcpSettings", "header", "type"], "srtp"),
        None,
        "srtp",
    ),
    "tls settings text": ("vless", "tcp", "tls", _set(["tlsSettings"], "x"), None, "tlsSettings"),
    "alpn number": ("vless", "tcp", "tls", _set(["tlsSettings", "alpn"], 2), None, "alpn"),
    "reality missing": (
        "vless",
        "tcp",
        "reality",
        lambda s: s.pop("realitySettings"),
        None,
        "realitySettings",
    ),
    "reality no settings": (
        "vless",
        "tcp",
        "reality",
        lambda s: s["realitySettings"].pop("settings"),
        None,
        "settings",
    ),
    "reality no pbk": (
        "vless",
        "tcp",
        "reality",
        _set(["realitySettings", "settings", "publicKey"], ""),
        None,
        "publicKey",
    ),
    "reality no sni": (
        "trojan",
        "tcp",
        "reality",
        _set(["realitySettings", "serverNames"], []),
        None,
        "serverNames",
    ),
    "reality on vmess": ("vmess", "tcp", "reality", None, None, "vmess"),
    "reality on ss": ("shadowsocks", "tcp", "reality", None, None, "shadowsocks"),
    "reality on ws": ("vless", "ws", "reality", None, None, "ws"),
    "proxy not list": (
        "vless",
        "tcp",
        "none",
        _set(["externalProxy"], {"dest": "x"}),
        None,
        "externalProxy",
    ),
    "proxy bad force": (
        "vless",
        "tcp",
        "none",
        _set(["externalProxy"], [{"forceTls": "maybe", "dest": "a.b", "port": 1}]),
        None,
        "maybe",
    ),
    "proxy no port": (
        "vless",
        "tcp",
        "none",
        _set(["externalProxy"], [{"dest": "a.b"}]),
        None,
        "port",
    ),
    "proxy no dest": (
        "vless",
        "tcp",
        "none",
        _set(["externalProxy"], [{"dest": "", "port": 1}]),
        None,
        "dest",
    ),
    "fallback socket": ("vless", "ws", "none", "listen", "@vless-ws", "fallback"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_inbounds_raise_link_error_naming_the_inbound(case):
    protocol, net, security, target, value, words = MALFORMED[case]
    inbound = make_inbound(protocol, net, security, as_json=False)
    if callable(target):
        target(inbound["streamSettings"])
    elif target is not None:
        inbound[target] = value

    with pytest.raises(LinkError) as raised:
        build_links(inbound=inbound, client=make_client(protocol), host=HOST)

    assert isinstance(raised.value, ValueError)
    assert "inbound 'DE-1' (id 7)" in str(raised.value)
    assert words in str(raised.value)
    assert inbound_link_problem(inbound) == raised.value.problem


def test_shadowsocks_single_user_and_keyless_2022_inbounds_are_not_sellable():
    inbound = make_inbound("shadowsocks", as_json=False)
    inbound["settings"]["method"] = "2022-blake3-chacha20-poly1305"
    assert "single-user" in inbound_link_problem(inbound)
    inbound["settings"].update(method="2022-blake3-aes-256-gcm", password="")
    assert "server key" in inbound_link_problem(inbound)
    inbound["settings"] = {}
    assert "method" in inbound_link_problem(inbound)


def test_good_inbounds_have_no_link_problem():
    for protocol, net, security in matrix():
        assert inbound_link_problem(make_inbound(protocol, net, security)) is None


@pytest.mark.parametrize(
    ("protocol", "client", "words"),
    [
        ("vless", {"email": "a"}, "no id"),
        ("vmess", {"email": "a", "id": ""}, "no id"),
        ("trojan", {"email": "a", "password": 5}, "no password"),
        ("shadowsocks", {"email": "a"}, "no password"),
        ("vless", "not-a-client", "client must be an object"),
    ],
)
def test_client_without_its_key_is_a_link_error(protocol, client, words):
    with pytest.raises(LinkError, match=words):
        build_link(inbound=make_inbound(protocol), client=client, host=HOST)


def test_non_dict_inbound_is_a_link_error():
    with pytest.raises(LinkError):
        build_link(inbound="vless://", client=make_client(), host=HOST)
    assert inbound_link_problem(None) is not None


JUNK = [None, 0, 1.5, True, "", "x", [], ["a"], {}, {"a": 1}]


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))


@pytest.mark.parametrize(("protocol", "net", "security"), list(matrix())[::3])
def test_any_junk_in_stream_settings_gives_a_typed_error_never_a_traceback(protocol, net, security):
    base = make_inbound(protocol, net, security, as_json=False)
    for path in list(_paths(base["streamSettings"])) + [("settings",), ("port",), ("remark",)]:
        for junk in JUNK:
            inbound = copy.deepcopy(base)
            if path[0] in ("settings", "port", "remark"):
                inbound[path[0]] = junk
            else:
                _set(list(path), junk)(inbound["streamSettings"])
            try:
                build_links(inbound=inbound, client=make_client(protocol), host=HOST)
            except (LinkError, UnsupportedProtocol):
                pass


@pytest.mark.parametrize(
    ("base", "sub_id", "expected"),
    [
        (
            "https://sub.example.com:2096/sub/",
            "k3h2m9q8",
            "https://sub.example.com:2096/sub/k3h2m9q8",
        ),
        (
            "https://sub.example.com:2096/sub",
            "k3h2m9q8",
            "https://sub.example.com:2096/sub/k3h2m9q8",
        ),
        ("https://sub.example.com/sub//", "abc", "https://sub.example.com/sub/abc"),
        (" https://s.example.com/s/ ", "abc", "https://s.example.com/s/abc"),
        ("", "abc", ""),
        ("https://sub.example.com/sub/", "", ""),
    ],
)
def test_subscription_url_joins_base_and_id_with_one_slash(base, sub_id, expected):
    assert subscription_url(base, sub_id) == expected


# Defects found by the interop suite (pytest -m interop), each pinned here too.


def _tls_inbound(protocol, net, **tls_changes):
    inbound = make_inbound(protocol, net, "tls", as_json=False)
    tls = inbound["streamSettings"]["tlsSettings"]
    for key, value in tls_changes.items():
        if key in ("alpn", "serverName"):
            tls[key] = value
        else:
            tls["settings"][key] = value
    return inbound


def _tls_query(protocol, inbound):
    link = build_link(inbound=inbound, client=make_client(protocol), host=HOST)
    if protocol == "vmess":
        return decode_vmess(link)
    return parse_link(link)[4]


@pytest.mark.parametrize("protocol", ["vless", "vmess", "trojan", "shadowsocks"])
@pytest.mark.parametrize("net", ["ws", "httpupgrade"])
def test_http1_upgrade_transports_over_tls_offer_only_http1(protocol, net):
    # The panel copies the inbound's default alpn (h2,http/1.1); an Xray ws server then
    # agrees on h2 and rejects the client's HTTP/1.1 upgrade ("bogus greeting").
    query = _tls_query(protocol, _tls_inbound(protocol, net, alpn=["h2", "http/1.1"]))
    assert query["alpn"] == "http/1.1"
    # Without http/1.1 in the inbound's list, no alpn at all (TLS then agrees on none).
    query = _tls_query(protocol, _tls_inbound(protocol, net, alpn=["h2"]))
    assert "alpn" not in query


@pytest.mark.parametrize("protocol", ["vless", "vmess", "trojan"])
@pytest.mark.parametrize("net", ["tcp", "grpc", "xhttp"])
def test_other_transports_keep_the_inbounds_alpn(protocol, net):
    # xhttp reads the HTTP version from it (Xray's decideHTTPVersion); grpc is h2.
    query = _tls_query(protocol, _tls_inbound(protocol, net, alpn=["h2", "http/1.1"]))
    assert query["alpn"] == "h2,http/1.1"


def test_vmess_self_signed_certificate_carries_allow_insecure_and_insecure():
    vmess = _tls_query("vmess", _tls_inbound("vmess", "tcp", allowInsecure=True))
    # "allowInsecure" is 3x-ui's own (<= 2.8.9) export; "insecure" is what v2rayN
    # (VmessFmt.cs), v2rayNG (VmessFmt.kt) and Hiddify (ray2sing common.go) read.
    assert vmess["allowInsecure"] is True
    assert vmess["insecure"] == "1"
    trusted = _tls_query("vmess", _tls_inbound("vmess", "tcp", allowInsecure=False))
    assert "allowInsecure" not in trusted and "insecure" not in trusted


@pytest.mark.parametrize("protocol", ["vless", "trojan", "shadowsocks"])
def test_uri_links_of_a_self_signed_certificate_carry_allow_insecure(protocol):
    query = _tls_query(protocol, _tls_inbound(protocol, "tcp", allowInsecure=True))
    assert query["allowInsecure"] == "1"


PIN = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PIN2 = "a" * 64


@pytest.mark.parametrize("protocol", ["vless", "vmess", "trojan", "shadowsocks"])
def test_v3_panels_verify_name_and_certificate_pins_become_vcn_and_pcs(protocol):
    # 3x-ui v3.4+ (internal/sub/service.go applyShareTLSParams / applyVmessTLSParams):
    # verifyPeerCertByName -> vcn, pinnedPeerCertSha256 -> pcs joined by commas.
    inbound = _tls_inbound(
        protocol,
        "tcp",
        verifyPeerCertByName=" origin.example.org ",
        pinnedPeerCertSha256=[PIN, PIN2],
    )
    del inbound["streamSettings"]["tlsSettings"]["settings"]["allowInsecure"]
    query = _tls_query(protocol, inbound)
    assert query["vcn"] == "origin.example.org"
    assert query["pcs"] == f"{PIN},{PIN2}"
    assert "allowInsecure" not in query


def test_vcn_and_pcs_follow_sni_in_the_panels_order():
    inbound = _tls_inbound(
        "vless", "grpc", verifyPeerCertByName="origin.example.org", pinnedPeerCertSha256=[PIN]
    )
    link = build_link(inbound=inbound, client=make_client("vless"), host=HOST)
    assert "&sni=sni.example.org&vcn=origin.example.org&pcs=" + PIN + "#" in link


def test_empty_v3_tls_fields_add_nothing():
    inbound = _tls_inbound("trojan", "tcp", verifyPeerCertByName="", pinnedPeerCertSha256=[])
    query = _tls_query("trojan", inbound)
    assert not {"vcn", "pcs", "allowInsecure"} & query.keys()


def test_vmess_carries_the_ech_config_like_the_uri_links():
    # 3x-ui's own VMess export has it too (v3.6 internal/sub/service.go applyVmessTLSParams).
    inbound = _tls_inbound("vmess", "tcp", echConfigList="AEn+DQBFKwAgACABWIHUGj4u")
    assert _tls_query("vmess", inbound)["ech"] == "AEn+DQBFKwAgACABWIHUGj4u"
    assert _tls_query("vless", _tls_inbound("vless", "tcp", echConfigList="AEn+DQ"))["ech"] == (
        "AEn+DQ"
    )
