"""Telegram updates → services → answers. No decisions about money live here.

Every step's state is in the button's callback data (botapp.callbacks) or in a row
(an order awaiting its receipt, a PendingInput), so any worker can handle any update
and a restart loses nothing. The entry points (on_message, on_callback) catch
whatever goes wrong below them: it is logged and the customer reads a short apology
in their language, never a traceback.
"""

import logging

from django.conf import settings
from django.db.models import F
from django.utils import timezone, translation

from accounts.models import User
from accounts.services import customer_register, referral_bind
from botapp import keyboards, renewal, texts
from botapp import telegram as tg
from botapp.callbacks import InvalidCallback, decode
from botapp.context import (
    PENDING_INPUT_TTL,
    Ctx,
    forget_pending_input,
    pending_input,
)
from botapp.conversations import (
    buy,
    discount,
    invite,
    menu,
    receipts,
    review,
    services,
    trial,
    wallet,
)
from botapp.models import PendingInput
from moonvpn.queries import PreparedLookup

log = logging.getLogger(__name__)

OPERATOR_ACTIONS = {"approve", "reject", "reject_reason", "review"}


# Every update needs to know whether a typed answer is expected: the same query says
# (botapp.context.pending_input reads the row only when there is one).
CUSTOMER = PreparedLookup(
    lambda telegram_id: User.objects.annotate(pending_input_pk=F("pending_input__pk")).filter(
        telegram_id=telegram_id
    )
)


def _customer(from_user, *, with_created=False):
    user, created = customer_register(
        telegram_id=from_user.id,
        first_name=from_user.first_name or "",
        last_name=from_user.last_name or "",
        username=from_user.username or "",
        language_code=from_user.language_code,
        lookup=CUSTOMER,
    )
    return (user, created) if with_created else user


def _apologise(ctx: Ctx | None, chat_id: int, language: str) -> None:
    try:
        with translation.override(language):
            if ctx is not None and ctx.query_id and not ctx.answered:
                ctx.answer(texts.something_went_wrong(), alert=True)
            else:
                tg.send_message(chat_id, texts.something_went_wrong())
    except Exception:
        log.exception("could not even apologise to chat %s", chat_id)


def _fallback_language(from_user) -> str:
    code = (getattr(from_user, "language_code", "") or "").lower()
    return "fa" if code.startswith("fa") else "en"


# --- entry points ---------------------------------------------------------------------


def on_message(message) -> None:
    if message.chat.type != "private" or message.from_user is None:
        return
    ctx = None
    language = _fallback_language(message.from_user)
    try:
        user, created = _customer(message.from_user, with_created=True)
        language = user.language
        ctx = Ctx(user=user, chat_id=message.chat.id, new_customer=created)
        with translation.override(language):
            if user.is_blocked:
                ctx.send(texts.blocked())
                return
            _route_message(ctx, message)
    except Exception:
        log.exception("message %s from %s failed", message.message_id, message.from_user.id)
        _apologise(ctx, message.chat.id, language)


def _button_chat(query) -> tuple[int, int | None]:
    """Where to answer a press: the presser's own chat, never one an update names.

    A forged update can put any chat in ``message``; only a message in the presser's
    private chat (or, for an operator, in an operators' chat) is edited in place.
    """
    presser = query.from_user.id
    message = query.message
    if message is None:
        return presser, None
    chat = message.chat.id
    admins = settings.ADMIN_TELEGRAM_IDS
    if chat == presser or (chat in admins and presser in admins):
        return chat, message.message_id
    return presser, None


def on_callback(query) -> None:
    chat_id, message_id = _button_chat(query)
    ctx = None
    language = _fallback_language(query.from_user)
    try:
        user = _customer(query.from_user)
        language = user.language
        ctx = Ctx(user=user, chat_id=chat_id, message_id=message_id, query_id=query.id)
        with translation.override(language):
            _route_callback(ctx, query.data)
            ctx.answer()
    except Exception:
        log.exception("button %r from %s failed", query.data, query.from_user.id)
        _apologise(ctx, chat_id, language)
        if ctx is None:
            tg.answer_callback(query.id)


