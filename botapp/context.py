"""What every conversation's handler gets: who pressed what, and how to answer."""

from dataclasses import dataclass
from datetime import timedelta

from botapp import telegram as tg
from botapp import texts
from botapp.models import PendingInput
from panels.models import ClientAccount

PENDING_INPUT_TTL = timedelta(minutes=30)
RECENT_ORDER = timedelta(days=1)


@dataclass
class Ctx:
    """Who we are talking to, and where the pressed button was."""

    user: object
    chat_id: int
    message_id: int | None = None  # the bot's message carrying the pressed button
    query_id: str | None = None
    answered: bool = False
    new_customer: bool = False  # this update created the customer (invite links bind then)

    def show(self, text: str, markup=None) -> None:
        """Turn the pressed button's message into this one, or send a new message."""
        if self.message_id and tg.edit_message(self.chat_id, self.message_id, text, markup):
            return
        tg.send_message(self.chat_id, text, markup)

    def send(self, text: str, markup=None) -> None:
        tg.send_message(self.chat_id, text, markup)

    def answer(self, text: str | None = None, alert: bool = False, now: bool = False) -> None:
        """Answer the button press (once; it stops the button's spinner).

        In webhook mode the answer rides on the webhook's HTTP response unless ``now``:
        one round trip to Telegram fewer per press.
        """
        if self.query_id and not self.answered:
            self.answered = True
            tg.answer_callback(self.query_id, str(text) if text else None, alert, now=now)


def own_account(ctx: Ctx, account_id: int) -> ClientAccount | None:
    """The customer's own account, or None after telling them it is not theirs."""
    account = (
        ClientAccount.objects.select_related("plan", "panel", "inbound")
        .filter(pk=account_id)
        .first()
    )
    if account is None or account.user_id != ctx.user.pk:
        ctx.answer(texts.not_yours(), alert=True)
        return None
    return account


def pending_input(user) -> PendingInput | None:
    """What the customer was asked to type, if anything.

    A user read by handlers.CUSTOMER carries ``pending_input_pk``: None means nothing
    is pending, with no query spent on finding that out.
    """
    if getattr(user, "pending_input_pk", 0) is None:
        return None
    try:
        return user.pending_input
    except PendingInput.DoesNotExist:
        return None


def forget_pending_input(user) -> None:
    pending = pending_input(user)
    if pending is not None:
        pending.delete()
        user.pending_input = None
        user.pending_input_pk = None
