"""Giving up on an order refunds it and takes back a client that landed after all."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from billing.models import Order
from panels.provisioning import Outcome, order_provision
from panels.tests.lifecycle_helpers import fund, make_plan, sellable_inbound

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def inbound(xui_panel, fake_xui):
    return sellable_inbound(xui_panel, fake_xui, protocol="vless")


def _paid(customer, inbound):
    from billing import services as billing

    plan = make_plan()
    fund(customer, plan.price)
    order = Order.objects.create(
        user=customer, plan=plan, panel=inbound.panel, inbound=inbound, amount=plan.price
    )
    return billing.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)


def _gone_or_off(fake, email) -> bool:
    found = fake.find_client(email)
    return found is None or found[1]["enable"] is False


def test_the_retry_limit_refunds_and_removes_the_client_that_landed(
    customer, inbound, fake_xui, settings
):
    settings.PROVISION_MAX_ATTEMPTS = 1
    order = _paid(customer, inbound)
    fake_xui.faults.drop_after_add = True  # the add lands, its answer is lost

    result = order_provision(order_id=order.pk)

    assert result.outcome is Outcome.REFUNDED
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert _gone_or_off(fake_xui, order.client_email)
    assert order.panel_cleanup in (Order.PanelCleanup.DELETED, Order.PanelCleanup.DISABLED)
    customer.refresh_from_db()
    assert customer.balance == order.amount


def test_an_operator_refund_removes_the_client_and_the_order_page_says_so(
    client, staff_user, customer, inbound, fake_xui
):
    order = _paid(customer, inbound)
    fake_xui.faults.drop_after_add = True
    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING
    fake_xui.clear_faults()
    order.refresh_from_db()
    assert fake_xui.find_client(order.client_email)[1]["enable"] is True

    client.force_login(staff_user)
    client.post(
        reverse("admin:billing_order_changelist"),
        {"action": "refund_to_wallet", "_selected_action": [order.pk]},
        **EN,
    )

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert _gone_or_off(fake_xui, order.client_email)
    page = client.get(reverse("admin:billing_order_change", args=[order.pk]), **EN)
    assert (
        "deleted from the panel" in page.content.decode()
        or "disabled on the panel" in page.content.decode()
    )


def test_a_refund_while_the_panel_is_down_is_cleaned_up_by_the_next_retry_run(
    client, staff_user, customer, inbound, fake_xui
):
    order = _paid(customer, inbound)
    fake_xui.faults.drop_after_add = True
    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING
    fake_xui.clear_faults()
    fake_xui.fail_next(502, count=None)

    client.force_login(staff_user)
    client.post(
        reverse("admin:billing_order_changelist"),
        {"action": "refund_to_wallet", "_selected_action": [order.pk]},
        **EN,
    )
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.panel_cleanup == Order.PanelCleanup.UNKNOWN

    fake_xui.clear_faults()
    call_command("retry_provisioning")
    order.refresh_from_db()
    assert order.panel_cleanup in (Order.PanelCleanup.DELETED, Order.PanelCleanup.DISABLED)
    assert _gone_or_off(fake_xui, order.client_email)


def test_an_api_refund_removes_the_client_too(staff_user, customer, inbound, fake_xui):
    from rest_framework.test import APIClient

    order = _paid(customer, inbound)
    fake_xui.faults.drop_after_add = True
    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING
    fake_xui.clear_faults()
    api = APIClient()
    api.force_authenticate(staff_user)
    response = api.post(
        f"/api/v1/orders/{order.pk}/refund/", {"note": "panel trouble"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["panel_cleanup"] in ("deleted", "disabled")
    order.refresh_from_db()
    assert _gone_or_off(fake_xui, order.client_email)
