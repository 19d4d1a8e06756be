"""Panel health alerts: operators hear once when a panel goes down and once when back."""

import threading

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection

from billing import services as billing
from billing.models import Order, WalletTransaction
from botapp.notify import panel_health_to_operators
from botapp.tests.conftest import OPERATOR
from panels.health import panel_probe
from panels.models import Panel, PanelHealthEvent
from panels.provisioning import Outcome, order_provision

pytestmark = pytest.mark.django_db


def _check():
    call_command("check_panels", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _alerts(tg):
    return [t for t in tg.texts_to(OPERATOR) if "Panel" in t or "پنل" in t]


def test_down_after_two_failed_checks_and_up_after_one_success_each_told_once(
    tg, panel, xui, settings
):
    xui.fail_next(status=502, count=None)
    _check()
    panel.refresh_from_db()
    assert panel.health == Panel.Health.OK  # one failure is not evidence
    assert _alerts(tg) == []
    _check()
    panel.refresh_from_db()
    assert panel.health == Panel.Health.DOWN
    (down,) = _alerts(tg)
    assert "پنل از دسترس خارج شد: de-1" in down and "Germany" in down
    assert "خطا: خارج از دسترس (PanelUnavailable: panel/api/inbounds/list: HTTP 502)" in down
    assert "سفارش‌های پرداخت‌شدهٔ در انتظار آن: ۰" in down
    _check()
    _check()
    assert len(_alerts(tg)) == 1  # still down: nothing new
    xui.clear_faults()
    _check()
    panel.refresh_from_db()
    assert panel.health == Panel.Health.OK
    alerts = _alerts(tg)
    assert len(alerts) == 2 and "پنل دوباره در دسترس است: de-1" in alerts[1]
    _check()
    assert len(_alerts(tg)) == 2
    assert list(PanelHealthEvent.objects.values_list("seq", "kind")) == [(1, "down"), (2, "up")]


def test_the_down_alert_says_how_many_paid_orders_wait_and_back_delivers_them(
    tg, panel, inbound, plan, xui, customer
):
    panel_probe(panel=panel)
    xui.fail_next(status=502, count=None)
    billing.wallet_credit(
        user_id=customer.pk, amount=plan.price, kind=WalletTransaction.Kind.TOPUP,
        idempotency_key="alerts",
    )  # fmt: skip
    order = Order.objects.create(
        user=customer, plan=plan, panel=panel, inbound=inbound, amount=plan.price
    )
    billing.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)
    assert order_provision(order_id=order.pk).outcome is Outcome.PENDING
    _check()
    (down,) = _alerts(tg)
    assert "سفارش‌های پرداخت‌شدهٔ در انتظار آن: ۱" in down
    xui.clear_faults()
    _check()
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED  # retried at once, no wait for the job
    assert xui.find_client(order.client_email) is not None


@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_send_each_transition_once(tg, panel, xui, settings):
    """Many jobs at once (each its own connection): one DOWN row, one message."""
    if connection.vendor == "sqlite":
        pytest.skip("concurrent writers need MariaDB (SQLite runs them one by one)")
    xui.fail_next(status=502, count=None)
    panel_row = Panel.objects.get(pk=panel.pk)
    barrier = threading.Barrier(6)
    errors = []

    def job():
        try:
            barrier.wait()
            for _ in range(2):
                panel_probe(panel=Panel.objects.get(pk=panel_row.pk))
            panel_health_to_operators()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    panel_health_to_operators()
    assert list(PanelHealthEvent.objects.values_list("kind", flat=True)) == ["down"]
    assert len(_alerts(tg)) == 1

    xui.clear_faults()
    barrier = threading.Barrier(6)
    threads = [threading.Thread(target=job) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert list(PanelHealthEvent.objects.values_list("kind", flat=True)) == ["down", "up"]
    assert len(_alerts(tg)) == 2
