"""Placement by load: a new account goes to the least loaded panel of its location."""

import threading

import pytest
from django.db import connection
from django.utils import translation

from billing import services as billing
from billing.models import Order, Plan, WalletTransaction
from panels.models import ClientAccount, Inbound, Panel

pytestmark = pytest.mark.django_db

_ports = iter(range(30_000, 31_000))


def _panel(name, capacity, location="Germany", health=Panel.Health.OK):
    panel = Panel.objects.create(
        name=name,
        location_name=location,
        base_url=f"http://127.0.0.1:9/{name}/",
        username="admin",
        password="secret",
        public_host=f"{name}.example.com",
        capacity=capacity,
        health=health,
    )
    return panel


def _inbound(panel, protocol="vless", network="tcp"):
    return Inbound.objects.create(
        panel=panel,
        remote_id=next(_ports),
        protocol=protocol,
        port=next(_ports),
        network=network,
        security="none",
        is_sellable=True,
    )


def _customer(django_user_model, n):
    user = django_user_model.objects.create_user(username=f"tg_{n}", telegram_id=n)
    billing.wallet_credit(
        user_id=user.pk, amount=100_000, kind=WalletTransaction.Kind.TOPUP,
        idempotency_key=f"place-{n}",
    )  # fmt: skip
    return user


def _active(panel, user, plan, n):
    inbound = panel.inbounds.first()
    ClientAccount.objects.create(
        user=user, plan=plan, panel=panel, inbound=inbound, uuid=f"u{n}", email=f"e{n}"
    )


@pytest.fixture
def plan():
    return Plan.objects.create(name="1 Month", duration_days=30, traffic_gb=50, price=50_000)


def _buy(user, plan, inbound):
    order = billing.order_create_new(user=user, plan=plan, inbound=inbound)
    return billing.order_pay_from_wallet(order_id=order.pk, user_id=user.pk)


def test_the_order_goes_to_the_panel_with_most_free_places(django_user_model, plan):
    busy, quiet = _panel("de-1", capacity=10), _panel("de-2", capacity=10)
    other_city = _panel("nl-1", capacity=100, location="Netherlands")
    for panel in (busy, quiet, other_city):
        _inbound(panel)
    _inbound(quiet, protocol="trojan")  # the protocol decides, not the first inbound
    owner = _customer(django_user_model, 1)
    for n in range(6):
        _active(busy, owner, plan, n)
    for n in range(6, 8):
        _active(quiet, owner, plan, n)
    customer = _customer(django_user_model, 2)
    order = _buy(customer, plan, busy.inbounds.get())
    assert order.status == Order.Status.PAID
    assert (order.panel_id, order.inbound.protocol) == (quiet.pk, "vless")
    assert order.inbound.panel_id == quiet.pk


def test_paid_orders_not_yet_delivered_count_as_taken(django_user_model, plan):
    first, second = _panel("de-1", capacity=3), _panel("de-2", capacity=3)
    _inbound(first)
    _inbound(second)
    placed = [_buy(_customer(django_user_model, n), plan, first.inbounds.get()) for n in range(6)]
    assert sorted(o.panel_id for o in placed).count(first.pk) == 3
    assert sorted(o.panel_id for o in placed).count(second.pk) == 3
    late = _customer(django_user_model, 99)
    with translation.override("en"), pytest.raises(billing.NoLongerForSale, match="is full"):
        _buy(late, plan, first.inbounds.get())
    assert late.__class__.objects.get(pk=late.pk).balance == 100_000  # nothing charged


def test_a_down_panel_or_one_without_the_protocol_is_not_chosen(django_user_model, plan):
    chosen = _panel("de-1", capacity=10)
    _panel_down = _panel("de-2", capacity=100, health=Panel.Health.DOWN)
    no_vless = _panel("de-3", capacity=100)
    _inbound(chosen)
    _inbound(_panel_down)
    _inbound(no_vless, protocol="trojan")
    order = _buy(_customer(django_user_model, 1), plan, chosen.inbounds.get())
    assert order.panel_id == chosen.pk


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_concurrent_purchases_never_overfills(django_user_model, plan):
    if connection.vendor == "sqlite":
        pytest.skip("concurrent writers need MariaDB (SQLite runs them one by one)")
    panels = [_panel("de-1", capacity=4), _panel("de-2", capacity=3), _panel("de-3", capacity=2)]
    for panel in panels:
        _inbound(panel)
    entry = panels[0].inbounds.get()
    customers = [_customer(django_user_model, 100 + n) for n in range(16)]
    barrier = threading.Barrier(len(customers))
    outcomes, errors = [], []

    def buy(user):
        try:
            order = billing.order_create_new(user=user, plan=plan, inbound=entry)
            barrier.wait()
            try:
                billing.order_pay_from_wallet(order_id=order.pk, user_id=user.pk)
                outcomes.append("paid")
            except billing.NoLongerForSale:
                outcomes.append("full")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(user,)) for user in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(outcomes) == ["full"] * 7 + ["paid"] * 9
    for panel in panels:
        paid = Order.objects.filter(panel=panel, status=Order.Status.PAID).count()
        assert paid == panel.capacity, (panel.name, paid)
    charged = WalletTransaction.objects.filter(kind=WalletTransaction.Kind.PURCHASE).count()
    assert charged == 9


def test_the_bot_shows_one_button_per_location_and_places_by_load(
    client, django_user_model, plan, settings
):
    from botapp.tests.conftest import Bot
    from standins.telegram import FakeTelegram

    first, second = _panel("de-1", capacity=10), _panel("de-2", capacity=10)
    _inbound(first)
    _inbound(second)
    _inbound(second, protocol="trojan")
    Inbound.objects.filter(protocol="vless").update(display_name="VLESS")
    Inbound.objects.filter(protocol="trojan").update(display_name="Trojan")
    owner = _customer(django_user_model, 1)
    for n in range(3):
        _active(first, owner, plan, n)
    with FakeTelegram() as tg:
        tg.configure_telebot()
        settings.TELEGRAM_BOT_TOKEN = tg.token
        settings.TELEGRAM_API_URL = tg.base_url
        settings.TELEGRAM_WEBHOOK_SECRET = "test-webhook-secret"
        bot = Bot(client, tg)
        bot.send(2002, "/start")
        user = django_user_model.objects.get(telegram_id=2002)
        billing.wallet_credit(
            user_id=user.pk, amount=100_000, kind=WalletTransaction.Kind.TOPUP,
            idempotency_key="bot-place",
        )  # fmt: skip
        bot.press_data(2002, "b")
        bot.press(2002, "1 Month")
        labels = [label for label, _ in bot.keyboard(2002)]
        assert sum("Germany" in label for label in labels) == 1
        bot.press(2002, "Germany")
        labels = [label for label, _ in bot.keyboard(2002)]
        assert [label for label in labels if label in ("VLESS", "Trojan")] == ["VLESS", "Trojan"]
        bot.press(2002, "VLESS")
        bot.press(2002, "👛")
    order = Order.objects.get(user=user)
    assert order.status in (Order.Status.PAID, Order.Status.FULFILLED, Order.Status.FAILED)
    assert order.panel_id == second.pk  # de-1 has 3 accounts, de-2 none
