"""MoonVPN's own subscription imported into sing-box: every service in it connects.

The customer holds services on several panels; ``SITE_URL/sub/<token>/?format=singbox``
is fetched as a client app would and run, unchanged but for the local port and the
service picked in its selector (what the customer does in the app), by the real
sing-box client against a real server for each service.
"""

import json

import pytest

from panels import subscription
from panels.sessions import panel_clients_reset
from standins.xui import FakeXuiPanel

from .harness import connect_once, deliver, ss_settings, stream_for

pytestmark = [pytest.mark.interop, pytest.mark.django_db]

SERVICES = [
    ("vless", "ws", "tls-trusted", None),
    ("vmess", "tcp", "none", None),
    ("trojan", "grpc", "tls-trusted", None),
    ("vless", "httpupgrade", "tls-self", None),
    ("shadowsocks", "tcp", "none", "2022-blake3-aes-256-gcm"),
]


@pytest.fixture
def fake(settings):
    settings.PANEL_CONNECT_TIMEOUT = 1.0
    settings.PANEL_READ_TIMEOUT = 2.0
    settings.SITE_URL = "https://shop.moonvpn.test"
    with FakeXuiPanel(profile="v2") as panel:
        yield panel
    panel_clients_reset()


def test_the_singbox_subscription_connects_through_every_service(
    fake, customer, certs, web_page, tmp_path, client
):
    delivered = [
        deliver(
            fake=fake,
            customer=customer,
            protocol=protocol,
            stream=stream_for(network, security, certs),
            settings=ss_settings(method) if method else None,
        )
        for protocol, network, security, method in SERVICES
    ]
    url = subscription.subscription_url(user=customer)
    answer = client.get(url.removeprefix("https://shop.moonvpn.test"), {"format": "singbox"})
    assert answer.status_code == 200
    config = json.loads(answer.content)
    selector = config["outbounds"][0]
    proxies = {o["tag"]: o for o in config["outbounds"][1:] if o["type"] != "direct"}
    assert list(proxies) == selector["outbounds"] and len(proxies) == len(SERVICES)

    for number, service in enumerate(delivered):
        (tag,) = [t for t, o in proxies.items() if o["server_port"] == service.inbound["port"]]
        chosen = json.loads(answer.content)
        chosen["outbounds"][0]["default"] = tag
        _without_utls(chosen)
        workdir = tmp_path / f"service-{number}"
        workdir.mkdir()
        connect_once(
            service.link,
            service,
            certs=certs,
            web_page=web_page,
            workdir=workdir,
            client_config=chosen,
        )


def _without_utls(config):
    """The PyPI sing-box build has no uTLS (the app builds have): its fingerprint goes.

    Only the ClientHello's shape changes (plain Go TLS, as the interop suite's own link
    reader does for ``fp``); REALITY, which needs uTLS, is not in SERVICES.
    """
    for outbound in config["outbounds"]:
        tls = outbound.get("tls") or {}
        assert "reality" not in tls
        tls.pop("utls", None)


def test_a_wrong_pick_does_not_connect(fake, customer, certs, web_page, tmp_path, client):
    """The check can fail: the selector on another service's outbound gets no page."""
    first, second = (
        deliver(fake=fake, customer=customer, protocol="vmess", stream=stream_for("tcp", "none"))
        for _ in range(2)
    )
    url = subscription.subscription_url(user=customer)
    config = json.loads(
        client.get(url.removeprefix("https://shop.moonvpn.test"), {"format": "singbox"}).content
    )
    wrong = next(
        o["tag"] for o in config["outbounds"] if o.get("server_port") == second.inbound["port"]
    )
    config["outbounds"][0]["default"] = wrong
    with pytest.raises(AssertionError):
        connect_once(
            first.link,
            first,
            certs=certs,
            web_page=web_page,
            workdir=tmp_path,
            client_config=config,
        )
