"""The free trial, end to end: menu button, one per customer ever, same paid path."""

import pytest
from django.db import IntegrityError, transaction

from billing import services as billing
from billing.models import Order, Plan, TrialClaim, WalletTransaction
from botapp.tests.conftest import JOHN, SARA
from panels.models import ClientAccount, Inbound
from panels.sync import panel_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial_plan():
    return Plan.objects.create(name="Trial", duration_days=1, traffic_gb=1, price=0, is_trial=True)


def test_persian_customer_takes_the_trial_once(bot, tg, plan, trial_plan, inbound, xui):
    bot.send(SARA, "/start")
    labels = [label for label, _ in bot.keyboard(SARA)]
    assert "🎁 آزمایش رایگان" in labels

    bot.press(SARA, "🎁")  # one location, one protocol: nothing to choose

    order = Order.objects.get(user__telegram_id=SARA)
    assert (order.kind, order.amount, order.status) == ("new", 0, "fulfilled")
    assert order.payment_method == "free"
    assert TrialClaim.objects.get(user=order.user).order == order
    assert not WalletTransaction.objects.filter(user=order.user).exists()  # no debit
    account = ClientAccount.objects.get(order=order)
    assert account.plan == trial_plan
    assert xui.find_client(account.email) is not None
    assert "آزمایش رایگان شما در حال آماده‌سازی" in " ".join(bot.texts(SARA))
    assert decode_delivered(tg, SARA) == account.config_url

    # Pressing again (on the menu under the delivery) says it was used; nothing new.
    bot.send(SARA, "/start")
    bot.press(SARA, "🎁")
    assert "قبلاً از آزمایش رایگان" in tg.callback_answers[-1]["text"]
    assert Order.objects.filter(user__telegram_id=SARA).count() == 1
    assert ClientAccount.objects.filter(user__telegram_id=SARA).count() == 1


def decode_delivered(tg, chat_id):
    from botapp.tests.conftest import decode_qr

    return decode_qr(tg.photos_to(chat_id)[-1]["photo"])


def test_english_customer_picks_a_protocol_for_the_trial(bot, tg, trial_plan, panel, xui):
    xui.add_inbound("trojan", remark="trojan-tls", security="tls")
    panel_sync(panel=panel)
    Inbound.objects.filter(panel=panel).update(is_sellable=True)
    Inbound.objects.filter(panel=panel, protocol="trojan").update(display_name="Trojan")
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Free trial")
    assert "Choose a protocol" in bot.screen(JOHN)
    bot.press(JOHN, "Trojan")
    account = ClientAccount.objects.get(user__telegram_id=JOHN)
    assert account.inbound.protocol == "trojan" and account.plan == trial_plan
    assert "Your free trial is being set up" in " ".join(bot.texts(JOHN))
    # A forged press of the old protocol button cannot claim a second trial.
    bot.press_data(JOHN, f"i:{trial_plan.pk}:{account.inbound_id}")
    assert "already used your free trial" in tg.callback_answers[-1]["text"]
    assert Order.objects.filter(user__telegram_id=JOHN).count() == 1


def test_trial_is_not_in_the_buy_list_and_no_button_without_a_trial_plan(
    bot, plan, trial_plan, inbound
):
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Buy")
    assert [label for label, _ in bot.keyboard(JOHN) if "Trial" in label] == []
    trial_plan.is_active = False
    trial_plan.save()
    bot.send(JOHN, "/start")
    assert not any("Free trial" in label for label, _ in bot.keyboard(JOHN))


def test_one_trial_per_customer_is_a_database_rule(trial_plan, inbound, django_user_model):
    user = django_user_model.objects.create(username="u1", telegram_id=77)
    billing.trial_claim(user=user, plan=trial_plan, inbound=inbound)
    with pytest.raises(billing.TrialAlreadyUsed):
        billing.trial_claim(user=user, plan=trial_plan, inbound=inbound)
    # Even past the service's early check, the unique row refuses a second claim.
    other = Order.objects.create(user=user, plan=trial_plan, amount=0, inbound=inbound)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrialClaim.objects.create(user=user, order=other)


def test_a_full_panel_refuses_the_trial_and_keeps_it_unused(
    bot, tg, trial_plan, panel, inbound, django_user_model
):
    panel.capacity = 1  # the one active account below fills it
    panel.save()
    someone = Order.objects.create(
        user=django_user_model.objects.create(username="x"),
        plan=trial_plan,
        amount=0,
        inbound=inbound,
        panel=panel,
    )
    ClientAccount.objects.create(
        order=someone, user=someone.user, plan=trial_plan, panel=panel, inbound=inbound,
        uuid="u", email="e@x", sub_id="s",
    )  # fmt: skip
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Free trial")
    assert "No location has room" in bot.screen(JOHN)
    assert not TrialClaim.objects.filter(user__telegram_id=JOHN).exists()


def test_cleanup_accounts_removes_an_expired_trial(bot, tg, trial_plan, inbound, xui):
    from datetime import timedelta

    from django.utils import timezone

    from botapp.management.commands.cleanup_accounts import clean_up
    from panels.tests.lifecycle_helpers import set_on_panel

    bot.send(JOHN, "/start")
    bot.press(JOHN, "Free trial")
    account = ClientAccount.objects.get(user__telegram_id=JOHN)
    expiry = timezone.now() - timedelta(days=6.5)
    set_on_panel(xui, account.email, expiryTime=int(expiry.timestamp() * 1000), enable=False)
    panel_sync(panel=inbound.panel)
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.EXPIRED, account.expires_at
    clean_up()  # the day's notice
    counts = clean_up(now=timezone.now() + timedelta(days=1, minutes=1))
    # The inbound's only client: the panel keeps it disabled; the account is deleted.
    assert counts["deleted"] + counts["disabled"] == 1, counts
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.DELETED
    # Deleted or not, the trial stays used.
    assert TrialClaim.objects.filter(user__telegram_id=JOHN).exists()
