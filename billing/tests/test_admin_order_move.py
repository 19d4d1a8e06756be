"""An operator moves a paid order stuck on a dead panel to another panel."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from billing import services as billing
from billing.models import Order, Plan
from panels.models import ClientAccount, Inbound, Panel
from panels.provisioning import Outcome, order_provision
from panels.sync import panel_sync
from standins.xui import FakeXuiPanel

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _sellable(panel, fake, protocol):
    remote = fake.add_inbound(protocol=protocol)
    panel_sync(panel=panel)
    inbound = Inbound.objects.get(panel=panel, remote_id=remote)
    Inbound.objects.filter(pk=inbound.pk).update(is_sellable=True)
    return inbound


def _move(client, orders, inbound=None):
    data = {"action": "move_to_another_inbound", "_selected_action": [o.pk for o in orders]}
    if inbound is not None:
        data |= {"move_order_form": "1", "inbound": inbound.pk}
    return client.post(reverse("admin:billing_order_changelist"), data, follow=True, **EN)


def test_a_stuck_order_moved_to_a_working_panel_is_delivered_there(
    admin_client, customer, xui_panel, fake_xui
):
    plan = Plan.objects.create(name="30d", duration_days=30, traffic_gb=20, price=90_000)
    dead_inbound = _sellable(xui_panel, fake_xui, "vless")
    billing.wallet_credit(user_id=customer.pk, amount=90_000, kind="topup", idempotency_key="t")
    order = Order.objects.create(
        user=customer, plan=plan, panel=xui_panel, inbound=dead_inbound, amount=90_000
    )
    billing.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)
    fake_xui.stop()
    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING

    with FakeXuiPanel(profile="v3") as other_fake:
        other = Panel.objects.create(
            name="Helsinki",
            location_name="Finland",
            base_url=other_fake.url,
            username="admin",
            password="secret",
            public_host="fi.example",
        )
        target = _sellable(other, other_fake, "trojan")

        page = _move(admin_client, [order])
        assert page.status_code == 200
        assert f"#{order.pk}" in page.content.decode()
        assert str(target) in page.content.decode()

        done = _move(admin_client, [order], target)
        texts = [str(m) for m in get_messages(done.wsgi_request)]
        assert texts == [f"Order #{order.pk} now goes to {target}; retry it to deliver it there."]
        order.refresh_from_db()
        assert (order.panel, order.inbound, order.status) == (other, target, Order.Status.PAID)

        result = order_provision(order_id=order.pk)
        assert result.outcome is Outcome.DELIVERED, result.error
        account = ClientAccount.objects.get(order=order)
        assert (account.panel, account.inbound) == (other, target)
        assert other_fake.find_client(account.email) is not None
    customer.refresh_from_db()
    assert customer.balance == 0  # charged once, never again


def test_a_delivered_order_is_not_moved(admin_client, customer, xui_panel, fake_xui):
    inbound = _sellable(xui_panel, fake_xui, "vless")
    order = Order.objects.create(
        user=customer, panel=xui_panel, inbound=inbound, amount=1, status=Order.Status.FULFILLED
    )
    done = _move(admin_client, [order], inbound)
    texts = [str(m) for m in get_messages(done.wsgi_request)]
    assert texts == [
        f"Order #{order.pk} was not moved: Only a paid order that was not delivered yet "
        "can be moved."
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
