"""Delivered links connect through real proxy software (``pytest -m interop``).

Each cell sells a plan on a 3x-ui inbound of the fake panel through MoonVPN's real
provisioning, starts a real server configured like that inbound (Debian's v2ray, the
core Xray forked from, or sing-box where v2ray 4.34 lacks the feature), builds a
sing-box client from the delivered link with our own share-link reader
(``sharelink.py``), and fetches a local web page through the tunnel.

What cannot run for real, and why:

* REALITY: the PyPI sing-box build has no uTLS, so no REALITY client. Those links are
  checked statically against the inbound: the public key derived (x25519) from the
  inbound's private key, sni among serverNames, sid among shortIds, and the flow.
* ``vcn``/``pcs`` (3x-ui v3.2+/v3.4+ certificate name and pin): sing-box pins public
  keys, not Xray's leaf-certificate hash; checked statically (pcs = SHA-256 of the
  server certificate's DER).
* Shadowsocks over ws/grpc/httpupgrade or TLS: sing-box's shadowsocks outbound has no
  v2ray transport or TLS (only SIP003 plugins), so no client here can read such a link.
"""

import base64
import hashlib
import secrets
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from panels.sessions import panel_clients_reset
from standins.xui import FakeXuiPanel

from .conftest import SELF_SIGNED_NAME, TRUSTED_NAME
from .harness import connect, deliver, ss_settings, stream_for
from .servers import ProcessFailed
from .sharelink import CannotRun, parse, singbox_outbound

pytestmark = [pytest.mark.interop, pytest.mark.django_db]

PROTOCOLS = ["vless", "vmess", "trojan"]
NETWORKS = ["tcp", "ws", "grpc", "httpupgrade"]
SECURITIES = ["none", "tls-trusted", "tls-self"]


@pytest.fixture
def fake(settings):
    settings.PANEL_CONNECT_TIMEOUT = 1.0
    settings.PANEL_READ_TIMEOUT = 2.0
    with FakeXuiPanel(profile="v2") as panel:
        yield panel
    panel_clients_reset()


@pytest.fixture
def fake_v3(settings):
    settings.PANEL_CONNECT_TIMEOUT = 1.0
    settings.PANEL_READ_TIMEOUT = 2.0
    with FakeXuiPanel(profile="v3") as panel:
        yield panel
    panel_clients_reset()


@pytest.fixture
def run(certs, web_page, tmp_path):
    def run(link, delivered, **kw):
        return connect(link, delivered, certs=certs, web_page=web_page, workdir=tmp_path, **kw)

    return run


@pytest.mark.parametrize("security", SECURITIES)
@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_link_connects(protocol, network, security, fake, customer, certs, run):
    delivered = deliver(
        fake=fake, customer=customer, protocol=protocol, stream=stream_for(network, security, certs)
    )
    run(delivered.link, delivered)


@pytest.mark.parametrize(
    "method",
    ["aes-256-gcm", "chacha20-ietf-poly1305", "2022-blake3-aes-128-gcm", "2022-blake3-aes-256-gcm"],
)
def test_shadowsocks_link_connects(method, fake, customer, run):
    delivered = deliver(
        fake=fake,
        customer=customer,
        protocol="shadowsocks",
        stream=stream_for("tcp", "none"),
        settings=ss_settings(method),
    )
    server = run(delivered.link, delivered)
    # v2ray serves the legacy ciphers the way Xray does (the client's own method).
    assert server == ("sing-box" if method.startswith("2022-") else "v2ray")


@pytest.mark.parametrize(
    "network,security",
    [("ws", "none"), ("grpc", "none"), ("httpupgrade", "none"), ("tcp", "tls-trusted")],
)
def test_shadowsocks_over_a_transport_cannot_be_tried(network, security, fake, customer, certs):
    delivered = deliver(
        fake=fake,
        customer=customer,
        protocol="shadowsocks",
        stream=stream_for(network, security, certs),
        settings=ss_settings("2022-blake3-aes-128-gcm"),
    )
    with pytest.raises(CannotRun) as reason:
        singbox_outbound(parse(delivered.link))
    pytest.skip(f"no client here: {reason.value}")


# ---------------------------------------------------------------------- REALITY (static)


def _reality_stream(network):
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes_raw()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    stream = stream_for(network, "none")
    stream["security"] = "reality"
    stream["realitySettings"] = {
        "show": False,
        "xver": 0,
        "target": "www.example.com:443",
        "serverNames": ["www.example.com", "example.com"],
        "privateKey": base64.urlsafe_b64encode(raw_private).decode().rstrip("="),
        "minClientVer": "",
        "maxClientVer": "",
        "maxTimediff": 0,
        "shortIds": [secrets.token_hex(8), secrets.token_hex(4)],
        "mldsa65Seed": "",
        "settings": {
            "publicKey": base64.urlsafe_b64encode(public).decode().rstrip("="),
            "fingerprint": "chrome",
            "serverName": "",
            "spiderX": "/",
            "mldsa65Verify": "",
        },
    }
    return stream


