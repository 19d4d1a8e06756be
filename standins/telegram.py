"""A local stand-in for the Telegram Bot API, for tests and the ``demo`` command.

Telegram is unreachable from tests, and mocking telebot would only test the mocks. This
serves the Bot API wire protocol on 127.0.0.1 so the real pyTelegramBotAPI and ``requests``
run end to end: the method name in the path (case-insensitive, as on Telegram), parameters
in the query string (what telebot sends) and/or a form-urlencoded, multipart or JSON body,
and ``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": N, ...}`` answers with
the HTTP status Telegram uses.

Typical use in a test::

    with FakeTelegram() as tg:
        tg.configure_telebot()  # points telebot.apihelper.API_URL / FILE_URL here
        try:
            bot = telebot.TeleBot(tg.token)
            tg.push(tg.user_update_text(42, "/start"))
            ...  # poll, or feed the update dict to a webhook view
            reply = tg.wait_for(lambda sent: tg.last_to(42))
        finally:
            tg.restore_telebot()

Where Telegram refuses a request, so does the fake: HTML it cannot parse (``<br>``, a bare
``<``), callback data over 64 bytes, an empty or non-image photo upload, editing a message to
identical content, answering a callback query twice, ``getUpdates`` while a webhook is set.
A lenient fake would hide exactly the bugs that only show up in production.

Simplifications: photos are stored as uploaded (Telegram re-encodes them to JPEG), every
photo size downloads the same bytes, Markdown texts are not validated, URLs passed as
``photo``/``document`` are refused (the fake cannot fetch them), inline messages are not
supported, and there is no automatic flood control (use ``fail_next`` for 429s).
"""

import base64
import copy
import hashlib
import json
import logging
import mimetypes
import re
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["DEFAULT_TOKEN", "FakeTelegram"]

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST"

# Limits enforced by Telegram; exceeding them is a 400 there, so it is here.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"
CONFLICT_DESCRIPTION = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE_DESCRIPTION = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
NOT_MODIFIED_DESCRIPTION = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a content and reply markup of the current message"
)
CALLBACK_EXPIRED_DESCRIPTION = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Every record in `sent` carries all of these keys (None when not applicable), so
# assertions can index without guarding against KeyError.
_RECORD_KEYS = (
    "method",
    "chat_id",
    "message_id",
    "text",
    "plain_text",
    "parse_mode",
    "reply_markup",
    "caption",
    "photo",
    "photo_file_id",
    "document",
    "document_file_id",
    "file_name",
    "mime_type",
    "callback_query_id",
    "show_alert",
    "url",
    "result",
    "params",
)
_MESSAGE_METHODS = ("sendMessage", "sendPhoto", "sendDocument")
_USER_KEYS = ("id", "is_bot", "first_name", "last_name", "username", "language_code")
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "u",
    }
)
_HTML_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)>")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")
_HEADER_PARAM_RE = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

T = TypeVar("T")


class TelegramApiError(Exception):
    """A refusal the fake answers with ``{"ok": false, ...}`` and HTTP status ``error_code``."""

    def __init__(self, error_code: int, description: str, parameters: dict | None = None):
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {detail}")


@dataclass
class _Upload:
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class _StoredFile:
    kind: str  # "photo" or "document"
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class _Fault:
    method: str  # lower-cased Bot API method name, or "*"
    chat_id: int | None
    times: int
    error: TelegramApiError | None  # None means: drop the connection without answering
    raw_body: bytes | None = None

    def matches(self, method: str, params: dict) -> bool:
        if self.method not in ("*", method.lower()):
            return False
        if self.chat_id is None:
            return True
        return str(params.get("chat_id")) == str(self.chat_id)


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


