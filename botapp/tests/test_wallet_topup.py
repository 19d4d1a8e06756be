"""Topping up the wallet: preset or typed amounts, a receipt, approval → new balance."""

import pytest

from billing.models import Order, Receipt, WalletTransaction
from botapp.conversations.wallet import parse_amount
from botapp.models import PendingInput
from botapp.tests.conftest import JOHN, OPERATOR, SARA, receipt_image

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("250000", 250_000),
        ("250,000", 250_000),
        ("۲۵۰۰۰۰", 250_000),
        ("۲۵۰٬۰۰۰", 250_000),
        ("٢٥٠,٠٠٠", 250_000),
        ("250 000", 250_000),
        ("1.000.000", 1_000_000),
        ("۵۰۰ هزار", None),
        ("250000 تومان", 250_000),
        ("12.5", None),
        ("-5000", None),
        ("25,00,0", None),
        ("abc", None),
        ("", None),
    ],
)
def test_typed_amounts_are_read_in_persian_or_latin_digits(text, amount):
    assert parse_amount(text) == amount


def test_preset_topup_approved_credits_the_wallet_and_tells_the_new_balance(
    bot, tg, card, django_user_model
):
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Wallet")
    assert "Balance: 0 Toman" in bot.screen(JOHN)
    bot.press(JOHN, "Top up")
    bot.press(JOHN, "200,000 Toman")
    order = Order.objects.get(kind="topup")
    assert (order.status, order.amount) == ("awaiting_receipt", 200_000)
    assert "6037-9912-3456-7890" in bot.screen(JOHN)

    bot.photo(JOHN, receipt_image(10))
    receipt = Receipt.objects.get(order=order)
    caption = tg.photos_to(OPERATOR)[-1]["plain_text"]
    assert "شارژ کیف پول" in caption  # the operator reads Persian

    bot.press_data(OPERATOR, f"ra:{receipt.pk}")
    john = django_user_model.objects.get(telegram_id=JOHN)
    assert john.balance == 200_000
    assert WalletTransaction.objects.get(receipt=receipt).amount == 200_000
    assert "Your wallet balance is now 200,000 Toman" in tg.texts_to(JOHN)[-1]
    order.refresh_from_db()
    assert order.status == "fulfilled"


def test_typed_topup_in_persian_digits(bot, tg, card, settings):
    settings.TOPUP_MIN_AMOUNT, settings.TOPUP_MAX_AMOUNT = 10_000, 5_000_000
    bot.send(SARA, "/start")
    bot.press_data(SARA, "t")
    bot.press_data(SARA, "tt")
    assert PendingInput.objects.filter(user__telegram_id=SARA).exists()
    bot.send(SARA, "۹۹۹۹")  # below the minimum
    assert "۱۰٬۰۰۰ تومان" in tg.texts_to(SARA)[-1]
    assert not Order.objects.exists()
    bot.send(SARA, "۳۵۰٬۰۰۰")
    order = Order.objects.get()
    assert (order.kind, order.amount, order.status) == ("topup", 350_000, "awaiting_receipt")
    assert not PendingInput.objects.exists()
    assert "۳۵۰٬۰۰۰ تومان" in tg.texts_to(SARA)[-1]


def test_a_restart_between_asking_and_typing_loses_nothing(bot, tg, card):
    from botapp import telegram

    bot.send(JOHN, "/start")
    bot.press_data(JOHN, "tt")
    telegram._bots.clear()  # as if the process restarted: no state survives but the database
    bot.send(JOHN, "120000")
    assert Order.objects.get().amount == 120_000


def test_pressing_another_button_forgets_the_typed_amount_question(bot, tg, card):
    bot.send(JOHN, "/start")
    bot.press_data(JOHN, "tt")
    bot.press_data(JOHN, "w")
    bot.send(JOHN, "120000")
    assert not Order.objects.exists()
    assert "Welcome to MoonVPN" in tg.texts_to(JOHN)[-1]  # just the menu again
