"""One way in for every update, whether it came by webhook or by polling."""

import logging

from django.db import close_old_connections
from telebot import types

from botapp.router import route
from botapp.telegram import webhook_reply

log = logging.getLogger(__name__)


def process_update(data: dict, *, allow_reply: bool = False) -> dict | None:
    """Handle one update; returns the Bot API call to put in the webhook response, if any."""
    reply: list | None = [] if allow_reply else None
    token = webhook_reply.set(reply)
    try:
        route(types.Update.de_json(_addressed_only(data)))
    except Exception:
        # The handlers catch their own errors; this is a malformed update or a bug
        # in routing. Log it, never let it reach Telegram as a 500 (it would retry).
        log.exception("update %s could not be processed", data.get("update_id"))
    finally:
        webhook_reply.reset(token)
    return reply[0] if reply else None


def _addressed_only(data: dict) -> dict:
    """The update, with the pressed button's message cut to its address (chat and id).

    The handlers only ever address that message (to edit it in place); its text and
    keyboard, the longest part of a button press, need no parsing.
    """
    query = data.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if not isinstance(message, dict):
        return data
    address = {key: message[key] for key in ("message_id", "date", "chat") if key in message}
    return {**data, "callback_query": {**query, "message": address}}


def process_updates(updates: list) -> None:
    for update in updates:
        # runbot lives for weeks: do per update what Django does per request, so a
        # connection the database dropped (MariaDB's wait_timeout) is replaced, not used.
        close_old_connections()
        try:
            route(update)
        except Exception:
            log.exception("update %s could not be processed", update.update_id)
        finally:
            close_old_connections()
