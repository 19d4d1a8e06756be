"""The customer's one subscription on MoonVPN's host: formats, headers, tokens, queries."""

import base64
import json
from datetime import timedelta

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from panels import subscription
from panels.models import ClientAccount
from panels.provisioning import Outcome, order_provision
from panels.sessions import panel_clients_reset
from standins.xui import FakeXuiPanel

from .lifecycle_helpers import (
    GB,
    make_panel,
    make_plan,
    paid_renewal,
    sellable_inbound,
    sold_account,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://shop.example.com"
    settings.SUBSCRIPTION_TITLE = "MoonVPN"
    settings.SUBSCRIPTION_UPDATE_HOURS = 12


@pytest.fixture
def two_panels(settings):
    settings.PANEL_CONNECT_TIMEOUT = 5.0
    settings.PANEL_READ_TIMEOUT = 10.0
    with FakeXuiPanel(profile="v2") as de, FakeXuiPanel(profile="v2") as nl:
        yield de, nl
    panel_clients_reset()


@pytest.fixture
def services(two_panels, customer, site):
    """Four services on two panels: vless ws+TLS, vmess, trojan gRPC, shadowsocks."""
    de_fake, nl_fake = two_panels
    de, nl = make_panel(de_fake, "Frankfurt-1"), make_panel(nl_fake, "Amsterdam-1")
    plan = make_plan(gb=50)
    accounts = [
        sold_account(
            customer,
            plan,
            de,
            sellable_inbound(de, de_fake, protocol="vless", network="ws", security="tls"),
        ),
        sold_account(customer, plan, de, sellable_inbound(de, de_fake, protocol="vmess")),
        sold_account(
            customer,
            plan,
            nl,
            sellable_inbound(nl, nl_fake, protocol="trojan", network="grpc", security="tls"),
        ),
        sold_account(customer, plan, nl, sellable_inbound(nl, nl_fake, protocol="shadowsocks")),
    ]
    return accounts


def _get(client, url, **query):
    return client.get(url, query)


def test_base64_list_carries_every_delivered_link_of_every_panel(client, customer, services):
    url = subscription.subscription_url(user=customer)
    assert url.startswith("https://shop.example.com/sub/") and url.endswith("/")
    answer = client.get(url.removeprefix("https://shop.example.com"))
    assert answer.status_code == 200
    links = base64.b64decode(answer.content).decode().splitlines()
    assert links == [a.config_url for a in services]
    assert {link.split("://")[0] for link in links} == {"vless", "vmess", "trojan", "ss"}
    # ws+TLS: our builder's ALPN (http/1.1 only), the same as delivered.
    assert "alpn=http%2F1.1" in links[0] and "h2" not in links[0]


def test_headers_sum_usage_and_limits_and_give_the_earliest_expiry(client, customer, services):
    first, second, *_ = services
    soon = timezone.now().replace(microsecond=0) + timedelta(days=3)
    ClientAccount.objects.filter(pk=first.pk).update(used_bytes=3 * GB, expires_at=soon)
    ClientAccount.objects.filter(pk=second.pk).update(used_bytes=2 * GB)
    path = f"/sub/{subscription.subscription_token(user=customer)}/"
    answer = client.get(path)
    info = dict(part.strip().split("=") for part in answer["subscription-userinfo"].split(";"))
    assert info == {
        "upload": "0",
        "download": str(5 * GB),
        "total": str(4 * 50 * GB),
        "expire": str(int(soon.timestamp())),
    }
    assert answer["profile-update-interval"] == "12"
    assert answer["profile-title"] == "base64:" + base64.b64encode(b"MoonVPN").decode()


def test_an_unlimited_service_makes_the_total_unlimited(client, customer, services):
    ClientAccount.objects.filter(pk=services[0].pk).update(traffic_limit_bytes=0)
    answer = client.get(f"/sub/{subscription.subscription_token(user=customer)}/")
    assert "total=0;" in answer["subscription-userinfo"]


def test_singbox_format_is_a_client_config_with_every_service(client, customer, services):
    path = f"/sub/{subscription.subscription_token(user=customer)}/"
    answer = client.get(path, {"format": "singbox"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/json")
    assert "subscription-userinfo" in answer
    config = json.loads(answer.content)
    proxies = [o for o in config["outbounds"] if o["type"] not in ("selector", "direct")]
    assert [o["type"] for o in proxies] == ["vless", "vmess", "trojan", "shadowsocks"]
    by_type = {o["type"]: o for o in proxies}
    assert by_type["vless"]["uuid"] == services[0].uuid
    assert by_type["vless"]["transport"]["type"] == "ws"
    assert by_type["vless"]["tls"]["alpn"] == ["http/1.1"]
    assert by_type["trojan"]["password"] == services[2].uuid
    assert by_type["trojan"]["transport"] == {
        "type": "grpc",
        "service_name": by_type["trojan"]["transport"]["service_name"],
    }
    assert by_type["vless"]["server"] == "frankfurt-1.moonvpn.example"
    assert by_type["trojan"]["server"] == "amsterdam-1.moonvpn.example"
    selector = config["outbounds"][0]
    assert selector["type"] == "selector"
    assert selector["outbounds"] == [o["tag"] for o in proxies]
    assert config["route"]["final"] == selector["tag"]


def test_clash_format_is_clash_meta_yaml_with_every_service(client, customer, services):
    path = f"/sub/{subscription.subscription_token(user=customer)}/"
    answer = client.get(path, {"format": "clash"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/yaml")
    config = yaml.safe_load(answer.content.decode())
    proxies = config["proxies"]
    assert [p["type"] for p in proxies] == ["vless", "vmess", "trojan", "ss"]
    vless = proxies[0]
    assert vless["uuid"] == services[0].uuid and vless["tls"] is True
    assert vless["network"] == "ws" and vless["alpn"] == ["http/1.1"]
    assert proxies[2]["network"] == "grpc" and proxies[2]["password"] == services[2].uuid
    assert proxies[3]["cipher"] and proxies[3]["password"]
    group = config["proxy-groups"][0]
    assert group["proxies"] == [p["name"] for p in proxies]
    assert config["rules"] == [f"MATCH,{group['name']}"]


def test_unknown_and_revoked_tokens_answer_a_bare_404(client, customer, services):
    old = subscription.subscription_token(user=customer)
    assert client.get(f"/sub/{old}/").status_code == 200
    new = subscription.subscription_regenerate(user=customer)
    assert new != old and len(new) >= 32
    for token in (old, "x" * 32, "nope"):
        answer = client.get(f"/sub/{token}/")
        assert answer.status_code == 404
        assert "subscription-userinfo" not in answer
        assert b"token" not in answer.content.lower()
    assert client.get(f"/sub/{new}/").status_code == 200


def test_the_token_is_made_once(customer, site):
    first = subscription.subscription_token(user=customer)
    customer.subscription_token = None  # a stale copy of the user races the first call
    assert subscription.subscription_token(user=customer) == first


def test_only_active_services_are_served_and_renewals_appear_by_themselves(
    client, customer, services
):
    path = f"/sub/{subscription.subscription_token(user=customer)}/"
    ClientAccount.objects.filter(pk=services[1].pk).update(status=ClientAccount.Status.EXPIRED)
    links = base64.b64decode(client.get(path).content).decode().splitlines()
    assert services[1].config_url not in links and len(links) == 3
    # A renewal moves the account's expiry and limit; the subscription follows at once.
    plan = make_plan(name="again", gb=10)
    before = client.get(path)["subscription-userinfo"]
    order = paid_renewal(customer, services[0], plan)
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    after = client.get(path)["subscription-userinfo"]
    assert after != before
    assert base64.b64decode(client.get(path).content).decode().splitlines()[0] == (
        services[0].config_url
    )
    # A new purchase appears in it too.
    de = services[0].panel
    fake_url = de.base_url
    assert fake_url
    extra = sold_account(customer, plan, de, services[0].inbound)
    links = base64.b64decode(client.get(path).content).decode().splitlines()
    assert links[-1] == extra.config_url and len(links) == 4


def test_at_most_three_queries_per_request(client, customer, services):
    path = f"/sub/{subscription.subscription_token(user=customer)}/"
    for fmt in ("base64", "singbox", "clash"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path, {"format": fmt}).status_code == 200
        assert len(queries) <= 3, [q["sql"] for q in queries]


def test_without_site_url_there_is_no_url_to_show(customer, settings):
    settings.SITE_URL = ""
    assert subscription.subscription_url(user=customer) == ""


def test_the_console_shows_the_url_and_an_operator_replaces_it(
    client, staff_user, customer, services
):
    client.force_login(staff_user)
    page = client.get(f"/admin/accounts/user/{customer.pk}/change/").content.decode()
    customer.refresh_from_db()
    old = customer.subscription_token
    assert f"https://shop.example.com/sub/{old}/" in page
    answer = client.post(f"/admin/accounts/user/{customer.pk}/subscription/regenerate/")
    assert answer.status_code == 302
    customer.refresh_from_db()
    assert customer.subscription_token != old
    assert client.get(f"/sub/{old}/").status_code == 404
    assert client.get(f"/sub/{customer.subscription_token}/").status_code == 200
