"""The subscription we deliver (the panel's own) against the link we deliver.

The subscription URL a customer gets is the 3x-ui panel's subscription server; the
fake panel serves it the way 3x-ui v2.9.4's sub/subService.go builds links
(standins.xui_sub). Where the two differ, both are tried with real software, so
the differences that matter are known: the panel copies the inbound's h2 ALPN onto ws
links (which then fail on an Xray server) and, since 2.8.10, announces no
self-signed certificate.
"""

import base64

import pytest
import requests

from panels.sessions import panel_clients_reset
from standins.xui import FakeXuiPanel

from .conftest import TRUSTED_NAME
from .harness import deliver, ss_settings, stream_for
from .servers import ProcessFailed
from .sharelink import differences, parse

pytestmark = [pytest.mark.interop, pytest.mark.django_db]


@pytest.fixture
def fake(settings):
    settings.PANEL_CONNECT_TIMEOUT = 1.0
    settings.PANEL_READ_TIMEOUT = 2.0
    with FakeXuiPanel(profile="v2") as panel:
        yield panel
    panel_clients_reset()


@pytest.fixture
def run(certs, web_page, tmp_path):
    from .harness import connect

    def run(link, delivered, name):
        workdir = tmp_path / name
        workdir.mkdir()
        return connect(link, delivered, certs=certs, web_page=web_page, workdir=workdir)

    return run


def _subscription(url: str) -> list[str]:
    answer = requests.get(url, timeout=5)
    assert answer.status_code == 200, answer.text
    return base64.b64decode(answer.content).decode().splitlines()


HTTP1 = ("http/1.1", "h2,http/1.1")

CASES = [
    # protocol, network, security, expected differences (ours, the panel's), panel's link works
    ("vless", "tcp", "tls-trusted", {}, True),
    ("vless", "grpc", "tls-trusted", {}, True),
    ("vmess", "tcp", "none", {}, True),
    ("vmess", "grpc", "tls-trusted", {}, True),
    ("trojan", "tcp", "tls-trusted", {}, True),
    ("trojan", "httpupgrade", "none", {}, True),
    ("shadowsocks", "tcp", "none", {}, True),
    # The panel's ws link offers h2: an Xray-style server agrees and refuses the upgrade.
    ("vless", "ws", "tls-trusted", {"alpn": HTTP1}, False),
    ("vmess", "ws", "tls-trusted", {"alpn": HTTP1}, False),
    # httpupgrade differs the same way; Xray's (and sing-box's) hub ignore the ALPN.
    ("vless", "httpupgrade", "tls-trusted", {"alpn": HTTP1}, True),
    # A self-signed certificate: the panel (2.8.10+) no longer says so.
    ("trojan", "tcp", "tls-self", {"allowInsecure": ("1", "")}, False),
]


@pytest.mark.parametrize("protocol,network,security,expected,panel_link_works", CASES)
def test_subscription_gives_the_link_the_customer_got(
    protocol, network, security, expected, panel_link_works, fake, customer, certs, run
):
    settings = ss_settings("2022-blake3-aes-256-gcm") if protocol == "shadowsocks" else None
    delivered = deliver(
        fake=fake,
        customer=customer,
        protocol=protocol,
        stream=stream_for(network, security, certs),
        settings=settings,
        sub_base_url=fake.sub_url,
    )
    assert delivered.account.subscription_url == fake.sub_url + delivered.account.sub_id
    (panel_link,) = _subscription(delivered.account.subscription_url)

    assert differences(delivered.link, panel_link) == expected
    assert parse(panel_link).remark == parse(delivered.link).remark
    if security == "tls-trusted":
        assert parse(panel_link).get("sni") == TRUSTED_NAME

    assert run(delivered.link, delivered, "ours")
    if panel_link_works:
        run(panel_link, delivered, "panel")
    else:
        with pytest.raises((AssertionError, ProcessFailed)):
            run(panel_link, delivered, "panel")


def test_unknown_subscription_is_http_400(fake):
    answer = requests.get(fake.sub_url + "nobody", timeout=5)
    assert (answer.status_code, answer.text) == (400, "Error!")
