"""Renewing and buying add-ons in the bot, end to end: the same payment as a purchase."""

from datetime import timedelta

import pytest

from billing.models import AddOn, Order, WalletTransaction
from botapp.management.commands.send_reminders import send_due_reminders
from botapp.tests.conftest import JOHN, OPERATOR, SARA, receipt_image
from panels.models import ClientAccount
from panels.tests.lifecycle_helpers import DAY_MS, GB, fund, kept, on_panel, sold_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def john(bot, django_user_model):
    bot.send(JOHN, "/start")
    return django_user_model.objects.get(telegram_id=JOHN)


@pytest.fixture
def sara(bot, django_user_model):
    bot.send(SARA, "/start")
    return django_user_model.objects.get(telegram_id=SARA)


@pytest.fixture
def account(john, plan, inbound):
    return sold_account(john, plan, inbound.panel, inbound)


def open_account(bot, chat_id, account):
    bot.press_data(chat_id, "s")
    bot.press_data(chat_id, f"a:{account.pk}")


def test_renew_from_my_services_with_the_wallet(bot, tg, john, plan, account, xui):
    before = on_panel(xui, account.email)
    config_url = account.config_url
    fund(john, plan.price)
    tg.clear()

    open_account(bot, JOHN, account)
    bot.press(JOHN, "Renew")
    assert "Your link stays the same" in bot.screen(JOHN)
    bot.press(JOHN, "1 Month")

    order = Order.objects.get(kind="renew")
    assert (order.status, order.renews, order.plan, order.amount) == (
        "pending",
        account,
        plan,
        150_000,
    )
    summary = bot.screen(JOHN)
    assert "Renewal, order" in summary and "Price: 150,000 Toman" in summary
    bot.press(JOHN, "Pay from wallet")

    order.refresh_from_db()
    assert order.status == "fulfilled"
    john.refresh_from_db()
    assert john.balance == 0
    assert WalletTransaction.objects.filter(order=order, kind="purchase").count() == 1
    after = on_panel(xui, account.email)
    assert after["expiryTime"] == before["expiryTime"] + 30 * DAY_MS
    assert after["totalGB"] == 100 * GB
    assert kept(after) == kept(before)
    account.refresh_from_db()
    assert account.config_url == config_url
    texts = tg.texts_to(JOHN)
    assert any("Your service was renewed." in t for t in texts)
    assert any("Your config link has not changed." in t for t in texts)
    assert tg.photos_to(JOHN) == []  # nothing to scan again: the link is the same


def test_renew_by_receipt_approved_by_an_operator(bot, tg, john, plan, account, card, xui):
    before = on_panel(xui, account.email)
    open_account(bot, JOHN, account)
    bot.press(JOHN, "Renew")
    bot.press(JOHN, "1 Month")
    bot.press(JOHN, "Pay by card")
    order = Order.objects.get(kind="renew")
    assert order.status == "awaiting_receipt"

    bot.photo(JOHN, receipt_image(7))
    message = tg.photos_to(OPERATOR)[-1]
    approve = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    bot.press_data(OPERATOR, approve, message_id=message["message_id"])

    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert on_panel(xui, account.email)["expiryTime"] == before["expiryTime"] + 30 * DAY_MS
    assert any("Your service was renewed." in t for t in tg.texts_to(JOHN))


def test_renew_from_a_reminder(bot, tg, john, plan, account, xui):
    fund(john, plan.price)
    send_due_reminders(now=account.expires_at - timedelta(hours=20))
    reminder = tg.messages_to(JOHN)[-1]
    assert "expires in less than 1 day" in reminder["plain_text"]

    bot.press(JOHN, "Renew")  # on the reminder itself
    bot.press(JOHN, "1 Month")
    bot.press(JOHN, "Pay from wallet")

    assert Order.objects.get(kind="renew").status == "fulfilled"


