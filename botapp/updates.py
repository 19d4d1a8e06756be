"""One way in for every update, whether it came by webhook or by polling."""

import logging

from django.db import close_old_connections
from telebot import types

from botapp.router import get_bot
from botapp.telegram import webhook_reply

log = logging.getLogger(__name__)


def process_update(data: dict, *, allow_reply: bool = False) -> dict | None:
    """Handle one update; returns the Bot API call to put in the webhook response, if any."""
    reply: list | None = [] if allow_reply else None
    token = webhook_reply.set(reply)
    try:
        update = types.Update.de_json(data)
        get_bot().process_new_updates([update])
    except Exception:
        # The handlers catch their own errors; this is a malformed update or a bug
        # in routing. Log it, never let it reach Telegram as a 500 (it would retry).
        log.exception("update %s could not be processed", data.get("update_id"))
    finally:
        webhook_reply.reset(token)
    return reply[0] if reply else None


def process_updates(updates: list) -> None:
    for update in updates:
        # runbot lives for weeks: do per update what Django does per request, so a
        # connection the database dropped (MariaDB's wait_timeout) is replaced, not used.
        close_old_connections()
        try:
            get_bot().process_new_updates([update])
        except Exception:
            log.exception("update %s could not be processed", update.update_id)
        finally:
            close_old_connections()
