"""The local stand-ins for Telegram and a 3x-ui panel, wired to this process's bot.

Used by `manage.py demo` and the bot benchmark to run MoonVPN's real code paths on a
machine with no bot token and no panel: a fake Bot API server, a fake panel with one
sellable inbound, a plan and a bank card.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.test import Client

from billing.models import BankCard, Plan
from panels.models import Inbound, Panel
from panels.sync import panel_sync
from standins.telegram import FakeTelegram
from standins.xui import FakeXuiPanel

WEBHOOK_SECRET = "local-stand-in-secret"
OPERATOR_CHAT = 900


def forward_webhook_reply(tg: FakeTelegram, response) -> None:
    """Do what Telegram does with a Bot API call in a webhook's response: execute it."""
    if response.status_code != 200 or not response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return
    call = json.loads(response.content)
    tg.execute(call.pop("method"), call)


@dataclass
class StandIns:
    tg: FakeTelegram
    xui: FakeXuiPanel
    panel: Panel
    inbound: Inbound
    plan: Plan
    card: BankCard
    client: Client

    def post(self, update: dict):
        """Deliver an update the way Telegram does in webhook mode."""
        response = self.client.post(
            "/telegram/webhook/",
            data=json.dumps(update),
            content_type="application/json",
            HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=WEBHOOK_SECRET,
        )
        forward_webhook_reply(self.tg, response)
        return response

    def stop(self) -> None:
        self.xui.stop()
        self.tg.stop()


def start_standins() -> StandIns:
    """Start both fakes, point the bot at them and create a sellable catalogue."""
    tg = FakeTelegram().start()
    tg.configure_telebot()
    xui = FakeXuiPanel(profile="v2").start()
    settings.TELEGRAM_BOT_TOKEN = tg.token
    settings.TELEGRAM_API_URL = tg.base_url
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.ADMIN_TELEGRAM_IDS = [OPERATOR_CHAT]
    tg.register_user(OPERATOR_CHAT, first_name="Omid", username="omid_ops", language_code="fa")

    xui.add_inbound("vless", remark="vless-reality", security="reality")
    panel = Panel.objects.create(
        name="de-1",
        location_name="Germany",
        location_flag="🇩🇪",
        base_url=xui.url,
        username=xui.username,
        password=xui.password,
        public_host="de.moonvpn.example",
        sub_base_url="https://sub.moonvpn.example:2096/sub/",
    )
    result = panel_sync(panel=panel)
    if not result.ok:
        raise RuntimeError(f"the fake panel did not sync: {result.error}")
    Inbound.objects.filter(panel=panel).update(is_sellable=True, display_name="VLESS Reality")
    plan = Plan.objects.create(name="1 Month", duration_days=30, traffic_gb=50, price=150_000)
    card = BankCard.objects.create(
        card_number="6037991234567890", holder_name="MoonVPN", bank_name="Melli"
    )
    return StandIns(
        tg=tg,
        xui=xui,
        panel=panel,
        inbound=panel.inbounds.get(),
        plan=plan,
        card=card,
        client=Client(HTTP_HOST="localhost"),
    )
