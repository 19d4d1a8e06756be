"""Keep the bot token and message texts out of logs and error messages.

requests' errors name the whole URL of the failed call, and pyTelegramBotAPI puts
the token in the path (``/bot<token>/sendMessage``) and every parameter in the query
string: the message text (a customer's config link), the webhook's secret. ``redact``
removes both; ``RedactSecrets`` applies it to every record a handler writes
(installed on the console handler in settings.LOGGING), tracebacks included.
"""

import logging
import re

from django.conf import settings

# /bot<token>/<method>?<query>: the query holds the call's parameters.
_BOT_PATH = re.compile(r"/bot\d+:[^/\s'\"]+/(\w*)(\?[^\s'\"()]*)?")
# A token on its own: "<bot id>:<35 characters>".
_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")
HIDDEN = "<hidden>"


def _bot_path(match: re.Match) -> str:
    query = "?" + HIDDEN if match.group(2) else ""
    return f"/bot{HIDDEN}/{match.group(1)}{query}"


def redact(text: str) -> str:
    text = _BOT_PATH.sub(_bot_path, text)
    token = getattr(settings, "TELEGRAM_BOT_TOKEN", "") if settings.configured else ""
    if token:
        text = text.replace(token, HIDDEN)
    return _TOKEN.sub(HIDDEN, text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
