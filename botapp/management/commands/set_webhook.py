"""`manage.py set_webhook URL` / `--delete`: switch the bot between webhook and polling."""

from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from telebot import apihelper

from botapp import telegram as tg
from botapp.polling import ALLOWED_UPDATES
from moonvpn.redact import redact


class Command(BaseCommand):
    help = (
        "Tell Telegram to POST updates to URL (the site's https address, or the full "
        "address of /telegram/webhook/), or with --delete go back to polling (runbot)."
    )

    def add_arguments(self, parser):
        parser.add_argument("url", nargs="?", help="https://your.host or the full webhook URL")
        parser.add_argument("--delete", action="store_true", help="remove the webhook")
        parser.add_argument(
            "--drop-pending", action="store_true", help="discard updates not yet delivered"
        )

    def handle(self, *args, url, delete, drop_pending, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set.")
        bot = tg.get_bot()
        try:
            if delete:
                bot.delete_webhook(drop_pending_updates=drop_pending)
                self.stdout.write("Webhook removed: run `manage.py runbot` to poll for updates.")
                return
            if not url:
                raise CommandError("Give the webhook URL, or --delete.")
            if not settings.TELEGRAM_WEBHOOK_SECRET:
                raise CommandError(
                    "TELEGRAM_WEBHOOK_SECRET is not set; the webhook refuses every update "
                    "without it. Set it (letters, digits, _ and -) and try again."
                )
            parts = urlsplit(url)
            if parts.scheme != "https":
                raise CommandError("Telegram only posts to https:// URLs.")
            if parts.path in ("", "/"):
                url = url.rstrip("/") + reverse("botapp:webhook")
            bot.set_webhook(
                url=url,
                secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=drop_pending,
            )
        except apihelper.ApiTelegramException as exc:
            raise CommandError(f"Telegram refused: {exc.description}") from None
        except requests.RequestException as exc:
            raise CommandError(f"Telegram is unreachable: {redact(str(exc))}") from None
        self.stdout.write(f"Webhook set: Telegram now posts updates to {url}; stop runbot.")
