"""Provisioning a paid order on the fake panel: once, durably, or refunded."""

import pytest
import zxingcpp
from django.conf import settings
from PIL import Image

from billing import services as billing
from billing.models import Order, Plan, WalletTransaction
from panels.models import ClientAccount, Inbound
from panels.provisioning import Outcome, order_provision, orders_to_retry
from panels.sync import panel_sync

pytestmark = pytest.mark.django_db

GB = 1024**3


@pytest.fixture
def plan(db):
    return Plan.objects.create(
        name="30 days", duration_days=30, traffic_gb=50, price=120_000, max_devices=2
    )


def _inbound(panel, fake, **kwargs):
    remote = fake.add_inbound(**kwargs)
    panel_sync(panel=panel)
    inbound = Inbound.objects.get(panel=panel, remote_id=remote)
    inbound.is_sellable = True
    inbound.save()
    return inbound


def _paid_order(customer, plan, panel, inbound):
    billing.wallet_credit(
        user_id=customer.pk, amount=plan.price, kind="topup", idempotency_key=f"t{inbound.pk}"
    )
    order = Order.objects.create(
        user=customer, plan=plan, panel=panel, inbound=inbound, amount=plan.price
    )
    return billing.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)


def _decode_qr(account):
    path = f"{settings.MEDIA_ROOT}/{account.qr_code_path.name}"
    return zxingcpp.read_barcodes(Image.open(path))[0].text


@pytest.mark.parametrize(
    "protocol,network,security",
    [
        ("vless", "tcp", "reality"),
        ("vmess", "ws", "tls"),
        ("trojan", "grpc", "tls"),
        ("shadowsocks", "tcp", "none"),
    ],
)
def test_paid_order_becomes_an_account_with_link_and_qr(
    customer, plan, xui_panel, fake_xui, protocol, network, security
):
    inbound = _inbound(xui_panel, fake_xui, protocol=protocol, network=network, security=security)
    order = _paid_order(customer, plan, xui_panel, inbound)

    result = order_provision(order_id=order.pk)

    assert result.outcome is Outcome.DELIVERED, result.error
    account = ClientAccount.objects.get(order=order)
    assert (account.user, account.plan, account.panel, account.inbound) == (
        customer,
        plan,
        xui_panel,
        inbound,
    )
    on_panel = fake_xui.find_client(account.email)
    assert on_panel is not None
    client = on_panel[1] if isinstance(on_panel, tuple) else on_panel
    assert client["totalGB"] == 50 * GB
    assert client["limitIp"] == 2
    assert client["subId"] == account.sub_id
    key = client["password"] if protocol in ("trojan", "shadowsocks") else client["id"]
    assert account.uuid == key
    assert account.config_url.startswith(f"{'ss' if protocol == 'shadowsocks' else protocol}://")
    assert "de1.moonvpn.example" in account.config_url or protocol == "vmess"
    assert account.subscription_url == f"https://sub.moonvpn.example:2096/sub/{account.sub_id}"
    assert _decode_qr(account) == account.config_url
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.client_email == account.email


def test_provisioning_twice_creates_one_client(customer, plan, xui_panel, fake_xui):
    inbound = _inbound(xui_panel, fake_xui, protocol="vless")
    before = len(fake_xui.clients(inbound.remote_id))
    order = _paid_order(customer, plan, xui_panel, inbound)
    first = order_provision(order_id=order.pk)
    second = order_provision(order_id=order.pk)
    assert first.outcome is second.outcome is Outcome.DELIVERED
    assert first.account.pk == second.account.pk
    assert ClientAccount.objects.count() == 1
    assert len(fake_xui.clients(inbound.remote_id)) == before + 1


def test_answer_lost_after_the_panel_added_the_client(customer, plan, xui_panel, fake_xui):
    inbound = _inbound(xui_panel, fake_xui, protocol="vless")
    before = len(fake_xui.clients(inbound.remote_id))
    order = _paid_order(customer, plan, xui_panel, inbound)
    fake_xui.faults.drop_after_add = True

    first = order_provision(order_id=order.pk)
    assert first.outcome is Outcome.PENDING
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    fake_xui.clear_faults()

    retry = order_provision(order_id=order.pk)
    assert retry.outcome is Outcome.DELIVERED
    assert len(fake_xui.clients(inbound.remote_id)) == before + 1
    assert ClientAccount.objects.get().email == Order.objects.get(pk=order.pk).client_email


