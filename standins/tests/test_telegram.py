"""The fake Bot API must behave like Telegram for the real pyTelegramBotAPI client.

Every test drives telebot (and so `requests`) over HTTP against the fake; nothing is mocked.
"""

import io
import json
import struct
import threading
import time
import zlib

import pytest
import requests
import telebot
from telebot import apihelper
from telebot.apihelper import ApiHTTPException, ApiTelegramException
from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from standins.telegram import DEFAULT_TOKEN, FakeTelegram

USER = 42
ADMIN = 7


def make_png(width: int = 3, height: int = 2, note: bytes = b"") -> bytes:
    """A valid PNG; `note` goes into a tEXt chunk to put awkward bytes in the upload."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00" + note)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# CRLF, a multipart-looking delimiter and NULs: a naive multipart parser would mangle these.
AWKWARD_PNG = make_png(640, 480, note=b"\r\n--boundary\r\n\r\n\x00\x00 end")


def telebot_settings() -> tuple:
    return apihelper.API_URL, apihelper.FILE_URL, apihelper.proxy


@pytest.fixture(autouse=True)
def _media_root():
    # Shadows the root conftest's autouse fixture, which needs pytest-django's `settings`:
    # these tests are pure Python, write no media, and must run with `-p no:django`.
    yield


@pytest.fixture
def tg():
    before = telebot_settings()
    with FakeTelegram(DEFAULT_TOKEN, long_poll_cap=0.3) as fake:
        fake.configure_telebot()
        try:
            yield fake
        finally:
            fake.restore_telebot()
    assert telebot_settings() == before


@pytest.fixture
def bot(tg):
    return telebot.TeleBot(tg.token, threaded=False)


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    for text, data in buttons:
        markup.add(InlineKeyboardButton(text, callback_data=data))
    return markup


def test_get_me_returns_the_bot_identity(bot):
    me = bot.get_me()

    assert me.id == 123456
    assert me.is_bot is True
    assert me.username == "moonvpn_test_bot"


def test_wrong_token_is_unauthorized(tg):
    intruder = telebot.TeleBot("999:WRONG", threaded=False)

    with pytest.raises(ApiTelegramException) as exc:
        intruder.send_message(USER, "hi")

    assert exc.value.error_code == 401
    assert exc.value.description == "Unauthorized"
    assert tg.sent == []


def test_unknown_method_is_not_found(bot):
    with pytest.raises(ApiTelegramException) as exc:
        bot.send_dice(USER)

    assert exc.value.error_code == 404
    assert exc.value.result.status_code == 404
    assert exc.value.result_json == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_send_message_records_text_and_parsed_inline_keyboard(tg, bot):
    markup = keyboard(("1 month - 150,000 Toman", "plan:1"), ("3 months", "plan:3"))

    returned = bot.send_message(USER, "<b>Pick a plan</b>", parse_mode="HTML", reply_markup=markup)

    record = tg.last_to(USER)
    assert record["method"] == "sendMessage"
    assert record["text"] == "<b>Pick a plan</b>"
    assert record["plain_text"] == "Pick a plan"
    assert record["parse_mode"] == "HTML"
    assert record["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "1 month - 150,000 Toman", "callback_data": "plan:1"}],
            [{"text": "3 months", "callback_data": "plan:3"}],
        ]
    }
    assert record["message_id"] == returned.message_id
    assert returned.chat.id == USER
    assert returned.text == "Pick a plan"
    assert returned.reply_markup.keyboard[1][0].callback_data == "plan:3"


def test_message_ids_are_shared_by_both_sides_and_counted_per_chat(tg, bot):
    incoming = tg.user_update_text(USER, "/start")

    first = bot.send_message(USER, "one")
    second = bot.send_message(USER, "two")
    elsewhere = bot.send_message(ADMIN, "admin")

    assert incoming["message"]["message_id"] == 1
    assert (first.message_id, second.message_id) == (2, 3)
    assert elsewhere.message_id == 1
    assert tg.texts_to(USER) == ["one", "two"]


def test_html_that_telegram_cannot_parse_is_refused(tg, bot):
    for text in ("line<br>break", "<b>never closed", "traffic < 5GB"):
        with pytest.raises(ApiTelegramException) as exc:
            bot.send_message(USER, text, parse_mode="HTML")
        assert exc.value.error_code == 400
        assert exc.value.description.startswith("Bad Request: can't parse entities")

    bot.send_message(USER, "traffic &lt; 5GB &amp; <i>fast</i>", parse_mode="HTML")
    assert tg.texts_to(USER) == ["traffic < 5GB & fast"]


def test_callback_data_longer_than_64_bytes_is_refused(tg, bot):
    # Persian letters take two bytes each in UTF-8: 33 of them are 66 bytes.
    with pytest.raises(ApiTelegramException) as exc:
        bot.send_message(USER, "pick", reply_markup=keyboard(("x", "ب" * 33)))

    assert exc.value.description == "Bad Request: BUTTON_DATA_INVALID"
    assert tg.sent == []


def test_send_photo_upload_keeps_the_exact_bytes(tg, bot):
    returned = bot.send_photo(USER, AWKWARD_PNG, caption="<b>Your QR code</b>", parse_mode="HTML")

    (record,) = tg.photos_to(USER)
    assert record["photo"] == AWKWARD_PNG
    assert record["caption"] == "<b>Your QR code</b>"
    assert tg.texts_to(USER) == ["Your QR code"]
    assert record["photo_file_id"] is None
    largest = returned.photo[-1]
    assert (largest.width, largest.height) == (640, 480)
    assert bot.download_file(bot.get_file(largest.file_id).file_path) == AWKWARD_PNG


def test_send_photo_by_file_id_forwards_the_users_picture(tg, bot):
    receipt = tg.photo_update(USER, AWKWARD_PNG, caption="receipt")
    file_id = receipt["message"]["photo"][-1]["file_id"]

    returned = bot.send_photo(ADMIN, file_id, caption="Receipt from @ali")

    (record,) = tg.photos_to(ADMIN)
    assert record["photo_file_id"] == file_id
    assert record["photo"] == AWKWARD_PNG
    assert returned.photo[-1].file_unique_id == receipt["message"]["photo"][-1]["file_unique_id"]


def test_empty_or_non_image_photo_upload_is_refused(tg, bot):
    buffer = io.BytesIO()
    buffer.write(AWKWARD_PNG)  # not rewound: the classic way to upload nothing

    with pytest.raises(ApiTelegramException) as empty:
        bot.send_photo(USER, buffer)
    with pytest.raises(ApiTelegramException) as garbage:
        bot.send_photo(USER, b"definitely not an image")
    with pytest.raises(ApiTelegramException) as unknown:
        bot.send_photo(USER, "no-such-file-id")

    assert empty.value.description == "Bad Request: file must be non-empty"
    assert garbage.value.description == "Bad Request: IMAGE_PROCESS_FAILED"
    assert unknown.value.description == "Bad Request: wrong file identifier/HTTP URL specified"
    assert tg.photos_to(USER) == []


def test_built_updates_parse_as_telebot_updates_for_webhook_views(tg):
    # A webhook view does Update.de_json(request.body): the dicts must survive JSON.
    text, press, photo, document = (
        telebot.types.Update.de_json(json.dumps(update))
        for update in (
            tg.user_update_text(USER, "/buy plan:1", language_code="en"),
            tg.callback_update(USER, "plan:1"),
            tg.photo_update(USER, AWKWARD_PNG, caption="receipt"),
            tg.document_update(USER, b"%PDF", file_name="r.pdf", mime_type="application/pdf"),
        )
    )

    assert text.message.text == "/buy plan:1"
    assert text.message.from_user.language_code == "en"
    assert text.message.entities[0].type == "bot_command"
    assert press.callback_query.data == "plan:1"
    assert press.callback_query.message.chat.id == USER
    assert photo.message.content_type == "photo"
    assert photo.message.caption == "receipt"
    assert document.message.document.file_name == "r.pdf"
    assert len({text.update_id, press.update_id, photo.update_id, document.update_id}) == 4


def test_pushed_photo_downloads_and_same_bytes_keep_their_unique_id(tg, bot):
    first = tg.photo_update(USER, AWKWARD_PNG)["message"]["photo"][-1]
    again = tg.photo_update(USER, AWKWARD_PNG)["message"]["photo"][-1]
    other = tg.photo_update(USER, make_png(4, 4))["message"]["photo"][-1]

    file = bot.get_file(first["file_id"])

    assert bot.download_file(file.file_path) == AWKWARD_PNG
    assert file.file_size == len(AWKWARD_PNG)
    assert again["file_unique_id"] == first["file_unique_id"]
    assert again["file_id"] != first["file_id"]
    assert other["file_unique_id"] != first["file_unique_id"]


def test_pushed_document_downloads_with_its_name_and_type(tg, bot):
    pdf = b"%PDF-1.4\r\n\x00\xffreceipt"
    update = tg.document_update(
        USER, pdf, file_name="receipt.pdf", mime_type="application/pdf", caption="paid"
    )

    document = update["message"]["document"]
    file = bot.get_file(document["file_id"])

    assert document["file_name"] == "receipt.pdf"
    assert document["mime_type"] == "application/pdf"
    assert bot.download_file(file.file_path) == pdf
    with pytest.raises(ApiHTTPException):
        bot.download_file("documents/missing.pdf")


def test_send_document_records_bytes_and_file_name(tg, bot):
    config = b"vless://uuid@host:443?security=reality#MoonVPN\n"

    returned = bot.send_document(USER, config, visible_file_name="moonvpn config.txt")

    (record,) = tg.documents_to(USER)
    assert record["document"] == config
    assert record["file_name"] == "moonvpn config.txt"
    assert record["mime_type"] == "text/plain"
    assert returned.document.file_name == "moonvpn config.txt"


def test_callback_query_can_be_answered_once(tg, bot):
    bot.send_message(USER, "pick", reply_markup=keyboard(("Buy", "buy")))
    query = tg.callback_update(USER, "buy")["callback_query"]

    assert bot.answer_callback_query(query["id"], "Added to cart", show_alert=True) is True
    with pytest.raises(ApiTelegramException) as exc:
        bot.answer_callback_query(query["id"], "again")

    assert exc.value.error_code == 400
    assert "query ID is invalid" in exc.value.description
    (answer,) = tg.callback_answers
    assert (answer["text"], answer["show_alert"]) == ("Added to cart", True)
    assert answer["chat_id"] == USER
    assert query["message"]["text"] == "pick"


def test_edit_changes_what_the_user_sees_and_identical_edit_is_refused(tg, bot):
    sent = bot.send_message(USER, "Pending", reply_markup=keyboard(("Cancel", "cancel")))

    edited = bot.edit_message_text("Approved", USER, sent.message_id)
    with pytest.raises(ApiTelegramException) as exc:
        bot.edit_message_text("Approved", USER, sent.message_id)

    assert edited.text == "Approved"
    assert edited.edit_date is not None
    assert "message is not modified" in exc.value.description
    (message,) = tg.chat_history(USER)
    assert message["text"] == "Approved"
    assert "reply_markup" not in message  # an edit without markup removes the keyboard


def test_edit_of_a_users_message_or_a_missing_one_is_refused(tg, bot):
    incoming = tg.user_update_text(USER, "hello")["message"]

    with pytest.raises(ApiTelegramException) as users:
        bot.edit_message_text("changed", USER, incoming["message_id"])
    with pytest.raises(ApiTelegramException) as missing:
        bot.edit_message_reply_markup(USER, 999, reply_markup=keyboard(("x", "x")))

    assert users.value.description == "Bad Request: message can't be edited"
    assert missing.value.description == "Bad Request: message to edit not found"


def test_deleted_message_disappears_and_cannot_be_deleted_twice(tg, bot):
    sent = bot.send_message(USER, "temporary")

    assert bot.delete_message(USER, sent.message_id) is True
    with pytest.raises(ApiTelegramException) as exc:
        bot.delete_message(USER, sent.message_id)

    assert tg.chat_history(USER) == []
    assert tg.last_to(USER)["method"] == "deleteMessage"
    assert exc.value.description == "Bad Request: message to delete not found"


def test_rate_limit_raises_429_with_retry_after_then_recovers(tg, bot):
    tg.fail_next("sendMessage", error_code=429, retry_after=7)

    with pytest.raises(ApiTelegramException) as exc:
        bot.send_message(USER, "first try")
    bot.send_message(USER, "second try")

    assert exc.value.error_code == 429
    assert exc.value.result.status_code == 429
    assert exc.value.result_json["parameters"]["retry_after"] == 7
    assert exc.value.description == "Too Many Requests: retry after 7"
    assert tg.texts_to(USER) == ["second try"]
    assert [c["status"] for c in tg.calls] == [429, 200]


def test_fault_can_target_one_chat(tg, bot):
    tg.fail_next("*", error_code=400, description="Bad Request: chat not found", chat_id=ADMIN)

    bot.send_message(USER, "fine")
    with pytest.raises(ApiTelegramException):
        bot.send_message(ADMIN, "fails")

    assert tg.texts_to(USER) == ["fine"]
    assert tg.texts_to(ADMIN) == []


def test_user_who_blocked_the_bot_gets_403(tg, bot):
    tg.block_chat(USER)

    with pytest.raises(ApiTelegramException) as exc:
        bot.send_message(USER, "renew your plan")
    bot.send_message(ADMIN, "still works")

    assert exc.value.error_code == 403
    assert exc.value.description == "Forbidden: bot was blocked by the user"
    assert tg.messages_to(USER) == []

    tg.unblock_chat(USER)
    bot.send_message(USER, "welcome back")
    assert tg.texts_to(USER) == ["welcome back"]


def test_second_polling_instance_gets_409_conflict(tg, bot):
    tg.conflict_polling = True

    with pytest.raises(ApiTelegramException) as exc:
        bot.get_updates(timeout=10, long_polling_timeout=1)  # room for a loaded machine

    assert exc.value.error_code == 409
    assert exc.value.description.startswith("Conflict: terminated by other getUpdates request")


def test_webhook_round_trip_and_get_updates_conflicts_while_it_is_set(tg, bot):
    tg.push(tg.user_update_text(USER, "queued"))

    bot.set_webhook("https://moonvpn.example/bot/hook/", secret_token="s3cret")
    info = bot.get_webhook_info()
    with pytest.raises(ApiTelegramException) as exc:
        bot.get_updates(long_polling_timeout=1)
    bot.delete_webhook(drop_pending_updates=True)

    assert info.url == "https://moonvpn.example/bot/hook/"
    assert info.pending_update_count == 1
    assert exc.value.error_code == 409
    assert tg.webhook == {"url": ""}
    assert tg.pending_updates == 0
    with pytest.raises(ApiTelegramException):
        bot.set_webhook("http://insecure.example/hook/")


def test_get_updates_confirms_by_offset_and_waits_when_empty(tg, bot):
    first = tg.push(tg.user_update_text(USER, "one"))
    second = tg.push(tg.callback_update(USER, "buy"))

    updates = bot.get_updates(long_polling_timeout=20)
    confirmed = bot.get_updates(offset=second["update_id"], long_polling_timeout=20)
    started = time.monotonic()
    empty = bot.get_updates(offset=second["update_id"] + 1, long_polling_timeout=20)
    waited = time.monotonic() - started

    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert updates[0].message.text == "one"
    assert updates[1].callback_query.data == "buy"
    assert [u.update_id for u in confirmed] == [second["update_id"]]
    assert empty == []
    assert 0.25 <= waited < 2  # long_poll_cap=0.3, not the requested 20 s


def test_long_poll_returns_as_soon_as_an_update_is_pushed():
    with FakeTelegram(long_poll_cap=5) as fake:
        fake.configure_telebot()
        bot = telebot.TeleBot(fake.token, threaded=False)
        timer = threading.Timer(0.2, lambda: fake.push(fake.user_update_text(USER, "hi")))
        timer.start()
        started = time.monotonic()

        updates = bot.get_updates(long_polling_timeout=5)

        assert time.monotonic() - started < 2
        assert [u.message.text for u in updates] == ["hi"]


def test_polling_bot_replies_to_a_command_and_a_button_press(tg):
    bot = telebot.TeleBot(tg.token)  # threaded, as in production

    @bot.message_handler(commands=["start"])
    def start(message):
        bot.send_message(
            message.chat.id,
            f"Welcome {message.from_user.first_name}",
            reply_markup=keyboard(("Plans", "plans")),
        )

    @bot.callback_query_handler(func=lambda call: True)
    def pressed(call):
        bot.answer_callback_query(call.id, "OK")
        bot.edit_message_text(f"You chose {call.data}", call.message.chat.id, call.message.id)

    tg.push(tg.user_update_text(USER, "/start", first_name="Sara"))
    poller = threading.Thread(
        target=bot.infinity_polling,
        kwargs={"timeout": 5, "long_polling_timeout": 5, "logger_level": None},
        daemon=True,
    )
    poller.start()
    try:
        welcome = tg.wait_for(lambda sent: tg.messages_to(USER))[0]
        tg.push(tg.callback_update(USER, "plans"))
        edit = tg.wait_for(lambda sent: tg.records(chat_id=USER, method="editMessageText"))[0]
    finally:
        bot.stop_bot()
        poller.join(timeout=5)

    assert not poller.is_alive()
    assert welcome["plain_text"] == "Welcome Sara"
    assert welcome["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "plans"
    assert edit["message_id"] == welcome["message_id"]
    assert edit["plain_text"] == "You chose plans"
    assert [a["text"] for a in tg.callback_answers] == ["OK"]


def test_dropped_connection_surfaces_as_connection_error(tg, bot):
    tg.disconnect_next("sendMessage")

    with pytest.raises(requests.exceptions.ConnectionError):
        bot.send_message(USER, "lost")
    bot.send_message(USER, "delivered")

    assert tg.texts_to(USER) == ["delivered"]


def test_html_error_page_raises_api_http_exception(tg, bot):
    tg.fail_next("sendMessage", error_code=502, raw_body=b"<html>502 Bad Gateway</html>")

    with pytest.raises(ApiHTTPException) as exc:
        bot.send_message(USER, "hi")

    assert exc.value.result.status_code == 502


def test_latency_delays_every_answer(tg, bot):
    tg.latency = 0.2
    started = time.monotonic()

    bot.send_message(USER, "slow")

    assert time.monotonic() - started >= 0.2


def test_bot_commands_are_stored_per_language(tg, bot):
    bot.set_my_commands([telebot.types.BotCommand("start", "شروع")], language_code="fa")

    assert tg.commands_for(language_code="fa") == [{"command": "start", "description": "شروع"}]
    assert tg.commands_for() == []
    assert [c.command for c in bot.get_my_commands(language_code="fa")] == ["start"]
    with pytest.raises(ApiTelegramException):
        bot.set_my_commands([telebot.types.BotCommand("Start-Now", "bad name")])


def test_get_chat_knows_only_users_who_wrote_to_the_bot(tg, bot):
    tg.user_update_text(USER, "hi", first_name="Reza", username="reza")

    chat = bot.get_chat(USER)
    with pytest.raises(ApiTelegramException) as exc:
        bot.get_chat(555)

    assert (chat.type, chat.first_name, chat.username) == ("private", "Reza", "reza")
    assert exc.value.description == "Bad Request: chat not found"


def test_telebot_reaches_the_fake_despite_a_proxy_in_the_environment(tg, bot, monkeypatch):
    # Port 9 (discard) refuses connections: going through this proxy would fail.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")

    assert bot.get_me().username == "moonvpn_test_bot"


def test_stop_restores_telebot_urls_even_without_restore():
    before = telebot_settings()
    fake = FakeTelegram().start()
    port = fake.port

    api_url, file_url = fake.configure_telebot()
    pointed = telebot_settings()
    fake.stop()

    assert api_url == f"http://127.0.0.1:{port}/bot{{0}}/{{1}}"
    assert pointed[:2] == (api_url, file_url)
    assert file_url.endswith("/file/bot{0}/{1}")
    assert telebot_settings() == before


def test_wait_for_gives_up_with_what_was_sent(tg, bot):
    bot.send_message(USER, "something else")

    with pytest.raises(TimeoutError, match="something else"):
        tg.wait_for(lambda sent: tg.messages_to(ADMIN), timeout=0.2)
