"""Every bad input and race gets a clear answer and changes nothing it should not."""

import logging
import threading

import pytest
from django.db import connection
from django.test import Client

from billing import services as billing
from billing.models import Order, Plan, Receipt, WalletTransaction
from botapp import handlers
from botapp import telegram as telegram_module
from botapp.tests.conftest import JOHN, SARA, Bot, receipt_image
from panels.models import ClientAccount, Inbound, Panel

pytestmark = pytest.mark.django_db


def _fund(chat_id, amount=1_000_000):
    from accounts.models import User

    user = User.objects.get(telegram_id=chat_id)
    billing.wallet_credit(
        user_id=user.pk,
        amount=amount,
        kind=WalletTransaction.Kind.TOPUP,
        idempotency_key=f"fund:{chat_id}:{amount}",
    )
    return user


def _to_summary(bot, chat_id):
    bot.send(chat_id, "/start")
    bot.press_data(chat_id, "b")
    bot.press(chat_id, "1 Month")
    bot.press(chat_id, "Germany")
    bot.press(chat_id, "VLESS Reality")
    return Order.objects.filter(user__telegram_id=chat_id).latest("pk")


# --- stale buttons ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda plan, inbound: Plan.objects.filter(pk=plan.pk).update(is_active=False),
         "This plan is no longer sold."),
        (lambda plan, inbound: Plan.objects.filter(pk=plan.pk).update(price=180_000),
         "The price of this plan has changed."),
        (lambda plan, inbound: Inbound.objects.filter(pk=inbound.pk).update(
            status=Inbound.Status.INACTIVE), "This protocol is no longer offered."),
        (lambda plan, inbound: Inbound.objects.filter(pk=inbound.pk).update(is_sellable=False),
         "This protocol is no longer offered."),
        (lambda plan, inbound: Panel.objects.filter(pk=inbound.panel_id).update(is_active=False),
         "This location is no longer offered."),
    ],
)  # fmt: skip
def test_pay_from_an_old_summary_after_a_change_charges_nothing(
    bot, tg, plan, inbound, change, reason
):
    order = _to_summary(bot, JOHN)
    user = _fund(JOHN)
    change(plan, inbound)
    bot.press_data(JOHN, f"pw:{order.pk}")
    order.refresh_from_db()
    assert order.status == "cancelled"
    user.refresh_from_db()
    assert user.balance == 1_000_000
    assert not WalletTransaction.objects.filter(kind="purchase").exists()
    assert not ClientAccount.objects.exists()
    screen = bot.screen(JOHN)
    assert reason in screen and "Nothing was charged" in screen
    # A fresh menu: today's plans (or none) instead of the old summary.
    assert f"pw:{order.pk}" not in str(bot.keyboard(JOHN))


def test_pay_after_the_panel_filled_up_charges_nothing(bot, tg, plan, inbound, xui):
    order = _to_summary(bot, JOHN)
    user = _fund(JOHN)
    # Someone else bought the last place meanwhile.
    _to_summary(bot, SARA)
    _fund(SARA)
    other = Order.objects.filter(user__telegram_id=SARA).latest("pk")
    bot.press_data(SARA, f"pw:{other.pk}")
    assert ClientAccount.objects.count() == 1
    Panel.objects.filter(pk=inbound.panel_id).update(capacity=1)

    bot.press_data(JOHN, f"pw:{order.pk}")
    order.refresh_from_db()
    assert order.status == "cancelled"
    user.refresh_from_db()
    assert user.balance == 1_000_000
    assert "This location is full right now." in bot.screen(JOHN)
    # And the full panel is no longer offered.
    bot.press_data(JOHN, f"p:{plan.pk}")
    assert "No location has room" in bot.screen(JOHN)


def test_old_location_button_after_the_plan_left_the_panel(bot, tg, plan, inbound, xui):
    bot.send(JOHN, "/start")
    bot.press_data(JOHN, "b")
    bot.press(JOHN, "1 Month")
    other = Panel.objects.create(
        name="nl", location_name="NL", base_url="http://x/", public_host="x"
    )
    plan.panels.add(other)  # the plan is now sold only on another panel
    bot.press(JOHN, "Germany")
    assert "This location is no longer offered." in bot.screen(JOHN)
    assert not Order.objects.exists()


def test_forged_and_unknown_buttons_are_refused(bot, tg, plan, inbound):
    bot.send(JOHN, "/start")
    for data in ("zz:1", "pw:abc", "p:1:2", "pw:-1", "gs:de", "x" * 64):
        bot.press_data(JOHN, data)
    answers = [answer["text"] for answer in tg.callback_answers]
    assert answers.count("This button is no longer valid.") == 6
    assert not Order.objects.exists()