def test_panel_down_keeps_the_order_paid_then_retry_delivers(customer, plan, xui_panel, fake_xui):
    inbound = _inbound(xui_panel, fake_xui, protocol="trojan")
    order = _paid_order(customer, plan, xui_panel, inbound)
    fake_xui.fail_next(500, count=None)

    result = order_provision(order_id=order.pk)

    assert result.outcome is Outcome.PENDING
    order.refresh_from_db()
    assert (order.status, order.attempts) == (Order.Status.PAID, 1)
    assert order.last_error
    assert orders_to_retry() == [order.pk]
    customer.refresh_from_db()
    assert customer.balance == 0  # paid, not refunded yet
    fake_xui.clear_faults()
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    assert orders_to_retry() == []


def test_refund_after_the_attempt_limit(customer, plan, xui_panel, fake_xui, settings):
    settings.PROVISION_MAX_ATTEMPTS = 2
    inbound = _inbound(xui_panel, fake_xui, protocol="vless")
    order = _paid_order(customer, plan, xui_panel, inbound)
    fake_xui.stop()
    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING
    result = order_provision(order_id=order.pk)
    assert result.outcome is Outcome.REFUNDED
    assert order_provision(order_id=order.pk).outcome is Outcome.NOT_PAID
    customer.refresh_from_db()
    assert customer.balance == plan.price
    kinds = list(
        WalletTransaction.objects.filter(user=customer)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["topup", "purchase", "refund"]
    assert ClientAccount.objects.count() == 0


def test_a_leased_order_is_not_provisioned_by_a_second_worker(customer, plan, xui_panel, fake_xui):
    from datetime import timedelta

    from django.utils import timezone

    inbound = _inbound(xui_panel, fake_xui, protocol="vless")
    order = _paid_order(customer, plan, xui_panel, inbound)
    Order.objects.filter(pk=order.pk).update(
        provisioning_until=timezone.now() + timedelta(minutes=1)
    )
    assert order_provision(order_id=order.pk).outcome is Outcome.BUSY
    assert orders_to_retry() == []
    assert fake_xui.find_client(f"mv{customer.telegram_id}-{order.pk}") is None


@pytest.mark.parametrize(
    "method,client_method",
    [
        ("aes-256-gcm", "aes-256-gcm"),
        ("chacha20-ietf-poly1305", "chacha20-ietf-poly1305"),
        ("2022-blake3-aes-128-gcm", ""),
    ],
)
def test_shadowsocks_client_carries_the_method_the_panel_form_would(
    customer, plan, xui_panel, fake_xui, method, client_method
):
    # Xray refuses a legacy-cipher client without a method ("unsupported cipher
    # method") and the whole inbound then fails to load; the 3x-ui form copies the
    # inbound's method to legacy clients and leaves it empty for 2022 ciphers.
    settings = {
        "method": method,
        "password": "oY5pSDPSd0d2rnvb1DJfSg==" if method.startswith("2022-") else "",
        "network": "tcp,udp",
        "clients": [],
        "ivCheck": False,
    }
    inbound = _inbound(xui_panel, fake_xui, protocol="shadowsocks", settings=settings)
    order = _paid_order(customer, plan, xui_panel, inbound)

    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED

    client = fake_xui.find_client(ClientAccount.objects.get(order=order).email)[1]
    assert client["method"] == client_method


def test_an_identifier_the_order_already_has_is_kept_and_the_rest_reserved(
    customer, plan, xui_panel, fake_xui
):
    """An order that carries some identifiers (written by an earlier version, or by
    hand) is still provisioned: what it has is kept, what it lacks is reserved."""
    inbound = _inbound(xui_panel, fake_xui, protocol="vless")
    order = _paid_order(customer, plan, xui_panel, inbound)
    known = "0b6f3c1e-5d0e-4c55-9a53-2a8c0f7c1d11"
    Order.objects.filter(pk=order.pk).update(client_uuid=known)

    result = order_provision(order_id=order.pk)

    assert result.outcome is Outcome.DELIVERED
    order.refresh_from_db()
    assert order.client_uuid == known and order.client_email and order.client_sub_id
    account = ClientAccount.objects.get(order=order)
    assert account.uuid == known and account.email == order.client_email
    assert fake_xui.find_client(order.client_email)[1]["id"] == known  # on the panel