def on_chat_member(update) -> None:
    # "kicked" in a private chat: the customer blocked the bot; "member": unblocked.
    if update.chat.type != "private":
        return
    status = update.new_chat_member.status
    if status in ("kicked", "member"):
        User.objects.filter(telegram_id=update.from_user.id).update(
            has_blocked_bot=status == "kicked"
        )


def _route_callback(ctx: Ctx, data: str) -> None:
    if ctx.user.is_blocked:
        ctx.answer(texts.blocked(), alert=True)
        return
    try:
        callback = decode(data)
    except InvalidCallback:
        ctx.answer(texts.invalid_button())
        ctx.show(texts.menu(ctx.user), keyboards.menu())
        return
    if callback.action in OPERATOR_ACTIONS:
        if ctx.user.telegram_id not in settings.ADMIN_TELEGRAM_IDS:
            ctx.answer(texts.operators_only(), alert=True)
            return
    elif callback.action != "topup_type":
        # Any other button means the customer moved on from typing an amount.
        forget_pending_input(ctx.user)
    ROUTES[callback.action](ctx, *callback.args)


def _route_message(ctx: Ctx, message) -> None:
    kind = message.content_type
    if kind == "photo" or (kind == "document" and receipts.is_image_document(message.document)):
        receipts.on_receipt_image(ctx, message)
        return
    text = (message.text or "").strip() if kind == "text" else ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0].split("@", 1)[0].lower()
        forget_pending_input(ctx.user)
        if command == "/start" and ctx.new_customer:
            argument = text.split(maxsplit=1)[1] if " " in text else ""
            if argument.startswith("ref-"):
                # Only a customer this very update created is bound, never rebound.
                referral_bind(user=ctx.user, code=argument[4:])
        if command == "/help":
            ctx.send(texts.help_text(), keyboards.back_to_menu())
        else:  # /start, /menu and anything else: the menu
            ctx.send(texts.menu(ctx.user), keyboards.menu())
        return
    if text:
        pending = pending_input(ctx.user)
        if pending is not None and timezone.now() - pending.created_at < PENDING_INPUT_TTL:
            if pending.kind == PendingInput.Kind.DISCOUNT_CODE:
                discount.on_typed_discount_code(ctx, pending, text)
            else:
                wallet.on_typed_topup(ctx, pending, text)
            return
    if receipts.order_awaiting_receipt(ctx.user) is not None:
        ctx.send(texts.send_a_photo())
        return
    ctx.send(texts.menu(ctx.user), keyboards.menu())


ROUTES = {
    "menu": menu.show_menu,
    "buy": buy.show_plans,
    "plan": buy.show_locations,
    "location": buy.show_protocols,
    "protocol": buy.show_summary,
    "pay_wallet": buy.pay_from_wallet,
    "pay_receipt": buy.pay_by_receipt,
    "cancel": buy.cancel_order,
    "services": services.show_services,
    "account": services.show_account,
    "resend": services.resend_account,
    "sub_new": services.new_subscription_link,
    "wallet": wallet.show_wallet,
    "topup": wallet.show_topup,
    "topup_amount": wallet.topup_preset,
    "topup_type": wallet.ask_topup_amount,
    "help": menu.show_help,
    "trial": trial.start_trial,
    "discount": discount.ask_discount_code,
    "order": discount.show_order_again,
    "invite": invite.show_invite,
    "joined": trial.joined,
    "language": menu.show_languages,
    "set_language": menu.set_language,
    "approve": review.review_approve,
    "reject": review.review_reject,
    "reject_reason": review.review_reject_with,
    "review": review.review_back,
}
# Renewals and add-ons: botapp.renewal (Renew / add-on buttons on an account and reminders).
ROUTES.update(renewal.ROUTES)
