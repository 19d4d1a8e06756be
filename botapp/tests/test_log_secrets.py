"""The bot token and message texts never reach the logs (or a command's error)."""

import io
import logging
import threading
import time

import pytest
from django.core.management import CommandError, call_command

from botapp import telegram as tg_module
from botapp.polling import Poller
from botapp.tests.conftest import JOHN

pytestmark = pytest.mark.django_db

CONFIG_LINK = "vless://0b7c6a2e-secret-uuid@de.example.com:443?security=reality#MoonVPN"


@pytest.fixture
def unreachable(tg, settings):
    """Telegram refuses connections: requests' error then names the whole URL."""
    settings.TELEGRAM_API_URL = "http://127.0.0.1:9"
    return tg


@pytest.fixture
def console():
    """What the configured console handler (settings.LOGGING) writes."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(old)


def _clean(text: str, token: str) -> None:
    secret = token.split(":", 1)[1]
    assert token not in text and secret not in text
    assert "secret-uuid" not in text and "vless" not in text


def test_a_failing_send_logs_neither_the_token_nor_the_text(unreachable, console):
    tg = unreachable
    assert tg_module.send_message(JOHN, f"Your config: {CONFIG_LINK}") is None
    output = console.getvalue()
    assert "Telegram unreachable for sendMessage" in output
    _clean(output, tg.token)


def test_a_polling_error_logs_no_token(unreachable, console):
    tg = unreachable
    poller = Poller(poll_timeout=1)
    thread = threading.Thread(target=poller.run)
    thread.start()
    deadline = time.monotonic() + 10
    while "Telegram unreachable" not in console.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    poller.stop()
    thread.join(10)
    output = console.getvalue()
    assert "Telegram unreachable" in output
    _clean(output, tg.token)


def test_a_failing_set_webhook_shows_no_token(unreachable, console):
    tg = unreachable
    with pytest.raises(CommandError) as error:
        call_command("set_webhook", "https://moonvpn.example/telegram/webhook/")
    assert "unreachable" in str(error.value)
    _clean(str(error.value) + console.getvalue(), tg.token)


def test_the_filter_redacts_a_token_whoever_logs_it(tg, console):
    logging.getLogger("TeleBot").error(
        "request to %s/bot%s/sendMessage?chat_id=1&text=%s failed",
        tg.base_url,
        tg.token,
        CONFIG_LINK,
    )
    output = console.getvalue()
    assert "sendMessage" in output
    _clean(output, tg.token)


def test_the_filter_leaves_other_paths_alone(tg, console):
    logging.getLogger("botapp").warning("in /srv/moonvpn/botapp/handlers.py, line 3")
    assert "/srv/moonvpn/botapp/handlers.py" in console.getvalue()