class FakeTelegram:
    """An in-process Bot API server on 127.0.0.1 that records what the bot sends.

    ``long_poll_cap`` bounds how long an empty ``getUpdates`` waits, whatever ``timeout``
    the client asks for, so a polling bot stops within that time after ``stop_polling()``.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "moonvpn_test_bot",
        bot_first_name: str = "MoonVPN",
        long_poll_cap: float = 1.0,
    ):
        self.token = token
        self.long_poll_cap = long_poll_cap
        #: Seconds to sleep before answering any request (a slow Telegram).
        self.latency = 0.0
        #: When true, getUpdates answers 409 as if another bot instance were polling.
        self.conflict_polling = False
        self._bot_user = {
            "id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._cond = threading.Condition(threading.RLock())
        self._version = 0  # bumped on every recorded call, so wait_for never misses one
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._saved_telebot: tuple[Any, Any, Any] | None = None
        self._reset_state()
        self._methods: dict[str, Callable[[dict, dict], Any]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._api_get_me,
                "getUpdates": self._api_get_updates,
                "setWebhook": self._api_set_webhook,
                "deleteWebhook": self._api_delete_webhook,
                "getWebhookInfo": self._api_get_webhook_info,
                "sendMessage": self._api_send_message,
                "sendPhoto": self._api_send_photo,
                "sendDocument": self._api_send_document,
                "sendChatAction": self._api_send_chat_action,
                "editMessageText": self._api_edit_message_text,
                "editMessageCaption": self._api_edit_message_caption,
                "editMessageReplyMarkup": self._api_edit_message_reply_markup,
                "deleteMessage": self._api_delete_message,
                "answerCallbackQuery": self._api_answer_callback_query,
                "getFile": self._api_get_file,
                "setMyCommands": self._api_set_my_commands,
                "getMyCommands": self._api_get_my_commands,
                "deleteMyCommands": self._api_delete_my_commands,
                "getChat": self._api_get_chat,
                "getChatMember": self._api_get_chat_member,
            }.items()
        }

    def _reset_state(self) -> None:
        self._sent: list[dict] = []
        self._calls: list[dict] = []
        self._updates: list[dict] = []
        self._next_update_id = 1
        self._users: dict[int, dict] = {}
        self._messages: dict[int, dict[int, dict]] = {}
        self._next_message_id: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = 0
        self._callback_seq = 0
        self._open_callbacks: dict[str, int] = {}
        self._blocked: set[int] = set()
        # channel (@username or id, as text) → {user id: status}; see set_chat_member.
        self._channel_members: dict[str, dict[int, str]] = {}
        self._faults: list[_Fault] = []
        self._webhook: dict[str, Any] = {"url": ""}
        self._commands: dict[tuple[str, str], list[dict]] = {}
        # Telegram's getFile may leave out file_size; False makes the fake do so.
        self.report_file_size = True
        # Bytes of file downloads actually written before the client stopped reading.
        self.download_bytes_sent = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "FakeTelegram":
        if self._server is None:
            self._stopping = False
            self._server = _Server(self)
            # A short poll interval keeps stop() fast; the default would add half a second.
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeTelegram:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()  # wake long-polling getUpdates so they answer now
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
        if self._saved_telebot is not None:
            self.restore_telebot()

    def __enter__(self) -> "FakeTelegram":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeTelegram is not started; call start() first")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Template for ``telebot.apihelper.API_URL``: ``.format(token, method)``."""
        return self.base_url + "/bot{0}/{1}"

    @property
    def file_url(self) -> str:
        """Template for ``telebot.apihelper.FILE_URL``: ``.format(token, file_path)``."""
        return self.base_url + "/file/bot{0}/{1}"

    def configure_telebot(self) -> tuple[str, str]:
        """Point telebot at this server; returns ``(api_url, file_url)``.

        The previous ``API_URL``, ``FILE_URL`` and ``proxy`` are kept for
        ``restore_telebot()`` (``stop()`` restores them too). The proxy is set to bypass
        HTTP(S)_PROXY from the environment, which would otherwise route 127.0.0.1
        through a proxy in CI.
        """
        from telebot import apihelper  # only this helper needs telebot

        if self._saved_telebot is None:
            self._saved_telebot = (apihelper.API_URL, apihelper.FILE_URL, apihelper.proxy)
        apihelper.API_URL = self.api_url
        apihelper.FILE_URL = self.file_url
        apihelper.proxy = {"no_proxy": "127.0.0.1,localhost"}
        return self.api_url, self.file_url

    def restore_telebot(self) -> None:
        if self._saved_telebot is None:
            return
        from telebot import apihelper

        apihelper.API_URL, apihelper.FILE_URL, apihelper.proxy = self._saved_telebot
        self._saved_telebot = None

    # ------------------------------------------------------------------ recording

    @property
    def bot_user(self) -> dict:
        return dict(self._bot_user)

    @property
    def sent(self) -> list[dict]:
        """Snapshot of successful calls that change what users see, oldest first.

        Methods: sendMessage, sendPhoto, sendDocument, editMessageText,
        editMessageCaption, editMessageReplyMarkup, deleteMessage, answerCallbackQuery.
        ``photo``/``document`` hold the bytes (uploaded, or of the file_id reused).
        """
        with self._cond:
            return list(self._sent)

    @property
    def calls(self) -> list[dict]:
        """Snapshot of every API request, refused ones included: method, params, status."""
        with self._cond:
            return list(self._calls)

    @property
    def callback_answers(self) -> list[dict]:
        return [r for r in self.sent if r["method"] == "answerCallbackQuery"]

    def records(self, *, chat_id: int | None = None, method: str | None = None) -> list[dict]:
        return [
            r
            for r in self.sent
            if (chat_id is None or r["chat_id"] == chat_id)
            and (method is None or r["method"] == method)
        ]

    def messages_to(self, chat_id: int) -> list[dict]:
        """New messages (text, photo, document) sent to the chat, oldest first."""
        return [r for r in self.records(chat_id=chat_id) if r["method"] in _MESSAGE_METHODS]

    def photos_to(self, chat_id: int) -> list[dict]:
        return self.records(chat_id=chat_id, method="sendPhoto")

    def documents_to(self, chat_id: int) -> list[dict]:
        return self.records(chat_id=chat_id, method="sendDocument")

    def texts_to(self, chat_id: int) -> list[str]:
        """What the user reads of each new message: plain text or caption (tags stripped)."""
        return [r["plain_text"] or "" for r in self.messages_to(chat_id)]

    def last_to(self, chat_id: int) -> dict | None:
        """The latest recorded action in the chat (a send, an edit, a delete), or None."""
        records = self.records(chat_id=chat_id)
        return records[-1] if records else None

    def chat_history(self, chat_id: int) -> list[dict]:
        """The chat as the user sees it now: both sides, after edits and deletions."""
        with self._cond:
            return copy.deepcopy(list(self._messages.get(chat_id, {}).values()))

    def file_bytes(self, file_id: str) -> bytes:
        with self._cond:
            return self._files[file_id].data

    def clear(self) -> None:
        """Forget recorded calls; chats, files, queued updates and faults are kept."""
        with self._cond:
            self._sent.clear()
            self._calls.clear()

    def wait_for(self, predicate: Callable[[list[dict]], T], timeout: float = 5.0) -> T:
        """Poll until ``predicate(sent)`` is truthy and return its value.

        The predicate runs outside the fake's lock, so it may query the database even
        while a bot thread, holding a transaction, is waiting on a reply from the fake.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                version = self._version
                snapshot = list(self._sent)
            result = predicate(snapshot)
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                summary = [(r["method"], r["chat_id"], r["plain_text"]) for r in snapshot]
                raise TimeoutError(f"condition not met within {timeout}s; sent: {summary}")
            with self._cond:
                if self._version == version:
                    # Also re-check periodically: the predicate may depend on other state.
                    self._cond.wait(min(remaining, 0.05))

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        *,
        chat_id: int | None = None,
        times: int = 1,
        parameters: dict | None = None,
        raw_body: bytes | None = None,
    ) -> None:
        """Refuse the next ``times`` calls of ``method`` ("*" for any) with ``error_code``.

        A 429 carries ``parameters.retry_after`` as Telegram's does. ``chat_id`` limits the
        fault to calls for that chat. ``raw_body`` replaces the JSON answer, e.g. nginx's
        HTML 502 page, which telebot raises as ApiHTTPException, not ApiTelegramException.
        """
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, "Error")
        params = dict(parameters or {})
        if error_code == 429:
            params.setdefault("retry_after", retry_after)
        error = TelegramApiError(error_code, description, params or None)
        with self._cond:
            self._faults.append(_Fault(method.lower(), chat_id, times, error, raw_body))

    def disconnect_next(self, method: str, *, chat_id: int | None = None, times: int = 1) -> None:
        """Drop the connection without answering (requests raises ConnectionError)."""
        with self._cond:
            self._faults.append(_Fault(method.lower(), chat_id, times, None))

    def block_chat(self, chat_id: int) -> None:
        """Every send or edit to the chat answers 403, as after the user blocks the bot."""
        with self._cond:
            self._blocked.add(int(chat_id))

    def unblock_chat(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(int(chat_id))

    def set_chat_member(self, channel: str, user_id: int, status: str = "member") -> None:
        """The user's status in a channel for getChatMember ("member", "left", "kicked"...).

        A channel the fake was never told about answers 400 "chat not found" (as when
        the bot is not in it); a known channel answers "left" for anyone not set.
        """
        with self._cond:
            self._channel_members.setdefault(str(channel), {})[int(user_id)] = status

    # ------------------------------------------------------------------ updates

    def register_user(
        self,
        user_id: int,
        *,
        first_name: str = "Ali",
        username: str | None = "ali",
        language_code: str | None = "fa",
        last_name: str | None = None,
    ) -> dict:
        """Remember a user's profile (used for private chat objects and getChat)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self._cond:
            self._users[user_id] = user
        return dict(user)

    def user_update_text(
        self,
        chat_id: int,
        text: str,
        *,
        first_name: str = "Ali",
        username: str | None = "ali",
        language_code: str | None = "fa",
        user_id: int | None = None,
    ) -> dict:
        """An Update with a text message from the user; commands get a bot_command entity."""
        user = self._sender(chat_id, user_id, first_name, username, language_code)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        with self._cond:
            message = self._store_message(chat_id, user, content)
            return {"update_id": self._take_update_id(), "message": message}

    def callback_update(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int | None = None,
        first_name: str = "Ali",
        username: str | None = "ali",
        language_code: str | None = "fa",
        user_id: int | None = None,
    ) -> dict:
        """An Update for a press of an inline button carrying ``data``.

        The attached message is the bot's message ``message_id`` or, by default, its latest
        message in the chat that has an inline keyboard. An unknown ``message_id`` is
        created as a bot message so the handler can edit or delete it.
        """
        if not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise ValueError(
                f"callback data must be 1-{MAX_CALLBACK_DATA_BYTES} bytes, "
                f"got {len(data.encode())}; Telegram would have refused the button"
            )
        user = self._sender(chat_id, user_id, first_name, username, language_code)
        with self._cond:
            message = self._callback_message(chat_id, message_id, data)
            self._callback_seq += 1
            query_id = str(4_000_000_000_000_000_000 + self._callback_seq)
            self._open_callbacks[query_id] = chat_id
            query = {
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": str(
                    int.from_bytes(hashlib.sha256(f"{self.token}:{chat_id}".encode()).digest()[:7])
                ),
                "data": data,
            }
            return {"update_id": self._take_update_id(), "callback_query": query}

    def photo_update(
        self,
        chat_id: int,
        image_bytes: bytes,
        *,
        caption: str | None = None,
        first_name: str = "Ali",
        username: str | None = "ali",
        language_code: str | None = "fa",
        user_id: int | None = None,
    ) -> dict:
        """An Update with a photo from the user; getFile + download return ``image_bytes``.

        The largest size's ``file_unique_id`` is derived from the bytes, so sending the same
        picture twice gives the same id (as Telegram does), while ``file_id`` differs.
        """
        user = self._sender(chat_id, user_id, first_name, username, language_code)
        with self._cond:
            content: dict[str, Any] = {"photo": self._photo_sizes(image_bytes)}
            if caption:
                content["caption"] = caption
            message = self._store_message(chat_id, user, content)
            return {"update_id": self._take_update_id(), "message": message}

    def document_update(
        self,
        chat_id: int,
        data_bytes: bytes,
        *,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        first_name: str = "Ali",
        username: str | None = "ali",
        language_code: str | None = "fa",
        user_id: int | None = None,
    ) -> dict:
        """An Update with a file from the user; downloadable like ``photo_update``."""
        user = self._sender(chat_id, user_id, first_name, username, language_code)
        with self._cond:
            stored = self._register_file("document", data_bytes, file_name=file_name)
            content: dict[str, Any] = {
                "document": _document_json(stored, file_name, mime_type),
            }
            if caption:
                content["caption"] = caption
            message = self._store_message(chat_id, user, content)
            return {"update_id": self._take_update_id(), "message": message}

    def push(self, update: dict) -> dict:
        """Queue an Update for getUpdates (and wake a waiting long poll)."""
        if "update_id" not in update:
            raise ValueError("an Update needs an update_id; build it with the *_update helpers")
        with self._cond:
            self._updates.append(copy.deepcopy(update))
            self._version += 1
            self._cond.notify_all()
        return update

    @property
    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    @property
    def webhook(self) -> dict:
        """The webhook as set by setWebhook: url, secret_token, allowed_updates, ..."""
        with self._cond:
            return dict(self._webhook)

    def commands_for(self, *, scope: str = "default", language_code: str = "") -> list[dict]:
        with self._cond:
            return copy.deepcopy(self._commands.get((scope, language_code), []))

    # ------------------------------------------------------------------ HTTP entry

    def execute(self, method: str, params: dict) -> dict:
        """Run a Bot API call inside the server, as Telegram runs the call a bot puts
        in its webhook response (no HTTP request is made for it). Returns the JSON
        answer the bot would have got."""
        reply = self._handle_http(
            f"/bot{self.token}/{method}",
            "",
            {"Content-Type": "application/json"},
            json.dumps(params).encode(),
        )
        return json.loads(reply.body) if reply is not None else {}

    def _handle_http(self, path: str, query: str, headers: Any, body: bytes) -> _Reply | None:
        if self.latency:
            time.sleep(self.latency)
        if path.startswith("/file/bot"):
            return self._handle_download(path[len("/file/bot") :])
        if not path.startswith("/bot"):
            return _json_reply(TelegramApiError(404, "Not Found").payload(), 404)
        token, _, method = path[len("/bot") :].partition("/")
        if token != self.token:
            return _json_reply(TelegramApiError(401, "Unauthorized").payload(), 401)
        handler = self._methods.get(method.lower())
        if handler is None or "/" in method:
            return _json_reply(TelegramApiError(404, "Not Found").payload(), 404)
        try:
            params, uploads = _parse_request(query, headers, body)
        except TelegramApiError as exc:
            return _json_reply(exc.payload(), exc.error_code)
        with self._cond:
            fault = self._take_fault(method, params)
            if fault is not None:
                self._log_call(method, params, fault.error)
                if fault.error is None:
                    return None
                if fault.raw_body is not None:
                    return _Reply(fault.error.error_code, fault.raw_body, "text/html")
                return _json_reply(fault.error.payload(), fault.error.error_code)
            try:
                result = handler(params, uploads)
            except TelegramApiError as exc:
                self._log_call(method, params, exc)
                return _json_reply(exc.payload(), exc.error_code)
            self._log_call(method, params, None)
        return _json_reply({"ok": True, "result": result}, 200)

    def _handle_download(self, rest: str) -> _Reply:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _json_reply(TelegramApiError(401, "Unauthorized").payload(), 401)
        with self._cond:
            stored = self._files_by_path.get(file_path)
        if stored is None:
            return _json_reply(TelegramApiError(404, "Not Found").payload(), 404)
        return _Reply(200, stored.data, "application/octet-stream")

    def _take_fault(self, method: str, params: dict) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(method, params):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _log_call(self, method: str, params: dict, error: TelegramApiError | None) -> None:
        entry = {"method": method, "params": params, "status": 200, "description": None}
        if error is not None:
            entry.update(status=error.error_code, description=error.description)
        self._calls.append(entry)

    def _record(self, method: str, params: dict, **fields: Any) -> None:
        record = dict.fromkeys(_RECORD_KEYS)
        record.update(method=method, params=params, **fields)
        self._sent.append(record)
        self._version += 1
        self._cond.notify_all()

    # ------------------------------------------------------------------ Bot API methods

    def _api_get_me(self, params: dict, uploads: dict) -> dict:
        return dict(self._bot_user)

    def _api_get_updates(self, params: dict, uploads: dict) -> list[dict]:
        if self.conflict_polling:
            raise TelegramApiError(409, CONFLICT_DESCRIPTION)
        if self._webhook["url"]:
            raise TelegramApiError(409, WEBHOOK_ACTIVE_DESCRIPTION)
        offset = _int_param(params, "offset", default=0)
        limit = min(max(_int_param(params, "limit", default=100), 1), 100)
        timeout = max(_float_param(params, "timeout", default=0.0), 0.0)
        # As on Telegram: a positive offset confirms (forgets) every earlier update; a
        # negative one keeps only the last -offset updates.
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        deadline = time.monotonic() + min(timeout, self.long_poll_cap)
        while not self._updates and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)  # releases the lock while waiting
        return copy.deepcopy(self._updates[:limit])

    def _api_set_webhook(self, params: dict, uploads: dict) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        self._webhook = {"url": url}
        if url:
            self._webhook.update(
                secret_token=params.get("secret_token"),
                max_connections=_int_param(params, "max_connections", default=40),
                allowed_updates=_json_param(params, "allowed_updates"),
                ip_address=params.get("ip_address"),
            )
        return True

    def _api_delete_webhook(self, params: dict, uploads: dict) -> bool:
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        self._webhook = {"url": ""}
        return True

    def _api_get_webhook_info(self, params: dict, uploads: dict) -> dict:
        info: dict[str, Any] = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook["url"]:
            info["max_connections"] = self._webhook["max_connections"]
            if self._webhook.get("allowed_updates") is not None:
                info["allowed_updates"] = self._webhook["allowed_updates"]
            if self._webhook.get("ip_address"):
                info["ip_address"] = self._webhook["ip_address"]
        return info

    def _api_send_message(self, params: dict, uploads: dict) -> dict:
        chat_id = self._writable_chat(params)
        text = params.get("text")
        if not text:
            raise _bad_request("message text is empty")
        parse_mode = params.get("parse_mode") or None
        plain = _plain_text(str(text), parse_mode)
        if not plain.strip():
            raise _bad_request("message text is empty")
        if _utf16_len(plain) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        markup = _reply_markup(params)
        message = self._store_message(chat_id, self._bot_user, {"text": plain}, markup)
        self._record(
            "sendMessage",
            params,
            chat_id=chat_id,
            message_id=message["message_id"],
            text=text,
            plain_text=plain,
            parse_mode=parse_mode,
            reply_markup=markup,
            result=message,
        )
        return copy.deepcopy(message)

    def _api_send_photo(self, params: dict, uploads: dict) -> dict:
        chat_id = self._writable_chat(params)
        caption, plain_caption = _caption(params)
        markup = _reply_markup(params)
        upload = uploads.get("photo")
        reused_file_id = None
        if upload is not None:
            data = upload.data
            if not data:
                raise _bad_request("file must be non-empty")
            if _image_kind(data) is None:
                raise _bad_request("IMAGE_PROCESS_FAILED")
        else:
            reused_file_id = str(params.get("photo") or "")
            data = self._reused_file(reused_file_id, "photo").data
        content: dict[str, Any] = {"photo": self._photo_sizes(data)}
        if plain_caption:
            content["caption"] = plain_caption
        message = self._store_message(chat_id, self._bot_user, content, markup)
        self._record(
            "sendPhoto",
            params,
            chat_id=chat_id,
            message_id=message["message_id"],
            caption=caption,
            plain_text=plain_caption,
            parse_mode=params.get("parse_mode") or None,
            reply_markup=markup,
            photo=data,
            photo_file_id=reused_file_id,
            result=message,
        )
        return copy.deepcopy(message)

    def _api_send_document(self, params: dict, uploads: dict) -> dict:
        chat_id = self._writable_chat(params)
        caption, plain_caption = _caption(params)
        markup = _reply_markup(params)
        upload = uploads.get("document")
        reused_file_id = None
        if upload is not None:
            if not upload.data:
                raise _bad_request("file must be non-empty")
            file_name = upload.filename or "document"
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
            stored = self._register_file("document", upload.data, file_name=file_name)
            document = _document_json(stored, file_name, mime_type)
        else:
            reused_file_id = str(params.get("document") or "")
            stored = self._reused_file(reused_file_id, "document")
            document = self._find_document_json(stored.file_id)
        content: dict[str, Any] = {"document": document}
        if plain_caption:
            content["caption"] = plain_caption
        message = self._store_message(chat_id, self._bot_user, content, markup)
        self._record(
            "sendDocument",
            params,
            chat_id=chat_id,
            message_id=message["message_id"],
            caption=caption,
            plain_text=plain_caption,
            parse_mode=params.get("parse_mode") or None,
            reply_markup=markup,
            document=stored.data,
            document_file_id=reused_file_id,
            file_name=document.get("file_name"),
            mime_type=document.get("mime_type"),
            result=message,
        )
        return copy.deepcopy(message)

    def _api_send_chat_action(self, params: dict, uploads: dict) -> bool:
        self._writable_chat(params)
        if not params.get("action"):
            raise _bad_request("action is empty")
        return True

    def _api_edit_message_text(self, params: dict, uploads: dict) -> dict:
        chat_id, message = self._editable_message(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text = params.get("text")
        if not text:
            raise _bad_request("text must be non-empty")
        parse_mode = params.get("parse_mode") or None
        plain = _plain_text(str(text), parse_mode)
        if _utf16_len(plain) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        markup = _reply_markup(params)
        self._apply_edit(message, {"text": plain}, markup)
        self._record(
            "editMessageText",
            params,
            chat_id=chat_id,
            message_id=message["message_id"],
            text=text,
            plain_text=plain,
            parse_mode=parse_mode,
            reply_markup=markup,
            result=copy.deepcopy(message),
        )
        return copy.deepcopy(message)

    def _api_edit_message_caption(self, params: dict, uploads: dict) -> dict:
        chat_id, message = self._editable_message(params)
        if "photo" not in message and "document" not in message:
            raise _bad_request("there is no caption in the message to edit")
        caption, plain_caption = _caption(params)
        markup = _reply_markup(params)
        self._apply_edit(message, {"caption": plain_caption or None}, markup)
        self._record(
            "editMessageCaption",
            params,
            chat_id=chat_id,
            message_id=message["message_id"],
            caption=caption,
            plain_text=plain_caption,
            parse_mode=params.get("parse_mode") or None,
            reply_markup=markup,
            result=copy.deepcopy(message),
        )
        return copy.deepcopy(message)

    def _api_edit_message_reply_markup(self, params: dict, uploads: dict) -> dict:
        chat_id, message = self._editable_message(params)
        markup = _reply_markup(params)
        self._apply_edit(message, {}, markup)
        self._record(
            "editMessageReplyMarkup",
            params,
            chat_id=chat_id,
            message_id=message["message_id"],
            reply_markup=markup,
            result=copy.deepcopy(message),
        )
        return copy.deepcopy(message)

    def _api_delete_message(self, params: dict, uploads: dict) -> bool:
        chat_id = _chat_id_param(params)
        message_id = _int_param(params, "message_id", default=0)
        if self._messages.get(chat_id, {}).pop(message_id, None) is None:
            raise _bad_request("message to delete not found")
        self._record("deleteMessage", params, chat_id=chat_id, message_id=message_id)
        return True

    def _api_answer_callback_query(self, params: dict, uploads: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        # Telegram accepts one answer per query; a second one gets the "too old" error.
        if query_id not in self._open_callbacks:
            raise TelegramApiError(400, CALLBACK_EXPIRED_DESCRIPTION)
        text = params.get("text")
        if text and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        chat_id = self._open_callbacks.pop(query_id)
        self._record(
            "answerCallbackQuery",
            params,
            chat_id=chat_id,
            callback_query_id=query_id,
            text=text,
            plain_text=text,
            show_alert=_bool_param(params, "show_alert"),
            url=params.get("url"),
        )
        return True

    def _api_get_file(self, params: dict, uploads: dict) -> dict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        info = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }
        if not self.report_file_size:
            del info["file_size"]
        return info

    def _api_set_my_commands(self, params: dict, uploads: dict) -> bool:
        commands = _json_param(params, "commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("command description must be 1-256 characters")
        self._commands[_commands_key(params)] = commands
        return True

    def _api_get_my_commands(self, params: dict, uploads: dict) -> list[dict]:
        return copy.deepcopy(self._commands.get(_commands_key(params), []))

    def _api_delete_my_commands(self, params: dict, uploads: dict) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    def _api_get_chat(self, params: dict, uploads: dict) -> dict:
        chat_id = _chat_id_param(params)
        # Telegram only knows private chats with users who talked to the bot.
        if chat_id > 0 and chat_id not in self._users:
            raise _bad_request("chat not found")
        return {**self._chat_json(chat_id), "accent_color_id": 0, "max_reaction_count": 11}

    def _api_get_chat_member(self, params: dict, uploads: dict) -> dict:
        channel = str(params.get("chat_id", ""))
        user_id = _int_param(params, "user_id", default=0)
        members = self._channel_members.get(channel)
        if members is None:
            raise _bad_request("chat not found")
        user = self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "?"}
        return {"status": members.get(user_id, "left"), "user": dict(user)}

    # ------------------------------------------------------------------ state helpers

    def _writable_chat(self, params: dict) -> int:
        chat_id = _chat_id_param(params)
        if chat_id in self._blocked:
            raise TelegramApiError(403, BLOCKED_DESCRIPTION)
        return chat_id

    def _editable_message(self, params: dict) -> tuple[int, dict]:
        if params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by the fake")
        chat_id = self._writable_chat(params)
        message_id = _int_param(params, "message_id", default=0)
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"]["id"] != self._bot_user["id"]:
            raise _bad_request("message can't be edited")
        return chat_id, message

    def _apply_edit(self, message: dict, content: dict, markup: dict | None) -> None:
        inline = markup if markup and "inline_keyboard" in markup else None
        unchanged = all(message.get(k) == v for k, v in content.items())
        if unchanged and message.get("reply_markup") == inline:
            raise TelegramApiError(400, NOT_MODIFIED_DESCRIPTION)
        for key, value in content.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        if inline is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = inline
        message["edit_date"] = int(time.time())

    def _sender(
        self,
        chat_id: int,
        user_id: int | None,
        first_name: str,
        username: str | None,
        language_code: str | None,
    ) -> dict:
        if user_id is None:
            if chat_id <= 0:
                raise ValueError("user_id is required for updates from a group chat")
            user_id = chat_id
        return self.register_user(
            user_id, first_name=first_name, username=username, language_code=language_code
        )

    def _chat_json(self, chat_id: int) -> dict:
        if chat_id > 0:
            user = self._users.get(chat_id, {"first_name": "User"})
            chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
            return chat
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _store_message(
        self,
        chat_id: int,
        sender: dict,
        content: dict,
        markup: dict | None = None,
        *,
        message_id: int | None = None,
    ) -> dict:
        # Private chats share one message_id sequence between the user and the bot.
        next_id = self._next_message_id.get(chat_id, 1)
        if message_id is None:
            message_id = next_id
        self._next_message_id[chat_id] = max(next_id, message_id + 1)
        message = {
            "message_id": message_id,
            "from": {k: v for k, v in sender.items() if k in _USER_KEYS},
            "chat": self._chat_json(chat_id),
            "date": int(time.time()),
            **copy.deepcopy(content),
        }
        # Telegram echoes only inline keyboards; telebot would misparse anything else.
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = copy.deepcopy(markup)
        self._messages.setdefault(chat_id, {})[message_id] = message
        return copy.deepcopy(message)

    def _callback_message(self, chat_id: int, message_id: int | None, data: str) -> dict:
        messages = self._messages.get(chat_id, {})
        if message_id in messages:
            return copy.deepcopy(messages[message_id])
        if message_id is None:
            from_bot = [m for m in messages.values() if m["from"]["id"] == self._bot_user["id"]]
            with_keyboard = [m for m in from_bot if "reply_markup" in m]
            if with_keyboard or from_bot:
                return copy.deepcopy((with_keyboard or from_bot)[-1])
        keyboard = {"inline_keyboard": [[{"text": "…", "callback_data": data}]]}
        return self._store_message(
            chat_id, self._bot_user, {"text": "…"}, keyboard, message_id=message_id
        )

    def _take_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _register_file(
        self, kind: str, data: bytes, *, salt: str = "", file_name: str = ""
    ) -> _StoredFile:
        self._file_seq += 1
        digest = hashlib.sha256(f"{kind}:{salt}:".encode() + data).digest()
        prefix = "AQAD" if kind == "photo" else "AgAD"
        unique_id = prefix + _b64(digest)[:12]
        file_id = ("AgACAgQAAxkB" if kind == "photo" else "BQACAgQAAxkB") + _b64(
            self._file_seq.to_bytes(4, "big") + digest[:18]
        )
        if kind == "photo":
            extension = _image_kind(data) or "jpg"
            folder = "photos"
        else:
            extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
            folder = "documents"
        stored = _StoredFile(
            kind, file_id, unique_id, f"{folder}/file_{self._file_seq}.{extension}", data
        )
        self._files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _reused_file(self, file_id: str, kind: str) -> _StoredFile:
        if not file_id:
            raise _bad_request(f"there is no {kind} in the request")
        if file_id.startswith(("http://", "https://")):
            raise _bad_request("failed to get HTTP URL content")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad_request("type of file mismatch")
        return stored

    def _find_document_json(self, file_id: str) -> dict:
        for messages in self._messages.values():
            for message in messages.values():
                document = message.get("document")
                if document and document["file_id"] == file_id:
                    return dict(document)
        stored = self._files[file_id]
        return _document_json(
            stored, stored.file_path.rsplit("/", 1)[-1], "application/octet-stream"
        )

    def _photo_sizes(self, data: bytes) -> list[dict]:
        width, height = _image_size(data) or (1280, 720)
        sizes = []
        for salt, longest_side in (("thumb", 90), ("", 1280)):
            scale = min(1.0, longest_side / max(width, height, 1))
            stored = self._register_file("photo", data, salt=salt)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        return sizes


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops connections when tests fire many requests at
    # once on a loaded machine (the client then sees a connect timeout).
    request_queue_size = 128
    daemon_threads = True  # a stuck client must not keep the test process alive

    def __init__(self, fake: FakeTelegram):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "nginx/1.18.0"  # what api.telegram.org answers with
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake telegram: " + format, *args)

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        reply = self.server.fake._handle_http(
            unquote(parts.path), parts.query, self.headers, self._read_body()
        )
        if reply is None:  # a simulated network failure: hang up without an answer
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.content_type != "application/octet-stream":
            self.wfile.write(reply.body)
            return
        # A file download, written in pieces and counted: a client that stops reading
        # early shows up as fewer bytes sent.
        fake = self.server.fake
        try:
            for start in range(0, len(reply.body), 64 * 1024):
                piece = reply.body[start : start + 64 * 1024]
                self.wfile.write(piece)
                with fake._cond:
                    fake.download_bytes_sent += len(piece)
        except OSError:
            self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


# ---------------------------------------------------------------------- parsing helpers


def _json_reply(payload: dict, status: int) -> _Reply:
    return _Reply(status, json.dumps(payload, ensure_ascii=False).encode())


def _parse_request(query: str, headers: Any, body: bytes) -> tuple[dict, dict[str, _Upload]]:
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    uploads: dict[str, _Upload] = {}
    content_type = headers.get("Content-Type", "") or ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return params, uploads
    if media_type == "application/x-www-form-urlencoded":
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif media_type == "multipart/form-data":
        fields, uploads = _parse_multipart(body, content_type)
        params.update(fields)
    elif media_type == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise _bad_request("can't parse JSON request body") from None
        if not isinstance(decoded, dict):
            raise _bad_request("request body must be a JSON object")
        params.update(decoded)
    return params, uploads


def _header_params(value: str) -> dict[str, str]:
    """Parameters of a header like ``form-data; name="photo"; filename=photo``.

    telebot patches urllib3 to send ``filename`` unquoted, so both forms must parse.
    """
    found: dict[str, str] = {}
    for key, raw in _HEADER_PARAM_RE.findall(";" + value.split(";", 1)[-1]):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        key = key.lower()
        if key.endswith("*") and "''" in raw:  # RFC 5987: utf-8''percent-encoded
            key, raw = key[:-1], unquote(raw.split("''", 1)[1])
        found[key] = raw
    return found


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict, dict[str, _Upload]]:
    boundary = _header_params(content_type).get("boundary")
    if not boundary:
        raise _bad_request("multipart boundary is missing")
    fields: dict[str, str] = {}
    uploads: dict[str, _Upload] = {}
    # Split on raw bytes: uploads are binary and must come back byte for byte.
    for chunk in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, separator, content = chunk.partition(b"\r\n\r\n")
        if not separator:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            uploads[name] = _Upload(disposition["filename"], content, headers.get("content-type"))
        else:
            fields[name] = content.decode("utf-8")
    return fields, uploads


