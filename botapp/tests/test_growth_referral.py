"""Invite links and rewards, wallet history and the required channel, end to end."""

import re

import pytest

from billing import services as billing
from billing.models import Order, WalletTransaction
from botapp.tests.conftest import JOHN, SARA

pytestmark = pytest.mark.django_db

ALI = 3003  # a third customer


def _fund(user, amount, key):
    billing.wallet_credit(
        user_id=user.pk, amount=amount, kind=WalletTransaction.Kind.TOPUP, idempotency_key=key
    )


def _invite_link(bot, chat_id, label):
    bot.send(chat_id, "/start")
    bot.press(chat_id, label)
    match = re.search(r"https://t\.me/(\w+)\?start=(ref-\w+)", bot.screen(chat_id))
    assert match, bot.screen(chat_id)
    return match.group(1), match.group(2)


def _buy(bot, chat_id):
    bot.send(chat_id, "/start")
    bot.press(chat_id, "Buy")
    bot.press(chat_id, "1 Month")
    bot.press(chat_id, "Germany")
    bot.press(chat_id, "VLESS Reality")
    bot.press(chat_id, "Pay from wallet")


def test_inviter_earns_ten_percent_of_the_first_order_once(
    bot, tg, django_user_model, plan, inbound, xui
):
    username, start = _invite_link(bot, SARA, "👥")
    assert username == "moonvpn_test_bot"  # from getMe
    sara = django_user_model.objects.get(telegram_id=SARA)

    bot.send(JOHN, f"/start {start}", first_name="John", language_code="en")
    john = django_user_model.objects.get(telegram_id=JOHN)
    assert john.referred_by == sara
    _fund(john, 1_000_000, "j")

    _buy(bot, JOHN)
    assert Order.objects.get(user=john).status == "fulfilled"
    reward = WalletTransaction.objects.get(user=sara, kind="referral")
    assert (reward.amount, reward.idempotency_key) == (15_000, f"referral:order:{reward.order_id}")
    sara.refresh_from_db()
    assert sara.balance == 15_000
    told = [m["plain_text"] for m in tg.messages_to(SARA) if "دوستی که دعوت" in m["plain_text"]]
    assert len(told) == 1 and "۱۵٬۰۰۰ تومان" in told[0]

    # A second order of John's earns nothing (REFERRAL_MAX_ORDERS = 1), and a retried
    # notification of the first changes nothing.
    _buy(bot, JOHN)
    from botapp import notify

    notify.provision_and_notify(reward.order_id)
    assert WalletTransaction.objects.filter(kind="referral").count() == 1

    bot.send(SARA, "/start")
    bot.press(SARA, "👥")
    screen = bot.screen(SARA)
    assert "دوستان دعوت‌شده: ۱" in screen and "پاداش دریافتی: ۱۵٬۰۰۰ تومان" in screen


def test_english_invites_bind_only_new_customers_and_never_themselves(
    bot, tg, django_user_model, settings
):
    settings.REFERRAL_PERCENT = 10
    _username, start = _invite_link(bot, JOHN, "Invite friends")
    assert "Friends invited: 0" in bot.screen(JOHN)
    john = django_user_model.objects.get(telegram_id=JOHN)

    bot.send(JOHN, f"/start {start}")  # their own link
    john.refresh_from_db()
    assert john.referred_by is None

    bot.send(SARA, "/start")  # already a customer before the link
    bot.send(SARA, f"/start {start}")
    assert django_user_model.objects.get(telegram_id=SARA).referred_by is None

    bot.send(ALI, "/start ref-zzzzzz", first_name="Ali", language_code="en")  # no such code
    ali = django_user_model.objects.get(telegram_id=ALI)
    assert ali.referred_by is None
    _u, sara_start = _invite_link(bot, SARA, "👥")
    bot.send(ALI, f"/start {sara_start}", first_name="Ali", language_code="en")
    ali.refresh_from_db()
    assert ali.referred_by is None  # not new any more: never bound (or rebound) later


