"""The bot object, and the one wrapper every outgoing Bot API call goes through.

The wrapper is where Telegram's answers become decisions (see healthchecks'
telegram transport): 429 waits ``retry_after`` and sends again; 403 means the customer
blocked the bot, which is recorded and is not an error; "message is not modified" is
harmless; anything else is logged and the caller carries on — a failed notification
must never undo a payment or crash a handler.
"""

import contextvars
import logging
import os
import re
import threading
import time

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from telebot import TeleBot, apihelper, types

from accounts.models import User
from moonvpn.redact import redact

log = logging.getLogger(__name__)

MAX_RETRIES_429 = 3
MAX_WAIT_429 = 120  # seconds; Telegram's flood waits are usually a few seconds

_bots: dict[str, TeleBot] = {}
_bots_lock = threading.Lock()

# In webhook mode Telegram accepts one Bot API call in the HTTP response to the update
# (its result is never known). A button's answer needs no result, so it rides there:
# one round trip to Telegram fewer per press. Holds None outside a webhook request.
webhook_reply: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "webhook_reply", default=None
)


def configure_api() -> None:
    """Point telebot at settings.TELEGRAM_API_URL (any server with Telegram's URL scheme)."""
    base = settings.TELEGRAM_API_URL.rstrip("/")
    apihelper.API_URL = base + "/bot{0}/{1}"
    apihelper.FILE_URL = base + "/file/bot{0}/{1}"
    apihelper.CUSTOM_REQUEST_SENDER = _send


def _send(method, url, *, params=None, files=None, timeout=None, proxies=None):
    """telebot's HTTP request, with a POST's parameters in a form body, not in the URL.

    telebot puts them in the query string, where urllib3 re-checks the long URL (the
    text and the keyboard's JSON, percent-encoded) character by character: that was a
    sixth of the CPU of a menu update. Telegram takes either; uploads stay as they were.
    The proxy and CA settings of the environment are read once (``_environment``), not
    on every call as requests does by itself; ``apihelper.proxy``, when set, wins.
    """
    # telebot's own per-thread session: the same connection reuse as without us.
    session = apihelper._get_req_session()
    session.trust_env = False  # what it would read is passed below
    env_proxies, verify = _environment()
    proxies = env_proxies if proxies is None else proxies
    if method == "post" and not files:
        return session.request(
            method,
            url,
            data=_form_body(params or {}),
            headers=_FORM,
            timeout=timeout,
            proxies=proxies,
            verify=verify,
        )
    return session.request(
        method, url, params=params, files=files, timeout=timeout, proxies=proxies, verify=verify
    )


_read_environment: tuple[str, dict, bool | str] | None = None


def _environment() -> tuple[dict, bool | str]:
    """HTTP(S)_PROXY, ALL_PROXY, NO_PROXY and REQUESTS_CA_BUNDLE, as requests reads them.

    Read once per TELEGRAM_API_URL, as the process starts: a server that reaches
    Telegram through a proxy (common where Telegram is filtered) keeps doing so.
    """
    global _read_environment
    base = settings.TELEGRAM_API_URL
    if _read_environment is None or _read_environment[0] != base:
        proxies = requests.utils.get_environ_proxies(base)
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        _read_environment = (base, proxies, bundle or True)
    return _read_environment[1], _read_environment[2]


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# Bytes a form value carries as they are: urllib.parse's always-safe set and the JSON
# punctuation of a keyboard, none of which a form decoder treats specially (only & = +
# % do). Every run of other bytes is percent-encoded in one go, where urlencode quotes
# byte by byte in Python: a Persian text is nearly all such bytes, and that was a tenth
# of a menu update's CPU. The body decodes to exactly what urlencode would have sent.
_UNSAFE = re.compile(rb'[^A-Za-z0-9_.~\-{}\[\]":,]+')


def _percent(match: re.Match) -> bytes:
    return b"%" + match.group().hex("%").upper().encode()


def _form_value(value) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    elif not isinstance(value, bytes):
        value = str(value).encode()
    return _UNSAFE.sub(_percent, value)


