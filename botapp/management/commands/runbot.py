"""`manage.py runbot`: poll Telegram for updates until SIGINT or SIGTERM."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from botapp.polling import Poller, PollingConflict, TokenRejected


class _Interrupted(Exception):
    pass


class Command(BaseCommand):
    help = "Run the Telegram bot by long polling (until Ctrl+C or SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--poll-timeout",
            type=int,
            default=20,
            help="seconds Telegram holds an empty getUpdates open (default 20)",
        )

    def handle(self, *args, poll_timeout, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set: there is no bot to run.")
        if settings.BOT_MODE == "webhook":
            self._idle_in_webhook_mode()
            return
        poller = Poller(poll_timeout=poll_timeout)

        def stop(signum, frame):
            poller.stop()
            if poller.waiting:
                # Abort the long poll now instead of after up to poll_timeout seconds;
                # nothing of its batch has been handled, so nothing is lost.
                raise _Interrupted

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
        self.stdout.write(
            f"Polling Telegram at {settings.TELEGRAM_API_URL} for updates; stop with Ctrl+C."
        )
        try:
            poller.run()
        except _Interrupted:
            pass
        except PollingConflict as exc:
            if "webhook" in str(exc).lower():
                raise CommandError(
                    "A webhook is set for this bot, so it cannot poll (Telegram 409); "
                    "run `manage.py set_webhook --delete` first, or keep webhook mode."
                ) from None
            raise CommandError(
                "Another process is already polling Telegram with this bot token "
                "(Telegram 409 Conflict); stop it first: only one runbot may run per token."
            ) from None
        except TokenRejected:
            raise CommandError(
                "Telegram rejected TELEGRAM_BOT_TOKEN (401/404); check the token."
            ) from None
        self.stdout.write("Bot stopped.")

    def _idle_in_webhook_mode(self):
        # Polling would make Telegram answer 409 (a webhook is set) and a supervisor
        # restart it forever; waiting keeps one bot service definition for both modes.
        self.stdout.write(
            "BOT_MODE=webhook: Telegram posts updates to the web service at /telegram/webhook/ "
            "(set once with `manage.py set_webhook URL`); not polling. Waiting until stopped."
        )
        self.stdout.flush()
        stopped = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, lambda signum, frame: stopped.set())
            signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
        while not stopped.wait(1):
            pass
        self.stdout.write("Bot stopped.")