def test_referral_max_orders_setting(bot, tg, django_user_model, settings, plan, inbound, xui):
    settings.REFERRAL_MAX_ORDERS = 2
    settings.REFERRAL_PERCENT = 20
    _u, start = _invite_link(bot, JOHN, "Invite friends")
    bot.send(ALI, f"/start {start}", first_name="Ali", language_code="en")
    ali = django_user_model.objects.get(telegram_id=ALI)
    _fund(ali, 1_000_000, "a")
    for _ in range(3):
        _buy(bot, ALI)
    rewards = WalletTransaction.objects.filter(kind="referral").order_by("pk")
    assert [r.amount for r in rewards] == [30_000, 30_000]
    assert any("A friend you invited paid" in m["plain_text"] for m in tg.messages_to(JOHN))


# --- wallet history ------------------------------------------------------------------------


def test_wallet_shows_the_last_ten_ledger_rows_in_persian(bot, django_user_model):
    bot.send(SARA, "/start")
    sara = django_user_model.objects.get(telegram_id=SARA)
    for n in range(12):
        _fund(sara, 1_000 * (n + 1), f"k{n}")
    bot.press(SARA, "👛")
    screen = bot.screen(SARA)
    assert "آخرین تراکنش‌ها" in screen
    rows = [line for line in screen.splitlines() if line.startswith("۱۴")]
    assert len(rows) == 10
    assert rows[0].startswith("۱۴")  # a Jalali year in Persian digits
    assert "شارژ کیف پول" in rows[0]  # the kind, in Persian
    assert "+۱۲٬۰۰۰ تومان" in rows[0] and "۷۸٬۰۰۰ تومان" in rows[0]  # newest first, balance after
    assert "+۳٬۰۰۰ تومان" in rows[-1]  # the two oldest are left out


def test_wallet_history_in_english(bot, django_user_model):
    bot.send(JOHN, "/start")
    john = django_user_model.objects.get(telegram_id=JOHN)
    _fund(john, 50_000, "a")
    billing.wallet_debit(user_id=john.pk, amount=20_000, kind="purchase", idempotency_key="b")
    bot.press(JOHN, "Wallet")
    screen = bot.screen(JOHN)
    assert "Balance: 30,000 Toman" in screen
    assert "purchase · −20,000 Toman · 30,000 Toman" in screen
    assert "top-up · +50,000 Toman · 50,000 Toman" in screen


# --- the required channel ------------------------------------------------------------------


def test_required_channel_asks_to_join_before_buying(bot, tg, settings, plan, inbound):
    settings.REQUIRED_CHANNEL = "@moonvpn_news"
    tg.set_chat_member("@moonvpn_news", SARA, "member")  # the channel exists; John is not in it
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Buy")
    assert "Please join our channel @moonvpn_news first" in bot.screen(JOHN)
    markup = bot.last_keyboard_message(JOHN)["reply_markup"]["inline_keyboard"]
    assert markup[0][0]["url"] == "https://t.me/moonvpn_news"
    bot.press(JOHN, "I joined")
    assert "You have not joined the channel yet." in tg.callback_answers[-1]["text"]
    tg.set_chat_member("@moonvpn_news", JOHN, "member")
    bot.press(JOHN, "I joined")
    assert "Choose a plan" in bot.screen(JOHN)


def test_required_channel_gates_the_trial_in_persian(bot, tg, settings, inbound, xui):
    from billing.models import Plan, TrialClaim

    Plan.objects.create(name="Trial", duration_days=1, traffic_gb=1, price=0, is_trial=True)
    settings.REQUIRED_CHANNEL = "@moonvpn_news"
    tg.set_chat_member("@moonvpn_news", SARA, "left")
    bot.send(SARA, "/start")
    bot.press(SARA, "🎁")
    assert "عضو شوید" in bot.screen(SARA)
    assert not TrialClaim.objects.exists()
    tg.set_chat_member("@moonvpn_news", SARA, "member")
    bot.press(SARA, "عضو شدم")
    assert TrialClaim.objects.filter(user__telegram_id=SARA).exists()