def test_extra_traffic_from_the_account_page(bot, tg, john, account, xui):
    addon = AddOn.objects.create(name="Extra 10 GB", kind="traffic", amount=10, price=40_000)
    AddOn.objects.create(name="Old pack", kind="traffic", amount=5, price=1, is_active=False)
    fund(john, addon.price)

    open_account(bot, JOHN, account)
    bot.press(JOHN, "Extra traffic or days")
    labels = [label for label, _ in bot.keyboard(JOHN)]
    assert any("Extra 10 GB" in label for label in labels)
    assert not any("Old pack" in label for label in labels)
    bot.press(JOHN, "Extra 10 GB")
    assert "Add-on, order" in bot.screen(JOHN)
    bot.press(JOHN, "Pay from wallet")

    order = Order.objects.get(kind="addon")
    assert (order.status, order.addon) == ("fulfilled", addon)
    assert on_panel(xui, account.email)["totalGB"] == 60 * GB
    assert any("Your add-on was applied." in t for t in tg.texts_to(JOHN))


def test_an_addon_summary_without_enough_money_offers_the_card(bot, tg, john, account):
    addon = AddOn.objects.create(name="Extra week", kind="days", amount=7, price=40_000)
    open_account(bot, JOHN, account)
    bot.press(JOHN, "Extra traffic or days")
    bot.press(JOHN, "Extra week")
    order = Order.objects.get(kind="addon")
    labels = [label for label, _ in bot.keyboard(JOHN)]
    assert not any("wallet" in label.lower() and "Pay" in label for label in labels)
    bot.press_data(JOHN, f"pw:{order.pk}")  # a stale or forged "pay from wallet"
    assert "is not enough" in tg.callback_answers[-1]["plain_text"]
    assert "Add-on, order" in bot.screen(JOHN)
    order.refresh_from_db()
    assert order.status == "pending"
    assert addon.price == order.amount


def test_a_plan_withdrawn_before_paying_charges_nothing(bot, tg, john, plan, account, xui):
    before = on_panel(xui, account.email)
    fund(john, plan.price)
    open_account(bot, JOHN, account)
    bot.press(JOHN, "Renew")
    bot.press(JOHN, "1 Month")
    plan.is_active = False
    plan.save()

    bot.press(JOHN, "Pay from wallet")

    order = Order.objects.get(kind="renew")
    assert order.status == "cancelled"
    john.refresh_from_db()
    assert john.balance == plan.price
    assert on_panel(xui, account.email)["expiryTime"] == before["expiryTime"]


def test_someone_elses_account_cannot_be_renewed(bot, tg, sara, john, account):
    from django.utils import translation

    from botapp import texts

    bot.press_data(SARA, f"rn:{account.pk}")
    bot.press_data(SARA, f"rp:{account.pk}:{account.plan_id}")
    bot.press_data(SARA, f"ad:{account.pk}")
    assert not Order.objects.filter(kind="renew").exists()
    with translation.override("fa"):
        not_yours = texts.not_yours()
    assert [a["plain_text"] for a in tg.callback_answers[-3:]] == [not_yours] * 3


def test_a_deleted_account_offers_no_renewal(bot, tg, john, account):
    ClientAccount.objects.filter(pk=account.pk).update(status="deleted")
    bot.press_data(JOHN, f"rn:{account.pk}")
    assert "deleted" in tg.callback_answers[-1]["plain_text"]
    assert not Order.objects.filter(kind="renew").exists()


def test_renewing_a_service_deleted_after_the_order_charges_nothing(bot, tg, john, plan, account):
    fund(john, plan.price)
    open_account(bot, JOHN, account)
    bot.press(JOHN, "Renew")
    bot.press(JOHN, "1 Month")
    ClientAccount.objects.filter(pk=account.pk).update(status="deleted")
    bot.press(JOHN, "Pay from wallet")
    john.refresh_from_db()
    assert john.balance == plan.price
    assert Order.objects.get(kind="renew").status == "cancelled"


def test_a_persian_customer_renews_in_persian(bot, tg, sara, plan, inbound, xui):
    account = sold_account(sara, plan, inbound.panel, inbound)
    fund(sara, plan.price)
    open_account(bot, SARA, account)
    bot.press(SARA, "🔄 تمدید")
    assert "لینک شما تغییری نمی‌کند" in bot.screen(SARA)
    bot.press(SARA, "1 Month")
    assert "۱۵۰٬۰۰۰ تومان" in bot.screen(SARA)
    bot.press(SARA, "کیف پول")

    assert Order.objects.get(kind="renew").status == "fulfilled"
    assert any("سرویس شما تمدید شد." in t for t in tg.texts_to(SARA))
