"""Long polling: what `manage.py runbot` runs when no webhook is set.

Updates are handled one at a time in this thread, through the same entry point as the
webhook. The offset is only advanced past an update once it was handled, so a crash
or a restart hands unhandled updates to the next run instead of losing them.
"""

import logging
import threading

import requests
from telebot import apihelper

from botapp.telegram import get_bot
from botapp.updates import process_updates
from moonvpn.redact import redact

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
MAX_BACKOFF = 30.0


class PollingConflict(Exception):
    """Telegram answered 409: another poller, or a webhook, owns this token's updates."""


class TokenRejected(Exception):
    """Telegram answered 401: the bot token is wrong or was revoked."""


class Poller:
    def __init__(self, *, poll_timeout: int = 20):
        self.poll_timeout = poll_timeout
        self.stopped = threading.Event()
        # True only while blocked in getUpdates: the one moment a signal may abort
        # the request, since no update of that batch has been handled yet.
        self.waiting = False

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        bot = get_bot()
        offset = None
        unconfirmed = False
        backoff = 1.0
        while not self.stopped.is_set():
            try:
                self.waiting = True
                updates = bot.get_updates(
                    offset=offset,
                    timeout=self.poll_timeout + 10,
                    long_polling_timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except apihelper.ApiTelegramException as exc:
                self._raise_fatal(exc)
                log.warning("Telegram refused getUpdates (%s); retrying in %.0fs", exc, backoff)
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except (apihelper.ApiException, requests.RequestException) as exc:
                log.warning(
                    "Telegram unreachable (%s); retrying in %.0fs", redact(str(exc)), backoff
                )
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            finally:
                self.waiting = False
            backoff = 1.0
            unconfirmed = False
            for update in updates:
                process_updates([update])
                offset = update.update_id + 1
                unconfirmed = True
                if self.stopped.is_set():
                    break
        if unconfirmed:
            self._confirm(bot, offset)

    @staticmethod
    def _raise_fatal(exc: apihelper.ApiTelegramException) -> None:
        if exc.error_code == 409:
            raise PollingConflict(exc.description) from None
        if exc.error_code in (401, 404):
            raise TokenRejected(exc.description) from None

    @staticmethod
    def _confirm(bot, offset: int) -> None:
        # getUpdates with a higher offset is how Telegram learns the earlier updates
        # were handled; without it the next run would handle them again.
        try:
            bot.get_updates(offset=offset, limit=1, timeout=5, long_polling_timeout=1)
        except (apihelper.ApiException, requests.RequestException) as exc:
            log.warning("could not confirm the last updates to Telegram: %s", redact(str(exc)))
