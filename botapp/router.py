"""The bot's one router: which handler takes each kind of update.

Telegram sends us three kinds (polling asks for just these, ``ALLOWED_UPDATES``): a
message, a button press, and the customer blocking or unblocking the bot. Each goes
straight to its entry point in botapp.handlers, which routes on to the conversations
(botapp/conversations/). telebot parses updates and sends; its handler registry is
not used, since a filter and a middleware pass per update bought nothing here.
The webhook and polling both come in through botapp.updates.
"""

from telebot import types, util

from botapp.handlers import on_callback, on_chat_member, on_message

# Messages of other kinds (service messages: a pinned message, a new chat title) are
# not the customer talking to us, and are ignored.
MESSAGE_TYPES = frozenset(util.content_type_media)


def route(update: types.Update) -> None:
    """Hand one parsed update to its handler (the handlers never raise)."""
    if update.message is not None:
        if update.message.content_type in MESSAGE_TYPES:
            on_message(update.message)
    elif update.callback_query is not None:
        on_callback(update.callback_query)
    elif update.my_chat_member is not None:
        on_chat_member(update.my_chat_member)
