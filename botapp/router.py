"""The bot's one router: this process's bot with every conversation's handlers on it.

botapp.telegram is the transport (sending, used by every layer that talks to Telegram);
this module wires the update handlers (botapp.handlers and the conversations it routes
to) onto the same bot. Whoever processes updates (webhook view, polling, set_webhook)
takes the bot from here.
"""

import threading

from telebot import TeleBot

from botapp import telegram as tg
from botapp.handlers import register

_lock = threading.Lock()
_registered: set[int] = set()


def get_bot() -> TeleBot:
    bot = tg.get_bot()
    if id(bot) not in _registered:
        with _lock:
            if id(bot) not in _registered:
                register(bot)
                _registered.add(id(bot))
    return bot