def _form_body(params: dict) -> bytes:
    """``params`` as requests would form-encode them (None left out, lists repeated)."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if item is not None:
                pairs.append(_form_value(key) + b"=" + _form_value(item))
    return b"&".join(pairs)


def get_bot() -> TeleBot:
    """This process's bot: telebot, for sending (botapp.router routes what arrives).

    threaded=False: each update is handled in the calling thread (the webhook
    request, or the polling loop), so no update is ever handled by a background
    thread of one process while another process handles the next.
    """
    token = settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise ImproperlyConfigured("TELEGRAM_BOT_TOKEN is not set")
    configure_api()
    with _bots_lock:
        bot = _bots.get(token)
        if bot is None:
            bot = TeleBot(token, threaded=False, skip_pending=False)
            _bots[token] = bot
        return bot


def _bot() -> TeleBot | None:
    try:
        return get_bot()
    except ImproperlyConfigured:
        # Provisioning from cron on a machine without a bot still delivers the account;
        # the customer finds it under "My services".
        log.warning("TELEGRAM_BOT_TOKEN is not set: nothing is sent to Telegram")
        return None


def _retry_after(exc: apihelper.ApiTelegramException) -> float:
    parameters = (exc.result_json or {}).get("parameters") or {}
    try:
        return min(max(float(parameters.get("retry_after", 1)), 0.0), MAX_WAIT_429)
    except (TypeError, ValueError):
        return 1.0


def _mark_blocked(chat_id) -> None:
    if chat_id is not None:
        User.objects.filter(telegram_id=chat_id, has_blocked_bot=False).update(has_blocked_bot=True)


def call(what: str, fn, *args, to=None, **kwargs):
    """Run one Bot API call; returns its result, or None when it could not be done."""
    for attempt in range(MAX_RETRIES_429 + 1):
        try:
            return fn(*args, **kwargs)
        except apihelper.ApiTelegramException as exc:
            if exc.error_code == 429 and attempt < MAX_RETRIES_429:
                wait = _retry_after(exc)
                log.info("Telegram asked to slow down: waiting %ss before %s", wait, what)
                time.sleep(wait)
                continue
            if exc.error_code == 403:
                log.info("chat %s blocked the bot (%s)", to, what)
                _mark_blocked(to)
                return None
            if "message is not modified" in (exc.description or ""):
                return None
            log.warning("Telegram refused %s to chat %s: %s", what, to, exc.description)
            return None
        except (apihelper.ApiException, requests.RequestException) as exc:
            log.warning("Telegram unreachable for %s to chat %s: %s", what, to, redact(str(exc)))
            return None
    return None


_NO_PREVIEW = types.LinkPreviewOptions(is_disabled=True)


def send_message(chat_id: int, text: str, markup=None) -> types.Message | None:
    bot = _bot()
    if bot is None:
        return None
    return call(
        "sendMessage",
        bot.send_message,
        chat_id,
        text,
        parse_mode="HTML",
        reply_markup=markup,
        link_preview_options=_NO_PREVIEW,
        to=chat_id,
    )


def send_photo(chat_id: int, photo, caption: str | None = None, markup=None):
    """``photo`` is PNG/JPEG bytes or a Telegram file_id."""
    bot = _bot()
    if bot is None:
        return None
    return call(
        "sendPhoto",
        bot.send_photo,
        chat_id,
        photo,
        caption=caption,
        parse_mode="HTML" if caption else None,
        reply_markup=markup,
        to=chat_id,
    )


def edit_message(chat_id: int, message_id: int, text: str, markup=None) -> bool:
    """Replace the text of the bot's message; False if that could not be done."""
    bot = _bot()
    if bot is None:
        return False
    for attempt in range(MAX_RETRIES_429 + 1):
        try:
            # apihelper's call, not TeleBot's: the edited message Telegram sends back
            # (its text and keyboard) would be parsed into objects nobody reads.
            apihelper.edit_message_text(
                bot.token,
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode="HTML",
                reply_markup=markup,
                link_preview_options=_NO_PREVIEW,
            )
            return True
        except apihelper.ApiTelegramException as exc:
            if exc.error_code == 429 and attempt < MAX_RETRIES_429:
                time.sleep(_retry_after(exc))
                continue
            if "message is not modified" in (exc.description or ""):
                return True
            if exc.error_code == 403:
                _mark_blocked(chat_id)
            # Too old to edit, a photo, deleted: the caller sends a new message instead.
            return False
        except (apihelper.ApiException, requests.RequestException) as exc:
            log.warning(
                "Telegram unreachable for editMessageText to chat %s: %s",
                chat_id,
                redact(str(exc)),
            )
            return False
    return False


