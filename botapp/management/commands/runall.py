"""`make run`: the development web server and, when a token is set, the bot beside it."""

import signal
import subprocess
import sys
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the admin, API and webhook with runserver, and run the bot if configured."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr, **options):
        # Its output is a log read as it comes (a terminal, or a pipe under a supervisor
        # or a test): a pipe is block-buffered, and a SIGTERM would lose the lines.
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(line_buffering=True)
        if hasattr(sys.stderr, "reconfigure"):
            sys.stderr.reconfigure(line_buffering=True)
        if threading.current_thread() is threading.main_thread():
            # SIGTERM unwinds like Ctrl+C, so the bot beside the server is stopped too.
            signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        bot = None
        if settings.TELEGRAM_BOT_TOKEN:
            self.stdout.write("Starting the Telegram bot (long polling) beside the web server.")
            bot = subprocess.Popen([sys.executable, "manage.py", "runbot"])
        else:
            self.stdout.write(
                self.style.WARNING(
                    "TELEGRAM_BOT_TOKEN is not set: the bot is not running. "
                    "Set it in .env to sell through Telegram."
                )
            )
        self.stdout.write(
            f"Admin: http://{addr}/admin/  (create an operator with "
            "`.venv/bin/python manage.py createsuperuser`)"
        )
        try:
            call_command("runserver", addr, use_reloader=False)
        finally:
            if bot is not None:
                bot.terminate()
                bot.wait(timeout=15)
