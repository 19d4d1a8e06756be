"""`manage.py demo`: one scripted purchase through the real bot, on throwaway stand-ins.

MoonVPN's main job on a machine with no bot token and no panel: a customer buys a
month of VPN by card receipt, an operator approves it in Telegram, the account is
created on a (fake) 3x-ui panel and the config arrives. The conversation and the
resulting account row are printed. Everything runs in a child process on a temporary
SQLite database and media folder, so the real database is never touched.
"""

import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from moonvpn.formatting import format_amount
from panels.models import ClientAccount

# The one product module allowed to import the test stand-ins: running the product
# against them is this command's whole job (moonvpn/tests/test_architecture.py).
from standins.demo import OPERATOR_CHAT, start_standins

CHILD_FLAG = "MOONVPN_DEMO_CHILD"
CUSTOMER = 1001


class Command(BaseCommand):
    help = "Run one scripted purchase against local stand-ins and print the conversation."

    def add_arguments(self, parser):
        parser.add_argument(
            "--language", choices=["fa", "en"], default="fa", help="the customer's language"
        )

    def handle(self, *args, language, **options):
        if os.environ.get(CHILD_FLAG):
            self._run(language)
            return
        workdir = Path(tempfile.mkdtemp(prefix="moonvpn-demo-"))
        env = dict(os.environ)
        env.update(
            {
                CHILD_FLAG: "1",
                "DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}",
                "MEDIA_ROOT": str(workdir / "media"),
                "ALLOWED_HOSTS": "localhost",
                "SECRET_KEY": settings.SECRET_KEY,
                "LOG_LEVEL": "WARNING",
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        try:
            result = subprocess.run(
                [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "demo",
                 "--language", language],
                env=env,
            )  # fmt: skip
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        if result.returncode:
            raise CommandError(f"the demo failed (exit status {result.returncode})")

    # --- the child: a throwaway database, the stand-ins, the script ----------------------

    def _run(self, language: str) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        stand = start_standins()
        try:
            Script(stand, self.stdout, language).play()
        finally:
            stand.stop()


class Script:
    def __init__(self, stand, out, language: str):
        self.stand = stand
        self.tg = stand.tg
        self.out = out
        self.language = language
        self.seen = 0
        self.name = "Sara" if language == "fa" else "John"
        self.username = self.name.lower()

    def say(self, line: str = "") -> None:
        self.out.write(line)

    # What the bot did since the last step, as a reader of the chat would see it.
    def replies(self) -> None:
        records = self.tg.sent
        for record in records[self.seen :]:
            method, chat = record["method"], record["chat_id"]
            who = "to the operator" if chat != CUSTOMER else f"to {self.name}"
            text = (record["plain_text"] or "").strip()
            if method == "answerCallbackQuery":
                if text:
                    self.say(f"   🤖 bot (pop-up {who}): {text}")
                continue
            verb = {
                "sendMessage": "says",
                "sendPhoto": "sends a photo",
                "editMessageText": "updates its message",
                "editMessageCaption": "updates the photo's caption",
                "editMessageReplyMarkup": "changes the buttons",
            }.get(method, method)
            self.say(f"   🤖 bot {verb} {who}:")
            if method == "sendPhoto":
                self.say(f"      [image, {len(record['photo'] or b'')} bytes PNG]")
            for line in text.splitlines():
                self.say(f"      {line}")
            buttons = self._buttons(record)
            if buttons:
                self.say("      " + "  ".join(f"[{label}]" for label in buttons))
        self.seen = len(records)
        self.say()

    @staticmethod
    def _buttons(record) -> list[str]:
        markup = record.get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]

    def _latest_buttons(self, chat_id: int) -> list[tuple[str, str, int]]:
        for message in reversed(self.tg.chat_history(chat_id)):
            markup = message.get("reply_markup") or {}
            if markup.get("inline_keyboard"):
                return [
                    (b["text"], b["callback_data"], message["message_id"])
                    for row in markup["inline_keyboard"]
                    for b in row
                ]
        return []

    def customer_types(self, text: str) -> None:
        self.say(f"👤 {self.name}: {text}")
        self.stand.post(
            self.tg.user_update_text(
                CUSTOMER,
                text,
                first_name=self.name,
                username=self.username,
                language_code=self.language,
            )  # fmt: skip
        )
        self.replies()

    def press(self, chat_id: int, index: int, actor: str) -> None:
        label, data, message_id = self._latest_buttons(chat_id)[index]
        self.say(f"{actor} presses [{label}]")
        self.stand.post(
            self.tg.callback_update(
                chat_id,
                data,
                message_id=message_id,
                first_name=self.name if chat_id == CUSTOMER else "Omid",
                username=self.username if chat_id == CUSTOMER else "omid_ops",
                language_code=self.language if chat_id == CUSTOMER else "fa",
            )
        )
        self.replies()

    def customer_presses(self, index: int) -> None:
        self.press(CUSTOMER, index, f"👤 {self.name}")

    def play(self) -> None:
        plan = self.stand.plan
        self.say("MoonVPN demo: the real bot and services, talking to a local stand-in for")
        self.say("Telegram and a fake 3x-ui panel, on a throwaway SQLite database.")
        self.say(
            f"Catalogue: plan '{plan.name}' ({plan.duration_days} days, {plan.traffic_gb} GB, "
            f"{format_amount(plan.price, 'en')}) on panel '{self.stand.panel.name}' "
            f"({self.stand.panel.location_label}), inbound '{self.stand.inbound.label}'."
        )
        self.say()
        self.customer_types("/start")
        self.customer_presses(0)  # Buy
        self.customer_presses(0)  # the plan
        self.customer_presses(0)  # the location
        self.customer_presses(0)  # the protocol → the order summary
        self.customer_presses(0)  # pay by card (the wallet is empty)
        self.say(f"👤 {self.name} sends a photo of the bank receipt")
        buffer = io.BytesIO()
        Image.new("RGB", (320, 200), (236, 240, 244)).save(buffer, format="PNG")
        self.stand.post(
            self.tg.photo_update(
                CUSTOMER,
                buffer.getvalue(),
                first_name=self.name,
                username=self.username,
                language_code=self.language,
            )  # fmt: skip
        )
        self.replies()
        self.press(OPERATOR_CHAT, 0, "👮 operator Omid (in Telegram)")  # Approve
        self.customer_presses(0)  # main menu
        self.customer_presses(1)  # My services
        self.customer_presses(0)  # the account: live usage from the panel

        account = ClientAccount.objects.select_related("user", "plan", "panel", "inbound").get()
        order = account.order
        self.say("The resulting row in client_accounts:")
        for name in (
            "id", "user", "plan", "panel", "inbound", "order", "email", "uuid", "sub_id",
            "status", "traffic_limit_bytes", "used_bytes", "expires_at", "config_url",
            "subscription_url", "qr_code_path",
        ):  # fmt: skip
            value = getattr(account, name)
            self.say(f"   {name:20} {value}")
        self.say()
        self.say(
            f"Order #{order.pk}: {order.status}, paid by {order.payment_method}, "
            f"{format_amount(order.amount, 'en')}; the receipt was "
            f"{order.receipts.get().status}."
        )
        on_panel = self.stand.xui.find_client(account.email)
        self.say(
            f"On the panel: inbound #{on_panel[0]} has client {on_panel[1]['email']} "
            f"(id {on_panel[1].get('id')})."
        )
