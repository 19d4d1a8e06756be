"""Set-up shared by the account-lifecycle tests: a sold account on a fake panel."""

import uuid

from billing import services as billing
from billing.models import AddOn, Order, Plan
from panels.models import ClientAccount, Inbound, Panel
from panels.provisioning import Outcome, order_provision
from panels.sync import panel_sync
from panels.xui import PanelConfig, XuiClient, client_key

GB = 1024**3
DAY_MS = 86_400_000


def make_panel(fake, name="Frankfurt-1") -> Panel:
    return Panel.objects.create(
        name=name,
        location_name="Germany",
        location_flag="🇩🇪",
        base_url=fake.url,
        username="admin",
        password="secret",
        public_host=f"{name.lower()}.moonvpn.example",
        sub_base_url="https://sub.moonvpn.example:2096/sub/",
    )


def sellable_inbound(panel, fake, **kwargs) -> Inbound:
    remote = fake.add_inbound(**kwargs)
    result = panel_sync(panel=panel)
    assert result.ok, result.error
    inbound = Inbound.objects.get(panel=panel, remote_id=remote)
    inbound.is_sellable = True
    inbound.save()
    return inbound


def make_plan(name="30 days", days=30, gb=50, price=120_000, devices=2) -> Plan:
    return Plan.objects.create(
        name=name, duration_days=days, traffic_gb=gb, price=price, max_devices=devices
    )


def fund(user, amount):
    billing.wallet_credit(
        user_id=user.pk, amount=amount, kind="topup", idempotency_key=f"test:{uuid.uuid4().hex}"
    )


def sold_account(customer, plan, panel, inbound) -> ClientAccount:
    fund(customer, plan.price)
    order = Order.objects.create(
        user=customer, plan=plan, panel=panel, inbound=inbound, amount=plan.price
    )
    billing.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)
    result = order_provision(order_id=order.pk)
    assert result.outcome is Outcome.DELIVERED, result.error
    return ClientAccount.objects.select_related("panel", "inbound", "user", "plan").get(
        pk=result.account.pk
    )


def paid_renewal(customer, account, plan) -> Order:
    fund(customer, plan.price)
    order = Order.objects.create(
        user=customer,
        kind=Order.Kind.RENEW,
        renews=account,
        plan=plan,
        panel=account.panel,
        inbound=account.inbound,
        amount=plan.price,
    )
    return billing.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)


def make_addon(kind=AddOn.Kind.TRAFFIC, amount=10, price=30_000, name="") -> AddOn:
    return AddOn.objects.create(
        name=name or f"+{amount} {kind}", kind=kind, amount=amount, price=price
    )


def paid_addon(customer, account, addon) -> Order:
    fund(customer, addon.price)
    order = Order.objects.create(
        user=customer,
        kind=Order.Kind.ADDON,
        renews=account,
        addon=addon,
        panel=account.panel,
        inbound=account.inbound,
        amount=addon.price,
    )
    return billing.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)


def on_panel(fake, email) -> dict:
    found = fake.find_client(email)
    assert found is not None, f"{email} is not on the panel"
    return found[1]


def set_on_panel(fake, email, **changes) -> None:
    """Change a client the way an operator would in the panel (a full replace)."""
    inbound_id, client = fake.find_client(email)
    protocol = fake.inbound(inbound_id)["protocol"]
    with XuiClient(PanelConfig(fake.url, "admin", "secret")) as xui:
        xui.update_client(inbound_id, protocol, client_key(protocol, client), {**client, **changes})


KEPT_FIELDS = ("subId", "tgId", "limitIp", "comment", "flow", "id", "password", "email")


def kept(client: dict) -> dict:
    # v3.1+ serves an empty flow/password as no key at all: the same client.
    return {name: client.get(name) or None for name in KEPT_FIELDS}
