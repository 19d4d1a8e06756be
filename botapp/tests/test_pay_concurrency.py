"""Many presses of one Pay button at once, on a database that really locks rows."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from billing import services as billing
from billing.models import Order, WalletTransaction
from botapp.tests.conftest import JOHN, Bot
from panels.models import ClientAccount

PRESSES = 30


@pytest.mark.django_db(transaction=True)
def test_thirty_presses_of_one_pay_button_never_deadlock(tg, plan, inbound, xui):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has no row locks (one writer at a time): nothing can deadlock")
    bot = Bot(Client(), tg)
    bot.send(JOHN, "/start", first_name="John", language_code="en")
    bot.press_data(JOHN, "b", first_name="John", language_code="en")
    bot.press(JOHN, "1 Month", first_name="John", language_code="en")
    bot.press(JOHN, "Germany", first_name="John", language_code="en")
    bot.press(JOHN, "VLESS Reality", first_name="John", language_code="en")
    order = Order.objects.get(user__telegram_id=JOHN)
    user = order.user
    billing.wallet_credit(
        user_id=user.pk, amount=1_000_000, kind=WalletTransaction.Kind.TOPUP, idempotency_key="f"
    )
    barrier = threading.Barrier(PRESSES)
    delivered = threading.Event()
    presses = []

    def press():
        # Each customer thread keeps pressing until the order is delivered, so presses
        # are still arriving while the delivery writes the account (where it deadlocked).
        try:
            barrier.wait()
            deadline = time.monotonic() + 20
            while not delivered.is_set() and time.monotonic() < deadline:
                update = tg.callback_update(
                    JOHN, f"pw:{order.pk}", first_name="John", language_code="en"
                )
                Bot(Client(), tg).post(update)
                presses.append(1)
                if Order.objects.filter(pk=order.pk, status="fulfilled").exists():
                    delivered.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(PRESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    answers = [a["text"] or "" for a in tg.callback_answers]
    assert not [a for a in answers if "Something went wrong" in a]
    assert sum("can no longer be paid" in a for a in answers) == len(presses) - 1
    assert WalletTransaction.objects.filter(kind="purchase").count() == 1
    user.refresh_from_db()
    assert user.balance == 1_000_000 - 150_000
    assert ClientAccount.objects.count() == 1
    assert len(xui.all_clients()) == 1
    order.refresh_from_db()
    assert order.status == "fulfilled"