def test_another_customers_order_is_refused(bot, tg, plan, inbound, card):
    order = _to_summary(bot, SARA)
    _fund(SARA)
    bot.send(JOHN, "/start")
    _fund(JOHN)
    for data in (f"pw:{order.pk}", f"pr:{order.pk}", f"x:{order.pk}"):
        bot.press_data(JOHN, data)
    order.refresh_from_db()
    assert order.status == "pending"
    assert [a["text"] for a in tg.callback_answers][-3:] == ["This is not yours."] * 3
    assert not WalletTransaction.objects.filter(kind="purchase").exists()


def test_not_enough_balance_offers_card_and_topup_not_wallet(bot, tg, plan, inbound):
    order = _to_summary(bot, JOHN)
    labels = str(bot.keyboard(JOHN))
    assert f"pw:{order.pk}" not in labels and f"pr:{order.pk}" in labels and "'t'" in labels
    bot.press_data(JOHN, f"pw:{order.pk}")  # an old button from when the balance was enough
    order.refresh_from_db()
    assert order.status == "pending"
    assert "is not enough" in tg.callback_answers[-1]["text"]


def test_cancel_then_pay_charges_nothing(bot, tg, plan, inbound):
    order = _to_summary(bot, JOHN)
    _fund(JOHN)
    bot.press_data(JOHN, f"x:{order.pk}")
    assert "was cancelled" in bot.screen(JOHN)
    bot.press_data(JOHN, f"pw:{order.pk}")
    assert "can no longer be paid" in tg.callback_answers[-1]["text"]
    assert not WalletTransaction.objects.filter(kind="purchase").exists()


# --- double presses ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_pay_pressed_three_times_at_once_pays_and_delivers_once(tg, plan, inbound, xui):
    bot = Bot(Client(), tg)
    order = _to_summary(bot, JOHN)
    user = _fund(JOHN)
    updates = [tg.callback_update(JOHN, f"pw:{order.pk}", first_name="John") for _ in range(3)]
    barrier = threading.Barrier(3)

    def press(update):
        try:
            barrier.wait()
            Bot(Client(), tg).post(update)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(u,)) for u in updates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert WalletTransaction.objects.filter(kind="purchase").count() == 1
    user.refresh_from_db()
    assert user.balance == 1_000_000 - 150_000
    assert ClientAccount.objects.count() == 1
    assert len(xui.all_clients()) == 1
    assert len(tg.photos_to(JOHN)) == 1
    order.refresh_from_db()
    assert order.status == "fulfilled"
    # The two late presses were told, not ignored.
    assert sum("can no longer be paid" in (a["text"] or "") for a in tg.callback_answers) == 2


def test_pay_pressed_again_later_changes_nothing(bot, tg, plan, inbound, xui):
    order = _to_summary(bot, JOHN)
    _fund(JOHN)
    for _ in range(3):
        bot.press_data(JOHN, f"pw:{order.pk}")
    assert WalletTransaction.objects.filter(kind="purchase").count() == 1
    assert ClientAccount.objects.count() == 1
    assert len(xui.all_clients()) == 1
    assert len(tg.photos_to(JOHN)) == 1


# --- receipts where they do not belong ---------------------------------------------------


def test_text_or_pdf_instead_of_the_receipt_photo_asks_for_a_photo(bot, tg, plan, inbound, card):
    order = _to_summary(bot, JOHN)
    bot.press_data(JOHN, f"pr:{order.pk}")
    bot.send(JOHN, "I paid!")
    assert "send the receipt as a photo" in tg.texts_to(JOHN)[-1]
    bot.document(JOHN, b"%PDF-1.4 not an image", file_name="r.pdf", mime_type="application/pdf")
    assert "send the receipt as a photo" in tg.texts_to(JOHN)[-1]
    # An "image" that is not one is not stored either.
    bot.document(JOHN, b"not really a png", file_name="r.png", mime_type="image/png")
    assert "could not be read" in tg.texts_to(JOHN)[-1]
    assert not Receipt.objects.exists()


def test_photo_when_no_order_awaits_one(bot, tg):
    bot.send(SARA, "/start")
    bot.photo(SARA, receipt_image(20))
    assert "هیچ سفارشی در انتظار رسید نیست" in tg.texts_to(SARA)[-1]
    assert not Receipt.objects.exists()


