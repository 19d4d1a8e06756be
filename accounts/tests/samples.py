"""One of everything, for the operator-console and staff-API tests.

``make_world`` fills the database with a row of every model the admin shows, so a
test can walk all registered admins without knowing them.
"""

import io
from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from PIL import Image
from rest_framework.authtoken.models import Token

from billing.models import (
    AddOn,
    BankCard,
    DiscountCode,
    Order,
    Plan,
    TrialClaim,
    WalletTransaction,
)
from billing.services import order_create_topup, receipt_submit, wallet_credit
from botapp.models import Broadcast, Notice
from ops.models import JobRun
from panels.models import AccountEvent, AccountReminder, ClientAccount, Inbound, Panel
from panels.sync import panel_sync

PANEL_PASSWORD = "pa55-Secret-Never-Shown"
PANEL_API_TOKEN = "tok-Secret-Never-Shown-42"


def png_bytes(color="white", size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def make_panel(name="Frankfurt-1", **fields) -> Panel:
    defaults = {
        "location_name": "Germany",
        "location_flag": "🇩🇪",
        "base_url": f"https://{name.lower()}.example.com:2053/AbCdEf/",
        "username": "panel-admin",
        "password": PANEL_PASSWORD,
        "public_host": f"{name.lower()}.example.com",
        "capacity": 100,
    }
    return Panel.objects.create(name=name, **{**defaults, **fields})


def make_inbound(panel, remote_id=1, **fields) -> Inbound:
    defaults = {
        "remark": "vless-reality",
        "protocol": "vless",
        "port": 443,
        "network": "tcp",
        "security": "reality",
        "client_count": 1,
    }
    return Inbound.objects.create(panel=panel, remote_id=remote_id, **{**defaults, **fields})


def make_plan(**fields) -> Plan:
    defaults = {"name": "1 month 50 GB", "duration_days": 30, "traffic_gb": 50, "price": 150_000}
    return Plan.objects.create(**{**defaults, **fields})


def make_topup_receipt(user, amount=200_000, color="white"):
    order = order_create_topup(user=user, amount=amount)
    return receipt_submit(order=order, image_name="receipt.png", image_bytes=png_bytes(color))


def make_account(user, plan, inbound, order=None, email="sara-1") -> ClientAccount:
    account = ClientAccount(
        user=user,
        plan=plan,
        panel=inbound.panel,
        inbound=inbound,
        order=order,
        uuid="5f8e7a8e-7c1d-4a8c-9a55-0c4f1b2a3d4e",
        email=email,
        sub_id="subsara1",
        config_url=f"vless://5f8e7a8e@{inbound.panel.public_host}:443?security=reality#{email}",
        subscription_url="https://sub.example.com:2096/sub/subsara1",
        traffic_limit_bytes=50 * 1024**3,
        used_bytes=3 * 1024**3,
    )
    account.qr_code_path.save("qr.png", ContentFile(png_bytes("black", (64, 64))), save=False)
    account.save()
    return account


def make_world(staff, customer) -> SimpleNamespace:
    panel = make_panel()
    inbound = make_inbound(panel)
    plan = make_plan()
    plan.panels.add(panel)
    order = Order.objects.create(
        user=customer,
        kind=Order.Kind.NEW,
        plan=plan,
        panel=panel,
        inbound=inbound,
        amount=plan.price,
        payment_method=Order.PaymentMethod.WALLET,
        status=Order.Status.FULFILLED,
    )
    account = make_account(customer, plan, inbound, order=order)
    receipt = make_topup_receipt(customer)
    credit = wallet_credit(
        user_id=customer.pk,
        amount=50_000,
        kind=WalletTransaction.Kind.TOPUP,
        idempotency_key="sample:credit",
        note="opening balance",
    )
    card = BankCard.objects.create(
        card_number="6037991234567890", holder_name="MoonVPN", bank_name="Melli"
    )
    token = Token.objects.create(user=staff)
    group = Group.objects.create(name="operators")
    addon = AddOn.objects.create(name="Extra 10 GB", kind=AddOn.Kind.TRAFFIC, amount=10, price=1)
    AccountEvent.objects.create(account=account, action="extend", actor=staff, note="sample")
    AccountReminder.objects.create(account=account, kind="expiry", threshold=3, period=1)
    Notice.objects.create(key=f"order:{order.pk}:delivered", order=order)
    JobRun.objects.create(name="sync_panels", last_error="exit status 1")
    discount = DiscountCode.objects.create(code="WELCOME", percent_off=10)
    Broadcast.objects.create(text="<b>Hello</b>", created_by=staff)
    trial = TrialClaim.objects.create(user=customer, order=order)
    return SimpleNamespace(
        discount=discount,
        trial=trial,
        staff=staff,
        customer=customer,
        panel=panel,
        inbound=inbound,
        plan=plan,
        order=order,
        account=account,
        receipt=receipt,
        credit=credit,
        card=card,
        token=token,
        group=group,
        addon=addon,
    )


def purchase_awaiting_receipt(customer, xui):
    """A new-account order awaiting its receipt, on a panel synced from the fake 3x-ui."""
    xui.add_inbound("vless", remark="vless-reality", security="reality")
    panel = make_panel(base_url=xui.url, username=xui.username, password=xui.password)
    assert panel_sync(panel=panel).ok
    inbound = panel.inbounds.get()
    Inbound.objects.filter(pk=inbound.pk).update(is_sellable=True)
    plan = make_plan()
    order = Order.objects.create(
        user=customer,
        kind=Order.Kind.NEW,
        plan=plan,
        panel=panel,
        inbound=inbound,
        amount=plan.price,
        status=Order.Status.AWAITING_RECEIPT,
    )
    receipt = receipt_submit(order=order, image_name="r.png", image_bytes=png_bytes("green"))
    return order, receipt
