"""The bot under test, talking to a fake Telegram and a fake 3x-ui panel over HTTP.

Updates go in through the real webhook view (Django's test client); what the bot
sends comes out at standins.telegram, which checks it like Telegram would.
"""

import io
import json

import pytest
import zxingcpp
from PIL import Image

from billing.models import BankCard, Plan
from panels.models import Inbound, Panel
from panels.sessions import panel_clients_reset
from panels.sync import panel_sync
from standins.demo import forward_webhook_reply
from standins.telegram import FakeTelegram
from standins.xui import FakeXuiPanel

SECRET = "test-webhook-secret"
OPERATOR = 900  # an operator's chat (settings.ADMIN_TELEGRAM_IDS)
SARA = 1001  # a Persian-speaking customer
JOHN = 2002  # an English-speaking customer


@pytest.fixture
def tg(settings):
    with FakeTelegram() as fake:
        fake.configure_telebot()
        settings.TELEGRAM_BOT_TOKEN = fake.token
        settings.TELEGRAM_API_URL = fake.base_url
        settings.TELEGRAM_WEBHOOK_SECRET = SECRET
        settings.ADMIN_TELEGRAM_IDS = [OPERATOR]
        fake.register_user(OPERATOR, first_name="Omid", username="omid_ops", language_code="fa")
        yield fake


@pytest.fixture
def xui():
    panel = FakeXuiPanel(profile="v2")
    panel.start()
    yield panel
    panel.stop()
    panel_clients_reset()


@pytest.fixture
def panel(xui):
    xui.add_inbound("vless", remark="vless-reality", security="reality")
    row = Panel.objects.create(
        name="de-1",
        location_name="Germany",
        location_flag="🇩🇪",
        base_url=xui.url,
        username=xui.username,
        password=xui.password,
        public_host="de.example.com",
        sub_base_url="https://sub.example.com:2096/sub/",
    )
    result = panel_sync(panel=row)
    assert result.ok, result.error
    Inbound.objects.filter(panel=row).update(is_sellable=True, display_name="VLESS Reality")
    row.refresh_from_db()
    return row


@pytest.fixture
def inbound(panel):
    return panel.inbounds.get()


@pytest.fixture
def plan():
    return Plan.objects.create(name="1 Month", duration_days=30, traffic_gb=50, price=150_000)


@pytest.fixture
def card():
    return BankCard.objects.create(
        card_number="6037991234567890", holder_name="MoonVPN Co", bank_name="Melli"
    )


class Bot:
    """Drives the bot as Telegram would: posts updates to the webhook view."""

    def __init__(self, client, fake: FakeTelegram):
        self.client = client
        self.tg = fake

    def post(self, update: dict, secret: str = SECRET):
        headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret else {}
        response = self.client.post(
            "/telegram/webhook/",
            data=json.dumps(update),
            content_type="application/json",
            **headers,
        )
        forward_webhook_reply(self.tg, response)  # as Telegram executes a reply call
        return response

    def _who(self, chat_id: int, kw: dict) -> dict:
        defaults = {
            SARA: {"first_name": "Sara", "username": "sara", "language_code": "fa"},
            JOHN: {"first_name": "John", "username": "john", "language_code": "en"},
            OPERATOR: {"first_name": "Omid", "username": "omid_ops", "language_code": "fa"},
        }.get(chat_id, {})
        return {**defaults, **kw}

    def send(self, chat_id: int, text: str, **kw):
        response = self.post(self.tg.user_update_text(chat_id, text, **self._who(chat_id, kw)))
        assert response.status_code == 200
        return response

    def press_data(self, chat_id: int, data: str, message_id: int | None = None, **kw):
        update = self.tg.callback_update(
            chat_id, data, message_id=message_id, **self._who(chat_id, kw)
        )
        response = self.post(update)
        assert response.status_code == 200
        return response

    def keyboard(self, chat_id: int, message_id: int | None = None) -> list[tuple[str, str]]:
        """(label, callback_data) of the buttons on the bot's latest message with buttons."""
        for message in reversed(self.tg.chat_history(chat_id)):
            if message_id is not None and message["message_id"] != message_id:
                continue
            markup = message.get("reply_markup") or {}
            if markup.get("inline_keyboard"):
                return [
                    (button["text"], button.get("callback_data", ""))
                    for row in markup["inline_keyboard"]
                    for button in row
                ]
        return []

    def last_keyboard_message(self, chat_id: int) -> dict:
        for message in reversed(self.tg.chat_history(chat_id)):
            if (message.get("reply_markup") or {}).get("inline_keyboard"):
                return message
        raise AssertionError("no message with buttons")

    def press(self, chat_id: int, label: str, **kw):
        """Press the button whose label contains ``label`` on the latest keyboard."""
        message = self.last_keyboard_message(chat_id)
        for text, data in self.keyboard(chat_id, message["message_id"]):
            if label in text:
                return self.press_data(chat_id, data, message_id=message["message_id"], **kw)
        raise AssertionError(f"no button {label!r} in {self.keyboard(chat_id)}")

    def photo(self, chat_id: int, image: bytes, **kw):
        response = self.post(self.tg.photo_update(chat_id, image, **self._who(chat_id, kw)))
        assert response.status_code == 200
        return response

    def document(self, chat_id: int, data: bytes, *, file_name: str, mime_type: str, **kw):
        update = self.tg.document_update(
            chat_id, data, file_name=file_name, mime_type=mime_type, **self._who(chat_id, kw)
        )
        response = self.post(update)
        assert response.status_code == 200
        return response

    def screen(self, chat_id: int) -> str:
        """What the customer reads in the bot's latest message (after edits)."""
        for message in reversed(self.tg.chat_history(chat_id)):
            if message["from"].get("is_bot"):
                return message.get("text") or message.get("caption") or ""
        return ""

    def texts(self, chat_id: int) -> list[str]:
        """Every text the bot sent or edited into the chat, in order (plain text)."""
        return [
            record["plain_text"] or ""
            for record in self.tg.records(chat_id=chat_id)
            if record["method"] in ("sendMessage", "sendPhoto", "editMessageText")
            or (record["method"] == "answerCallbackQuery" and record["plain_text"])
        ]


@pytest.fixture
def bot(client, tg):
    return Bot(client, tg)


def receipt_image(seed: int = 1) -> bytes:
    """A small PNG that differs per seed (so SHA-256s differ)."""
    image = Image.new("RGB", (64, 48), (seed * 37 % 256, seed * 91 % 256, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decode_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert results, "no QR code in the photo"
    return results[0].text