def _chat_id_param(params: dict) -> int:
    raw = params.get("chat_id")
    if raw is None or raw == "":
        raise _bad_request("chat_id is empty")
    try:
        return int(raw)
    except (TypeError, ValueError):
        # "@channelusername" is valid on Telegram, but the fake knows no public chats.
        raise _bad_request("chat not found") from None


def _int_param(params: dict, name: str, *, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _float_param(params: dict, name: str, *, default: float) -> float:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _bool_param(params: dict, name: str) -> bool:
    raw = params.get(name)
    return raw is True or str(raw).lower() in ("true", "1")


def _json_param(params: dict, name: str) -> Any:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        return raw  # already decoded from a JSON request body
    try:
        return json.loads(raw)
    except ValueError:
        raise _bad_request(f"can't parse {name} JSON object") from None


def _commands_key(params: dict) -> tuple[str, str]:
    scope = _json_param(params, "scope") or {"type": "default"}
    return str(scope.get("type", "default")), str(params.get("language_code") or "")


def _reply_markup(params: dict) -> dict | None:
    try:
        markup = _json_param(params, "reply_markup")
    except TelegramApiError:
        raise _bad_request("can't parse reply keyboard markup JSON object") from None
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad_request("can't parse inline keyboard button: Text is empty")
            if not any(action in button for action in _INLINE_BUTTON_ACTIONS):
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _bad_request("BUTTON_DATA_INVALID")
    return markup


def _caption(params: dict) -> tuple[str | None, str | None]:
    caption = params.get("caption") or None
    if caption is None:
        return None, None
    plain = _plain_text(str(caption), params.get("parse_mode") or None)
    if _utf16_len(plain) > MAX_CAPTION_LENGTH:
        raise _bad_request("message caption is too long")
    return str(caption), plain


def _plain_text(text: str, parse_mode: str | None) -> str:
    """The text as the user reads it; HTML is validated the way Telegram does."""
    if not parse_mode:
        return text
    mode = parse_mode.lower()
    if mode == "html":
        return _parse_html(text)
    if mode in ("markdown", "markdownv2"):
        return text  # not validated (see the module docstring)
    raise _bad_request("unsupported parse_mode")


def _parse_html(text: str) -> str:
    out: list[str] = []
    open_tags: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            offset = len(text[:i].encode())
            match = _HTML_TAG_RE.match(text, i)
            if match is None:
                word = re.match(r"[^\s<>]*", text[i + 1 :]).group()
                raise _bad_request(
                    f'can\'t parse entities: Unsupported start tag "{word}" at byte offset {offset}'
                )
            closing, name = match.group(1), match.group(2).lower()
            if closing:
                if not open_tags or open_tags[-1] != name:
                    expected = f'"</{open_tags[-1]}>"' if open_tags else "no end tag"
                    raise _bad_request(
                        f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                        f'expected {expected}, found "</{name}>"'
                    )
                open_tags.pop()
            elif name not in _HTML_TAGS:
                raise _bad_request(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
                )
            else:
                open_tags.append(name)
            i = match.end()
        elif char == "&" and (entity := _HTML_ENTITY_RE.match(text, i)):
            name = entity.group(1)
            if name.startswith(("#x", "#X")):
                out.append(chr(int(name[2:], 16)))
            elif name.startswith("#"):
                out.append(chr(int(name[1:])))
            else:
                out.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name])
            i = entity.end()
        else:
            out.append(char)
            i += 1
    if open_tags:
        raise _bad_request(
            "can't parse entities: Can't find end tag corresponding to start tag "
            f'"{open_tags[-1]}"'
        )
    return "".join(out)


def _utf16_len(text: str) -> int:
    # Telegram counts lengths and offsets in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"BM"):
        return "bmp"
    return None


def _image_size(data: bytes) -> tuple[int, int] | None:
    kind = _image_kind(data)
    if kind == "png" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if kind == "gif" and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if kind == "jpg":
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker = data[i + 1]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def _document_json(stored: _StoredFile, file_name: str, mime_type: str) -> dict:
    return {
        "file_name": file_name,
        "mime_type": mime_type,
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
