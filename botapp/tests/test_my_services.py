"""My services: the customer's accounts, live usage from the panel, the config again."""

import pytest

from billing import services as billing
from billing.models import WalletTransaction
from botapp.tests.conftest import JOHN, SARA, decode_qr
from panels.models import ClientAccount

pytestmark = pytest.mark.django_db

GB = 1024**3


def _buy(bot, chat_id, django_user_model):
    bot.send(chat_id, "/start")
    user = django_user_model.objects.get(telegram_id=chat_id)
    billing.wallet_credit(
        user_id=user.pk, amount=150_000, kind=WalletTransaction.Kind.TOPUP, idempotency_key="f"
    )
    bot.press_data(chat_id, "b")
    bot.press(chat_id, "1 Month")
    bot.press(chat_id, "Germany")
    bot.press(chat_id, "VLESS Reality")
    bot.press(chat_id, "👛")
    return ClientAccount.objects.get(user=user)


def test_account_page_shows_live_usage_from_the_panel(
    bot, tg, django_user_model, plan, inbound, xui
):
    account = _buy(bot, JOHN, django_user_model)
    xui.set_traffic(account.email, up=1 * GB, down=2 * GB)
    bot.send(JOHN, "/start")
    bot.press(JOHN, "My services")
    labels = [label for label, _ in bot.keyboard(JOHN)]
    assert any("Germany" in label and "VLESS Reality" in label for label in labels)
    bot.press(JOHN, "VLESS Reality")
    page = bot.screen(JOHN)
    assert "Used: 3 GB of 50 GB" in page
    assert "Days left: 29" in page or "Days left: 30" in page
    assert "Enabled: yes" in page
    assert "not answering" not in page


def test_account_page_shows_last_synced_figures_when_the_panel_is_down(
    bot, tg, django_user_model, plan, inbound, xui
):
    account = _buy(bot, SARA, django_user_model)
    ClientAccount.objects.filter(pk=account.pk).update(used_bytes=5 * GB)
    xui.stop()
    bot.press_data(SARA, f"a:{account.pk}")
    page = bot.screen(SARA)
    assert "مصرف: ۵ گیگابایت از ۵۰ گیگابایت" in page
    assert "سرور در حال حاضر پاسخ نمی‌دهد" in page


def test_send_config_again(bot, tg, django_user_model, plan, inbound, xui):
    account = _buy(bot, JOHN, django_user_model)
    bot.press_data(JOHN, f"ar:{account.pk}")
    photos = tg.photos_to(JOHN)
    assert len(photos) == 2
    assert decode_qr(photos[-1]["photo"]) == account.config_url
    assert account.config_url in photos[-1]["plain_text"]


def test_someone_elses_account_is_refused(bot, tg, django_user_model, plan, inbound, xui):
    account = _buy(bot, JOHN, django_user_model)
    bot.send(SARA, "/start")
    tg.clear()
    bot.press_data(SARA, f"ar:{account.pk}")
    bot.press_data(SARA, f"a:{account.pk}")
    assert not tg.photos_to(SARA)
    assert [a["text"] for a in tg.callback_answers] == ["این مورد متعلق به شما نیست."] * 2
    assert account.config_url not in str(tg.sent)


def test_no_services_yet(bot, tg):
    bot.send(JOHN, "/start")
    bot.press(JOHN, "My services")
    assert "You have no services yet" in bot.screen(JOHN)


def test_delivery_and_my_services_show_the_one_subscription_url(
    bot, tg, client, django_user_model, plan, inbound, xui, settings
):
    settings.SITE_URL = "https://shop.example.com"
    account = _buy(bot, JOHN, django_user_model)
    user = account.user
    user.refresh_from_db()
    url = f"https://shop.example.com/sub/{user.subscription_token}/"
    assert user.subscription_token
    delivered = tg.photos_to(JOHN)[-1]["plain_text"]
    assert url in delivered
    assert account.subscription_url in delivered  # the panel's own link stays available
    bot.send(JOHN, "/start")
    bot.press(JOHN, "My services")
    assert url in bot.screen(JOHN)
    # The customer replaces it: the old URL answers 404, the new one is shown.
    bot.press(JOHN, "New subscription link")
    user.refresh_from_db()
    new_url = f"https://shop.example.com/sub/{user.subscription_token}/"
    assert new_url != url and new_url in bot.screen(JOHN)
    assert "old one no longer works" in tg.callback_answers[-1]["text"]
    assert client.get(url.removeprefix("https://shop.example.com")).status_code == 404
    assert client.get(new_url.removeprefix("https://shop.example.com")).status_code == 200


def test_no_subscription_url_without_site_url(bot, tg, django_user_model, plan, inbound, xui):
    _buy(bot, JOHN, django_user_model)
    bot.send(JOHN, "/start")
    bot.press(JOHN, "My services")
    assert "/sub/" not in bot.screen(JOHN)
    assert not any("subscription link" in label for label, _ in bot.keyboard(JOHN))


def test_the_subscription_url_in_persian(bot, tg, django_user_model, plan, inbound, xui, settings):
    settings.SITE_URL = "https://shop.example.com"
    account = _buy(bot, SARA, django_user_model)
    delivered = tg.photos_to(SARA)[-1]["plain_text"]
    assert "اشتراک شما (همهٔ سرویس‌هایتان، همیشه به‌روز):" in delivered
    account.user.refresh_from_db()
    assert f"/sub/{account.user.subscription_token}/" in delivered
    bot.send(SARA, "/start")
    bot.press_data(SARA, "s")
    assert any("لینک اشتراک جدید" in label for label, _ in bot.keyboard(SARA))
