"""Registration, the menu, languages and help."""

import pytest
from django.utils import translation

from accounts.models import User
from botapp import texts
from botapp.tests.conftest import JOHN, SARA

pytestmark = pytest.mark.django_db


def test_start_registers_once_and_refreshes_the_profile(bot, tg):
    bot.send(SARA, "/start", first_name="Sara", username="sara")
    bot.send(SARA, "/start", first_name="Sara Ahmadi", username="sara_a", language_code="en")
    assert User.objects.filter(telegram_id=SARA).count() == 1
    sara = User.objects.get(telegram_id=SARA)
    assert (sara.first_name, sara.telegram_username) == ("Sara Ahmadi", "sara_a")
    assert sara.language == "fa"  # chosen at registration; later only by the customer
    assert not sara.has_usable_password()


@pytest.mark.parametrize(("code", "language"), [("fa", "fa"), ("fa-IR", "fa"), ("en", "en"),
                                                ("de", "en"), (None, "en")])  # fmt: skip
def test_first_language_comes_from_telegram(bot, tg, code, language):
    bot.send(JOHN, "/start", language_code=code)
    assert User.objects.get(telegram_id=JOHN).language == language


def test_menu_has_buy_services_wallet_help_language(bot, tg):
    bot.send(JOHN, "/start")
    labels = [label for label, _ in bot.keyboard(JOHN)]
    assert labels == [
        "🛒 Buy a service",
        "📦 My services",
        "👛 Wallet",
        "👥 Invite friends",
        "❓ Help",
        "🌐 Language",
    ]
    bot.send(SARA, "/start")
    labels = [label for label, _ in bot.keyboard(SARA)]
    assert labels[0] == "🛒 خرید سرویس"


def test_language_switch_from_the_menu(bot, tg):
    bot.send(SARA, "/start")
    bot.press(SARA, "🌐")
    bot.press(SARA, "English")
    assert User.objects.get(telegram_id=SARA).language == "en"
    assert tg.callback_answers[-1]["text"] == "Your language is now English."
    assert "Welcome to MoonVPN, Sara!" in bot.screen(SARA)
    bot.press(SARA, "Language")
    bot.press(SARA, "فارسی")
    assert User.objects.get(telegram_id=SARA).language == "fa"
    assert "خوش آمدید" in bot.screen(SARA)


def test_help_and_unknown_text(bot, tg):
    bot.send(JOHN, "/help")
    assert "MoonVPN sells" in tg.texts_to(JOHN)[-1]
    bot.send(JOHN, "what is this?")
    assert "Choose what you would like to do" in tg.texts_to(JOHN)[-1]


def test_names_are_escaped_in_html(bot, tg):
    bot.send(JOHN, "/start", first_name="<b>J&J</b>")
    assert "Welcome to MoonVPN, <b>J&J</b>!" in tg.texts_to(JOHN)[-1]  # shown, not parsed


def test_group_chats_are_ignored(bot, tg):
    update = tg.user_update_text(JOHN, "/start")
    update["message"]["chat"] = {"id": -100, "type": "group", "title": "g"}
    bot.post(update)
    assert not tg.sent


def test_every_persian_text_is_translated():
    """No bot text falls back to English in Persian (a missing .po entry or a stale .mo)."""
    import ast
    from pathlib import Path

    from django.utils.translation import gettext, ngettext

    # botapp.texts is a package: every module in it.
    sources = [path.read_text() for path in sorted(Path(texts.__file__).parent.glob("*.py"))]
    calls = [
        node
        for source in sources
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", "") in ("_", "gettext_lazy", "ngettext")
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    msgids = [call.args[0].value for call in calls if call.func.id != "ngettext"]
    # A plural text is looked up the way texts.py does, with ngettext: gettext() of a
    # plural msgid finds it only where Python falls back to the plural entries (3.11.7
    # does; Debian 12's 3.11.2 returns the msgid as is).
    plurals = [
        (call.args[0].value, call.args[1].value) for call in calls if call.func.id == "ngettext"
    ]
    assert len(msgids) > 80 and plurals
    with translation.override("fa"):
        untranslated = [m for m in msgids if gettext(m) == m]
        untranslated += [
            singular
            for singular, plural in plurals
            if ngettext(singular, plural, 1) == singular or ngettext(singular, plural, 5) == plural
        ]
    assert untranslated == []