def _x25519_public(private_b64url: str) -> str:
    raw = base64.urlsafe_b64decode(private_b64url + "=" * (-len(private_b64url) % 4))
    key = X25519PrivateKey.from_private_bytes(raw)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(public).decode().rstrip("=")


@pytest.mark.parametrize("network", ["tcp", "grpc"])
@pytest.mark.parametrize("protocol", ["vless", "trojan"])
def test_reality_link_matches_the_inbound(protocol, network, fake, customer):
    delivered = deliver(
        fake=fake, customer=customer, protocol=protocol, stream=_reality_stream(network)
    )
    link = parse(delivered.link)
    reality = delivered.inbound["streamSettings"]["realitySettings"]
    assert (link.scheme, link.security, link.network) == (protocol, "reality", network)
    assert (link.host, link.port) == ("127.0.0.1", delivered.inbound["port"])
    # The server derives its public key from privateKey: the client must hold that key.
    assert link.get("pbk") == _x25519_public(reality["privateKey"])
    assert link.get("sni") in reality["serverNames"]
    assert link.get("sid") in reality["shortIds"]
    assert link.get("fp") == "chrome"  # REALITY needs a uTLS fingerprint
    if protocol == "vless":
        assert link.secret == delivered.client["id"]
        expected_flow = "xtls-rprx-vision" if network == "tcp" else ""
        assert delivered.client["flow"] == expected_flow
        assert link.get("flow") == expected_flow
    else:
        assert link.secret == delivered.client["password"]
        assert "flow" not in link.params
    with pytest.raises(CannotRun, match="uTLS"):
        singbox_outbound(link)


# ---------------------------------------------------------------------- vcn / pcs (static)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_v3_pinned_certificate_reaches_the_link(protocol, fake_v3, customer, certs):
    # A 3x-ui v3.4+ inbound with a self-signed certificate pins it instead of
    # allowInsecure (which Xray removed in June 2026).
    cert = x509.load_pem_x509_certificate(certs.self_cert.read_bytes())
    pin = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    stream = stream_for("tcp", "tls-self", certs)
    stream["tlsSettings"]["settings"] = {
        "fingerprint": "chrome",
        "echConfigList": "",
        "pinnedPeerCertSha256": [pin],
        "verifyPeerCertByName": SELF_SIGNED_NAME,
    }
    delivered = deliver(fake=fake_v3, customer=customer, protocol=protocol, stream=stream)
    link = parse(delivered.link)
    assert link.get("pcs") == pin
    assert link.get("vcn") == SELF_SIGNED_NAME
    assert link.get("sni") == SELF_SIGNED_NAME
    assert "allowInsecure" not in link.params
    with pytest.raises(CannotRun, match="vcn/pcs"):
        singbox_outbound(link)


# ---------------------------------------------------------------------- negative controls


def _with_query(link: str, **changes) -> str:
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def _with_user(link: str, user: str) -> str:
    parts = urlsplit(link)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc.rpartition('@')[2]}"))


FAILS = (AssertionError, ProcessFailed)


def test_a_wrong_uuid_does_not_connect(fake, customer, certs, run):
    delivered = deliver(
        fake=fake,
        customer=customer,
        protocol="vless",
        stream=stream_for("ws", "tls-trusted", certs),
    )
    run(delivered.link, delivered)  # the real one does
    with pytest.raises(FAILS):
        run(_with_user(delivered.link, str(uuid.uuid4())), delivered)


def test_a_wrong_trojan_password_does_not_connect(fake, customer, certs, run):
    delivered = deliver(
        fake=fake,
        customer=customer,
        protocol="trojan",
        stream=stream_for("grpc", "tls-trusted", certs),
    )
    with pytest.raises(FAILS):
        run(_with_user(delivered.link, "not-the-password"), delivered)


def test_a_wrong_sni_does_not_connect(fake, customer, certs, run):
    delivered = deliver(
        fake=fake,
        customer=customer,
        protocol="trojan",
        stream=stream_for("tcp", "tls-trusted", certs),
    )
    assert parse(delivered.link).get("sni") == TRUSTED_NAME
    with pytest.raises(FAILS):
        run(_with_query(delivered.link, sni="wrong.moonvpn.test"), delivered)


def test_a_self_signed_certificate_without_allow_insecure_does_not_connect(
    fake, customer, certs, run
):
    delivered = deliver(
        fake=fake, customer=customer, protocol="vless", stream=stream_for("ws", "tls-self", certs)
    )
    with pytest.raises(FAILS):
        run(_with_query(delivered.link, allowInsecure=None), delivered)


def test_ws_with_the_panels_h2_alpn_does_not_connect_to_an_xray_style_server(
    fake, customer, certs, run
):
    # What 3x-ui's own link (alpn=h2,http/1.1) does: the reason our ws links differ.
    delivered = deliver(
        fake=fake,
        customer=customer,
        protocol="vless",
        stream=stream_for("ws", "tls-trusted", certs),
    )
    assert parse(delivered.link).get("alpn") == "http/1.1"
    with pytest.raises(FAILS, match="bogus greeting"):
        run(_with_query(delivered.link, alpn="h2,http/1.1"), delivered, server="v2ray")
