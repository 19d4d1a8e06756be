"""A panel's health changes on evidence, not on one transient error."""

import pytest

from billing import services as billing
from billing.models import Order
from panels.health import panel_test_connection
from panels.models import Panel
from panels.provisioning import Outcome, order_provision
from panels.sync import panel_sync
from panels.tests.lifecycle_helpers import fund, make_plan, sellable_inbound
from panels.xui import PanelError

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy(xui_panel, fake_xui):
    inbound = sellable_inbound(xui_panel, fake_xui, protocol="vless")
    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.OK
    return inbound


def _paid_order(customer, inbound):
    plan = make_plan()
    fund(customer, plan.price)
    order = Order.objects.create(
        user=customer, plan=plan, panel=inbound.panel, inbound=inbound, amount=plan.price
    )
    return billing.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)


def test_one_transient_502_keeps_the_location_on_sale(customer, healthy, xui_panel, fake_xui):
    order = _paid_order(customer, healthy)
    fake_xui.fail_next(502, count=1)

    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING

    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.OK
    assert xui_panel.last_error  # the operator still sees what happened
    assert list(billing.panels_for_sale(plan=order.plan)) == [xui_panel]


def test_two_failures_in_a_row_mark_it_down_and_the_next_served_call_up(
    customer, healthy, xui_panel, fake_xui
):
    order = _paid_order(customer, healthy)
    fake_xui.fail_next(502, count=None)
    order_provision(order_id=order.pk)
    order_provision(order_id=order.pk)
    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.DOWN
    assert list(billing.panels_for_sale(plan=order.plan)) == []

    fake_xui.clear_faults()
    assert order_provision(order_id=order.pk).outcome is Outcome.DELIVERED
    xui_panel.refresh_from_db()
    assert (xui_panel.health, xui_panel.consecutive_failures) == (Panel.Health.OK, 0)
    assert xui_panel.last_error == ""


def test_a_failed_probe_is_evidence_at_once(healthy, xui_panel, fake_xui):
    fake_xui.fail_next(502, count=None)
    with pytest.raises(PanelError):
        panel_test_connection(panel=xui_panel)
    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.DOWN


def test_a_success_between_failures_starts_the_count_again(healthy, xui_panel, fake_xui):
    fake_xui.fail_next(502, count=1)
    assert not panel_sync(panel=xui_panel).ok
    assert panel_sync(panel=xui_panel).ok
    fake_xui.fail_next(502, count=1)
    assert not panel_sync(panel=xui_panel).ok
    xui_panel.refresh_from_db()
    assert xui_panel.health == Panel.Health.OK


@pytest.mark.parametrize("role", ["Panel admin", "Support"])
def test_the_panel_page_shows_when_it_went_down_why_and_when_it_came_back(
    customer, healthy, xui_panel, fake_xui, client, django_user_model, role
):
    from django.contrib.auth.models import Group

    order = _paid_order(customer, healthy)
    fake_xui.fail_next(502, count=None)
    order_provision(order_id=order.pk)
    order_provision(order_id=order.pk)
    fake_xui.clear_faults()
    order_provision(order_id=order.pk)
    operator = django_user_model.objects.create_user(
        username="ops", password="pw-123-long", is_staff=True
    )
    operator.groups.add(Group.objects.get(name=role))
    client.force_login(operator)

    page = client.get(f"/admin/panels/panel/{xui_panel.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Health in the last 30 days" in html
    assert "went down" in html and "came back" in html
    assert "502" in html  # the reason, in our words and the error's class
    # Read-only: nothing of it is a form field.
    assert "health_events-" not in html
