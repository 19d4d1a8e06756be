"""Paid but not yet delivered: kept, told, retried by `retry_provisioning`, or refunded."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connections

from billing import services as billing
from billing.models import Order, WalletTransaction
from botapp.models import Notice
from botapp.tests.conftest import JOHN, SARA, decode_qr
from panels.models import ClientAccount

pytestmark = pytest.mark.django_db


def _pay(bot, chat_id, django_user_model):
    bot.send(chat_id, "/start")
    user = django_user_model.objects.get(telegram_id=chat_id)
    billing.wallet_credit(
        user_id=user.pk, amount=150_000, kind=WalletTransaction.Kind.TOPUP, idempotency_key="f"
    )
    bot.press_data(chat_id, "b")
    bot.press(chat_id, "1 Month")
    bot.press(chat_id, "Germany")
    bot.press(chat_id, "VLESS Reality")
    order = Order.objects.get(user=user)
    bot.press_data(chat_id, f"pw:{order.pk}")
    order.refresh_from_db()
    return order


def test_panel_down_at_payment_then_retry_delivers_exactly_once(
    bot, tg, django_user_model, plan, inbound, xui
):
    xui.stop()
    order = _pay(bot, SARA, django_user_model)
    assert order.status == "paid"  # kept: the money arrived
    assert not ClientAccount.objects.exists()
    assert "در حال آماده‌سازی" in tg.texts_to(SARA)[-1]
    assert not tg.photos_to(SARA)

    call_command("retry_provisioning")  # still down: nothing changes, no second notice
    order.refresh_from_db()
    assert order.status == "paid"
    assert sum("در حال آماده‌سازی است" in t for t in tg.texts_to(SARA)) == 1

    xui.start()
    call_command("retry_provisioning")
    call_command("retry_provisioning")
    order.refresh_from_db()
    assert order.status == "fulfilled"
    account = ClientAccount.objects.get(order=order)
    assert len(xui.all_clients()) == 1
    photos = tg.photos_to(SARA)
    assert len(photos) == 1
    assert decode_qr(photos[0]["photo"]) == account.config_url
    sara = django_user_model.objects.get(telegram_id=SARA)
    assert sara.balance == 0


def test_answer_lost_after_the_add_never_makes_a_second_client(
    bot, tg, django_user_model, plan, inbound, xui
):
    xui.faults.drop_after_add = True
    order = _pay(bot, JOHN, django_user_model)
    assert order.status == "paid"
    assert len(xui.all_clients()) == 1  # the panel did add it; we never heard back
    xui.clear_faults()
    call_command("retry_provisioning")
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert len(xui.all_clients()) == 1
    assert ClientAccount.objects.count() == 1
    assert len(tg.photos_to(JOHN)) == 1


def test_refund_after_the_attempt_limit_tells_the_new_balance(
    bot, tg, django_user_model, plan, inbound, xui, settings
):
    settings.PROVISION_MAX_ATTEMPTS = 2
    xui.stop()
    order = _pay(bot, JOHN, django_user_model)
    assert order.status == "paid"
    call_command("retry_provisioning")
    order.refresh_from_db()
    assert order.status == "refunded"
    john = django_user_model.objects.get(telegram_id=JOHN)
    assert john.balance == 150_000
    assert WalletTransaction.objects.filter(order=order, kind="refund").count() == 1
    assert "returned to your wallet. Your balance is now 150,000 Toman" in tg.texts_to(JOHN)[-1]
    call_command("retry_provisioning")
    assert WalletTransaction.objects.filter(order=order, kind="refund").count() == 1
    assert sum("returned to your wallet" in t for t in tg.texts_to(JOHN)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_retry_jobs_at_once_deliver_once(bot, tg, django_user_model, plan, inbound, xui):
    xui.stop()
    order = _pay(bot, JOHN, django_user_model)
    xui.start()
    xui.faults.latency = 0.2  # keep both jobs inside the panel call at the same time
    barrier = threading.Barrier(2)

    def job():
        try:
            barrier.wait()
            call_command("retry_provisioning")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert len(xui.all_clients()) == 1
    assert len(tg.photos_to(JOHN)) == 1
    assert Notice.objects.filter(key=f"order:{order.pk}:delivered").count() == 1


def test_an_operator_moves_a_stuck_order_to_another_panel(
    bot, tg, django_user_model, plan, inbound, xui
):
    from panels.models import Inbound, Panel
    from panels.sync import panel_sync
    from standins.xui import FakeXuiPanel

    xui.stop()
    order = _pay(bot, JOHN, django_user_model)
    assert order.status == "paid"
    with FakeXuiPanel(profile="v3") as other:
        other.add_inbound("trojan", remark="trojan-tls", security="tls")
        panel = Panel.objects.create(
            name="nl-1", location_name="Netherlands", base_url=other.url,
            username=other.username, password=other.password, public_host="nl.example.com",
        )  # fmt: skip
        assert panel_sync(panel=panel).ok
        Inbound.objects.filter(panel=panel).update(is_sellable=True)
        target = panel.inbounds.get()

        moved = billing.order_move(order_id=order.pk, inbound_id=target.pk)
        assert (moved.panel_id, moved.inbound_id, moved.attempts) == (panel.pk, target.pk, 0)
        from botapp.notify import provision_and_notify

        provision_and_notify(order.pk)
        order.refresh_from_db()
        assert order.status == "fulfilled"
        account = ClientAccount.objects.get(order=order)
        assert account.panel == panel and account.config_url.startswith("trojan://")
        assert other.find_client(account.email) is not None
        assert decode_qr(tg.photos_to(JOHN)[-1]["photo"]) == account.config_url
    with pytest.raises(billing.BillingError):
        billing.order_move(order_id=order.pk, inbound_id=inbound.pk)  # delivered: stays


def test_retry_provisioning_from_the_order_admin(
    bot, tg, django_user_model, plan, inbound, xui, admin_client
):
    xui.stop()
    order = _pay(bot, JOHN, django_user_model)
    fulfilled = Order.objects.create(user=order.user, plan=plan, amount=1, status="cancelled")
    xui.start()
    response = admin_client.post(
        "/admin/billing/order/",
        {"action": "retry_provisioning", "_selected_action": [order.pk, fulfilled.pk]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert f"Order #{order.pk} delivered." in page
    assert f"Order #{fulfilled.pk} is cancelled: only paid orders" in page
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert len(tg.photos_to(JOHN)) == 1
    assert len(xui.all_clients()) == 1


def test_the_scheduler_delivers_a_paid_order_whose_panel_was_down(
    bot, tg, django_user_model, plan, inbound, xui
):
    # What the compose file's scheduler service runs: every job when due, recorded.
    from ops.models import JobRun

    xui.stop()
    order = _pay(bot, SARA, django_user_model)
    assert order.status == "paid"
    xui.start()
    out = io.StringIO()
    call_command("scheduler", "--once", "retry_provisioning=1m", "sync_panels=10m", stdout=out)
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert len(tg.photos_to(SARA)) == 1
    assert "retry_provisioning: delivered 1, still pending 0" in out.getvalue()
    assert "sync_panels: ok" in out.getvalue()
    runs = {run.name: run for run in JobRun.objects.all()}
    assert set(runs) == {"retry_provisioning", "sync_panels"}
    assert all(run.last_success_at and not run.last_error for run in runs.values())