def test_receipt_for_a_cancelled_order_is_refused_with_the_reason(bot, tg, plan, inbound, card):
    order = _to_summary(bot, JOHN)
    bot.press_data(JOHN, f"pr:{order.pk}")
    bot.press_data(JOHN, f"x:{order.pk}")
    bot.photo(JOHN, receipt_image(21))
    assert "was cancelled, so it takes no receipt" in tg.texts_to(JOHN)[-1]
    assert not Receipt.objects.exists()


def test_receipt_for_an_already_paid_order_is_refused(bot, tg, plan, inbound, card, xui):
    order = _to_summary(bot, JOHN)
    bot.press_data(JOHN, f"pr:{order.pk}")
    _fund(JOHN)
    bot.press_data(JOHN, f"pw:{order.pk}")  # paid from the wallet after all
    order.refresh_from_db()
    assert order.status == "fulfilled"
    bot.photo(JOHN, receipt_image(22))
    assert "is already paid" in tg.texts_to(JOHN)[-1]
    assert not Receipt.objects.exists()


def test_second_photo_while_the_first_awaits_review(bot, tg, plan, inbound, card):
    order = _to_summary(bot, JOHN)
    bot.press_data(JOHN, f"pr:{order.pk}")
    bot.photo(JOHN, receipt_image(23))
    bot.photo(JOHN, receipt_image(24))
    assert "already waiting for review" in tg.texts_to(JOHN)[-1]
    assert Receipt.objects.count() == 1


def test_no_active_bank_card(bot, tg, plan, inbound):
    order = _to_summary(bot, JOHN)
    bot.press_data(JOHN, f"pr:{order.pk}")
    assert "Card payment is not available" in tg.callback_answers[-1]["text"]
    order.refresh_from_db()
    assert order.status == "pending"


# --- people ------------------------------------------------------------------------------


def test_blocked_customer_is_told_so(bot, tg, plan, inbound, django_user_model):
    bot.send(SARA, "/start")
    django_user_model.objects.filter(telegram_id=SARA).update(is_blocked=True)
    bot.send(SARA, "/start")
    assert "مسدود" in tg.texts_to(SARA)[-1]
    bot.press_data(SARA, "b")
    assert "مسدود" in tg.callback_answers[-1]["text"]
    assert not Order.objects.exists()


def test_customer_who_blocked_the_bot_is_marked_and_nothing_crashes(
    bot, tg, django_user_model, plan, inbound, xui
):
    bot.send(JOHN, "/start")
    _fund(JOHN)
    order = _to_summary(bot, JOHN)
    tg.block_chat(JOHN)
    response = bot.press_data(JOHN, f"pw:{order.pk}")
    assert response.status_code == 200
    john = django_user_model.objects.get(telegram_id=JOHN)
    assert john.has_blocked_bot
    order.refresh_from_db()
    assert order.status == "fulfilled"  # the service exists; it waits under My services
    # When they unblock and write again, the flag is cleared.
    tg.unblock_chat(JOHN)
    bot.send(JOHN, "/start")
    john.refresh_from_db()
    assert not john.has_blocked_bot


def test_flood_control_429_waits_retry_after_and_sends_again(bot, tg, monkeypatch):
    waits = []
    monkeypatch.setattr(telegram_module.time, "sleep", waits.append)
    tg.fail_next("sendMessage", 429, retry_after=7, chat_id=JOHN, times=2)
    bot.send(JOHN, "/start")
    assert waits == [7, 7]
    assert len(tg.messages_to(JOHN)) == 1
    statuses = [c["status"] for c in tg.calls if c["method"].lower() == "sendmessage"]
    assert statuses == [429, 429, 200]


def test_unexpected_error_apologises_in_the_customers_language(bot, tg, monkeypatch, caplog):
    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(handlers.ROUTES, "buy", broken)
    bot.send(SARA, "/start")
    with caplog.at_level(logging.ERROR, logger="botapp.handlers"):
        response = bot.press_data(SARA, "b")
    assert response.status_code == 200
    assert tg.callback_answers[-1]["text"] == "مشکلی پیش آمد. لطفاً دوباره تلاش کنید."
    assert "Traceback" not in str(tg.sent) and "boom" not in str(tg.sent)
    assert "RuntimeError: boom" in caplog.text

    monkeypatch.setattr(handlers, "_route_message", lambda ctx, message: broken(ctx))
    bot.send(JOHN, "hello")
    assert tg.texts_to(JOHN)[-1] == "Something went wrong. Please try again."
