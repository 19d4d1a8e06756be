"""How updates arrive: the webhook view, `runbot` polling, `set_webhook`."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from accounts.models import User
from billing.models import Order, WalletTransaction
from botapp.polling import Poller, PollingConflict
from botapp.tests.conftest import JOHN, SECRET, decode_qr

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)


def test_webhook_refuses_a_wrong_or_missing_secret(bot, tg):
    update = tg.user_update_text(JOHN, "/start")
    assert bot.post(update, secret="wrong").status_code == 403
    assert bot.post(update, secret="").status_code == 403
    assert not User.objects.filter(telegram_id=JOHN).exists()
    assert not tg.sent


def test_webhook_refuses_everything_when_no_secret_is_configured(bot, tg, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert bot.post(tg.user_update_text(JOHN, "/start"), secret="").status_code == 403
    assert not User.objects.filter(telegram_id=JOHN).exists()


def test_webhook_answers_garbage_without_a_traceback(bot, tg, client):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": SECRET}
    response = client.post(
        "/telegram/webhook/", data="{not json", content_type="application/json", **headers
    )
    assert response.status_code == 400
    response = client.post(
        "/telegram/webhook/", data=json.dumps({"update_id": 5, "message": {"bogus": 1}}),
        content_type="application/json", **headers,
    )  # fmt: skip
    assert response.status_code == 200
    assert client.get("/telegram/webhook/").status_code == 405


def test_a_button_is_answered_in_the_webhook_response(bot, tg, client):
    bot.send(JOHN, "/start")
    update = tg.callback_update(JOHN, "zz:1")
    response = client.post(
        "/telegram/webhook/", data=json.dumps(update), content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
    )  # fmt: skip
    # One Bot API call may ride on the response; Telegram executes it.
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": update["callback_query"]["id"],
        "text": "This button is no longer valid.",
    }
    assert not tg.callback_answers  # not sent separately


@pytest.mark.django_db(transaction=True)
def test_a_whole_purchase_through_polling(tg, plan, inbound, xui):
    """The runbot loop, not the webhook: same bot, same answers."""
    poller = Poller(poll_timeout=1)
    thread = threading.Thread(target=lambda: (poller.run(), connections.close_all()))
    thread.start()
    try:
        tg.push(tg.user_update_text(JOHN, "/start", first_name="John", language_code="en"))
        tg.wait_for(lambda sent: tg.messages_to(JOHN))
        john = User.objects.get(telegram_id=JOHN)
        from billing import services as billing

        billing.wallet_credit(
            user_id=john.pk, amount=150_000, kind=WalletTransaction.Kind.TOPUP, idempotency_key="f"
        )
        for data in ("b", f"p:{plan.pk}", f"l:{plan.pk}:{inbound.panel_id}"):
            count = len(tg.sent)
            tg.push(tg.callback_update(JOHN, data, language_code="en"))
            tg.wait_for(lambda sent, n=count: len(sent) >= n + 2)  # the edit + the answer
        tg.push(tg.callback_update(JOHN, f"i:{plan.pk}:{inbound.pk}", language_code="en"))
        order = tg.wait_for(lambda sent: Order.objects.filter(user=john).first())
        tg.wait_for(lambda sent: "Pay from wallet" in str(tg.chat_history(JOHN)[-1]))
        tg.push(tg.callback_update(JOHN, f"pw:{order.pk}", language_code="en"))
        delivery = tg.wait_for(lambda sent: tg.photos_to(JOHN), timeout=15)[0]
    finally:
        poller.stop()
        thread.join(10)
    assert not thread.is_alive()
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert decode_qr(delivery["photo"]) == order.created_account.config_url
    # Everything handled was confirmed to Telegram: a restart would not replay it.
    assert tg.pending_updates == 0


def test_polling_stops_on_409_with_a_clear_reason(tg):
    tg.conflict_polling = True
    with pytest.raises(PollingConflict):
        Poller(poll_timeout=1).run()
    with pytest.raises(CommandError, match="Another process is already polling"):
        call_command("runbot", poll_timeout=1)


def _runbot_env(tg) -> dict:
    env = dict(os.environ)
    env.update(
        TELEGRAM_BOT_TOKEN=tg.token,
        TELEGRAM_API_URL=tg.base_url,
        DATABASE_URL="sqlite:///unused-by-this-test.sqlite3",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    return env


def test_runbot_reports_a_second_poller_in_one_line(tg):
    tg.conflict_polling = True
    result = subprocess.run(
        [sys.executable, "manage.py", "runbot", "--poll-timeout", "1"],
        cwd=BASE_DIR, env=_runbot_env(tg), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    # (System check warnings, e.g. a missing static/ in a fresh clone, may come first.)
    errors = [line for line in result.stderr.splitlines() if "Error" in line]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("CommandError: Another process is already polling")
    assert result.stderr.strip().endswith(errors[0])
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_runbot_stops_cleanly_on_a_signal(tg, signum):
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runbot", "--poll-timeout", "20"],
        cwd=BASE_DIR, env=_runbot_env(tg), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        tg.wait_for(lambda sent: any(c["method"] == "getUpdates" for c in tg.calls), timeout=30)
        started = time.monotonic()
        process.send_signal(signum)
        out, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Bot stopped." in out
    assert "Traceback" not in err
    # It did not wait for the 20-second long poll to end.
    assert time.monotonic() - started < 10


def test_set_webhook_and_delete_switch_modes(tg, settings):
    call_command("set_webhook", "https://vpn.example.com")
    assert tg.webhook["url"] == "https://vpn.example.com/telegram/webhook/"
    assert tg.webhook["secret_token"] == SECRET
    with pytest.raises(PollingConflict):
        Poller(poll_timeout=1).run()  # a webhook is set: polling is refused
    call_command("set_webhook", delete=True)
    assert tg.webhook["url"] == ""
    with pytest.raises(CommandError, match="https"):
        call_command("set_webhook", "http://vpn.example.com/hook")
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET"):
        call_command("set_webhook", "https://vpn.example.com")


def test_the_api_url_setting_points_the_bot_at_any_server(tg, settings):
    from telebot import apihelper

    from botapp.telegram import configure_api

    settings.TELEGRAM_API_URL = "http://127.0.0.1:8081"
    configure_api()
    assert apihelper.API_URL == "http://127.0.0.1:8081/bot{0}/{1}"
    assert apihelper.FILE_URL == "http://127.0.0.1:8081/file/bot{0}/{1}"


class _ForwardProxy:
    """A plain HTTP forward proxy on 127.0.0.1 that counts what passes through it."""

    def __init__(self):
        import http.client
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        passed = self.passed = []

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                target = urlsplit(self.path)  # a proxy is sent the absolute URL
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                passed.append(target.path)
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, target.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.getheader("Content-Type", ""))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_bot_reaches_telegram_through_the_environment_s_proxy(bot, tg, monkeypatch):
    """Where Telegram is filtered the server reaches it through HTTP(S)_PROXY: the
    environment is read once, and every Bot API call still goes through the proxy."""
    from telebot import apihelper

    from botapp import telegram

    proxy = _ForwardProxy()
    try:
        monkeypatch.setattr(apihelper, "proxy", None)  # the stand-in's own bypass, off
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setattr(telegram, "_read_environment", None)  # as a process starts
        bot.send(JOHN, "/start")
        bot.press(JOHN, "Help")
        assert tg.chat_history(JOHN), "the menu never reached Telegram"
        sent = [path.rsplit("/", 1)[-1] for path in proxy.passed]
        assert "sendMessage" in sent and "editMessageText" in sent
        # NO_PROXY names Telegram's host: the calls go direct, once the process restarts.
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setattr(telegram, "_read_environment", None)
        before = len(proxy.passed)
        bot.press_data(JOHN, "m")
        assert len(proxy.passed) == before
    finally:
        proxy.close()
