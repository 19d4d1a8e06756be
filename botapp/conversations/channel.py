"""The required channel: with REQUIRED_CHANNEL set, buying and the trial ask to join first."""

import logging

from django.conf import settings

from botapp import keyboards, texts
from botapp import telegram as tg
from botapp.context import Ctx

log = logging.getLogger(__name__)


def channel_gate(ctx: Ctx, then: str) -> bool:
    """True when the customer may go on; otherwise shows Join / I joined and returns False.

    ``then`` ("buy" or "trial") is where "I joined" continues. When Telegram cannot
    tell (the bot is not an admin of the channel, Telegram is down) the customer is
    let through: a setting mistake must not stop every sale.
    """
    channel = settings.REQUIRED_CHANNEL
    if not channel:
        return True
    member = tg.is_channel_member(channel, ctx.user.telegram_id)
    if member is None:
        log.warning("could not check membership of %s in %s", ctx.user.telegram_id, channel)
        return True
    if member:
        return True
    url = f"https://t.me/{channel.lstrip('@')}"
    ctx.show(texts.join_channel(channel), keyboards.join_channel(url, then))
    return False