def edit_caption(chat_id: int, message_id: int, caption: str, markup=None):
    bot = _bot()
    if bot is None:
        return None
    return call(
        "editMessageCaption",
        bot.edit_message_caption,
        caption,
        chat_id=chat_id,
        message_id=message_id,
        parse_mode="HTML",
        reply_markup=markup,
        to=chat_id,
    )


def edit_markup(chat_id: int, message_id: int, markup):
    bot = _bot()
    if bot is None:
        return None
    return call(
        "editMessageReplyMarkup",
        bot.edit_message_reply_markup,
        chat_id=chat_id,
        message_id=message_id,
        reply_markup=markup,
        to=chat_id,
    )


def answer_callback(query_id: str, text: str | None = None, alert: bool = False, now=False):
    """Answer a button press; in a webhook request, in its response unless ``now``."""
    text = (text or None) and text[:200]  # Telegram's limit
    reply = webhook_reply.get()
    if reply is not None and not reply and not now:
        request = {"method": "answerCallbackQuery", "callback_query_id": query_id}
        if text:
            request["text"] = text
        if alert:
            request["show_alert"] = True
        reply.append(request)
        return True
    bot = _bot()
    if bot is None:
        return None
    return call(
        "answerCallbackQuery",
        bot.answer_callback_query,
        query_id,
        text=text,
        show_alert=alert,
    )


class FileTooBig(Exception):
    """The file is over the size the caller accepts; nothing more was read."""


DOWNLOAD_TIMEOUT = (5, 30)


def download(file_id: str, *, max_bytes: int) -> bytes | None:
    """The bytes of a file a user sent, or None if it is unreachable.

    Raises FileTooBig past ``max_bytes``: known from getFile's file_size when Telegram
    gives it, otherwise found while streaming, which stops reading at the limit.
    """
    bot = _bot()
    if bot is None:
        return None
    info = call("getFile", bot.get_file, file_id)
    if info is None or not info.file_path:
        return None
    if info.file_size and info.file_size > max_bytes:
        raise FileTooBig(info.file_size)
    url = apihelper.FILE_URL.format(bot.token, info.file_path)
    data = bytearray()
    try:
        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT) as response:
            if response.status_code != 200:
                log.warning("Telegram refused a file download: HTTP %s", response.status_code)
                return None
            for chunk in response.iter_content(chunk_size=64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise FileTooBig(len(data))
    except requests.RequestException as exc:
        log.warning("Telegram unreachable for a file download: %s", redact(str(exc)))
        return None
    return bytes(data)


_usernames: dict[str, str] = {}


def bot_username() -> str:
    """The bot's @username (from getMe, asked once per token and process)."""
    token = settings.TELEGRAM_BOT_TOKEN
    if token in _usernames:
        return _usernames[token]
    bot = _bot()
    me = call("getMe", bot.get_me) if bot is not None else None
    username = getattr(me, "username", "") or ""
    if username:
        _usernames[token] = username
    return username


def is_channel_member(channel: str, user_id: int) -> bool | None:
    """Whether the user is in the channel (getChatMember); None when it cannot be told."""
    bot = _bot()
    if bot is None:
        return None
    # to=None: a 403 here is about the channel, not a customer who blocked the bot.
    member = call("getChatMember", bot.get_chat_member, channel, user_id, to=None)
    if member is None:
        return None
    return member.status in ("creator", "administrator", "member", "restricted")
