"""Telegram updates → services → answers. No decisions about money live here.

Every step's state is in the button's callback data (botapp.callbacks) or in a row
(an order awaiting its receipt, a PendingInput), so any worker can handle any update
and a restart loses nothing. The entry points (on_message, on_callback) catch
whatever goes wrong below them: it is logged and the customer reads a short apology
in their language, never a traceback.
"""

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from telebot import util

from accounts.models import User
from accounts.services import customer_register, customer_set_language
from billing import services as billing
from billing.models import Order, Receipt
from billing.receipt_images import (
    ReceiptImageRefused,
    ReceiptImageUnreadable,
    receipt_image_clean,
)
from botapp import keyboards, notify, renewal, texts
from botapp import telegram as tg
from botapp.callbacks import InvalidCallback, decode
from botapp.context import Ctx, own_account
from botapp.models import PendingInput
from panels.lifecycle import LifecycleError
from panels.models import ClientAccount
from panels.services import panel_client
from panels.xui import PanelError

log = logging.getLogger(__name__)

PENDING_INPUT_TTL = timedelta(minutes=30)
RECENT_ORDER = timedelta(days=1)
OPERATOR_ACTIONS = {"approve", "reject", "reject_reason", "review"}


def register(bot) -> None:
    bot.message_handler(func=lambda m: True, content_types=util.content_type_media)(on_message)
    bot.callback_query_handler(func=lambda q: True)(on_callback)
    bot.my_chat_member_handler(func=lambda u: True)(on_chat_member)


def _customer(from_user):
    user, _created = customer_register(
        telegram_id=from_user.id,
        first_name=from_user.first_name or "",
        last_name=from_user.last_name or "",
        username=from_user.username or "",
        language_code=from_user.language_code,
        # Every update needs to know whether a typed answer is expected: same query.
        select_related=("pending_input",),
    )
    return user


def _pending_input(user) -> PendingInput | None:
    try:
        return user.pending_input
    except PendingInput.DoesNotExist:
        return None


def _forget_pending_input(user) -> None:
    pending = _pending_input(user)
    if pending is not None:
        pending.delete()
        user.pending_input = None


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
        user = _customer(message.from_user)
        language = user.language
        ctx = Ctx(user=user, chat_id=message.chat.id)
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
        _forget_pending_input(ctx.user)
    ROUTES[callback.action](ctx, *callback.args)


def _route_message(ctx: Ctx, message) -> None:
    kind = message.content_type
    if kind == "photo" or (kind == "document" and _is_image_document(message.document)):
        on_receipt_image(ctx, message)
        return
    text = (message.text or "").strip() if kind == "text" else ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0].split("@", 1)[0].lower()
        _forget_pending_input(ctx.user)
        if command == "/help":
            ctx.send(texts.help_text(), keyboards.back_to_menu())
        else:  # /start, /menu and anything else: the menu
            ctx.send(texts.menu(ctx.user), keyboards.menu())
        return
    if text:
        pending = _pending_input(ctx.user)
        if pending is not None and timezone.now() - pending.created_at < PENDING_INPUT_TTL:
            on_typed_topup(ctx, pending, text)
            return
    if _order_awaiting_receipt(ctx.user) is not None:
        ctx.send(texts.send_a_photo())
        return
    ctx.send(texts.menu(ctx.user), keyboards.menu())


# --- menu, help, language ---------------------------------------------------------------


def show_menu(ctx: Ctx) -> None:
    ctx.show(texts.menu(ctx.user), keyboards.menu())


def show_help(ctx: Ctx) -> None:
    ctx.show(texts.help_text(), keyboards.back_to_menu())


def show_languages(ctx: Ctx) -> None:
    ctx.show(texts.choose_language(), keyboards.languages())


def set_language(ctx: Ctx, code: str) -> None:
    if code not in ("fa", "en"):
        ctx.answer(texts.invalid_button())
        return
    customer_set_language(user=ctx.user, language=code)
    with translation.override(code):
        ctx.answer(texts.language_set())
        ctx.show(texts.menu(ctx.user), keyboards.menu())


# --- buying -----------------------------------------------------------------------------


def _stale(ctx: Ctx, reason) -> None:
    """A button from an old message: say why, and offer what is on sale now."""
    plans = list(billing.plans_for_sale())
    if plans:
        ctx.show(texts.choose_again(reason) + "\n\n" + texts.choose_plan(), keyboards.plans(plans))
    else:
        ctx.show(texts.choose_again(reason) + "\n\n" + texts.no_plans(), keyboards.back_to_menu())


def _plan_for_sale(ctx: Ctx, plan_id: int):
    plan = billing.plans_for_sale().filter(pk=plan_id).first()
    if plan is None:
        _stale(ctx, texts.STALE_PLAN)
    return plan


def show_plans(ctx: Ctx) -> None:
    plans = list(billing.plans_for_sale())
    if not plans:
        ctx.show(texts.no_plans(), keyboards.back_to_menu())
        return
    ctx.show(texts.choose_plan(), keyboards.plans(plans))


def show_locations(ctx: Ctx, plan_id: int) -> None:
    plan = _plan_for_sale(ctx, plan_id)
    if plan is None:
        return
    panels = list(billing.panels_for_sale(plan=plan))
    if not panels:
        ctx.show(texts.no_locations(), keyboards.plans(list(billing.plans_for_sale())))
        return
    ctx.show(texts.choose_location(plan), keyboards.locations(plan, panels))


def show_protocols(ctx: Ctx, plan_id: int, panel_id: int) -> None:
    plan = _plan_for_sale(ctx, plan_id)
    if plan is None:
        return
    panel = billing.panels_for_sale(plan=plan).filter(pk=panel_id).first()
    inbounds = list(billing.inbounds_for_sale(plan=plan, panel=panel)) if panel else []
    if not inbounds:
        _stale(ctx, texts.STALE_LOCATION)
        return
    ctx.show(texts.choose_protocol(plan, panel), keyboards.protocols(plan, inbounds))


def show_summary(ctx: Ctx, plan_id: int, inbound_id: int) -> None:
    plan = _plan_for_sale(ctx, plan_id)
    if plan is None:
        return
    inbound = (
        billing.inbounds_for_sale(plan=plan).filter(pk=inbound_id).select_related("panel").first()
    )
    if inbound is None:
        _stale(ctx, texts.STALE_PROTOCOL)
        return
    order = billing.order_create_new(user=ctx.user, plan=plan, inbound=inbound)
    _show_order(ctx, order)


def _show_order(ctx: Ctx, order: Order) -> None:
    if order.kind in (Order.Kind.RENEW, Order.Kind.ADDON):
        renewal.show_order(ctx, order)  # the same payment buttons, its own summary
        return
    balance = ctx.user.balance
    ctx.show(
        texts.summary(order, balance),
        keyboards.summary(order, can_pay_from_wallet=balance >= order.amount),
    )


def _own_order(ctx: Ctx, order_id: int) -> Order | None:
    order = Order.objects.select_related("plan", "panel", "inbound").filter(pk=order_id).first()
    if order is None or order.user_id != ctx.user.pk:
        # Never say whether someone else's order exists.
        ctx.answer(texts.not_yours(), alert=True)
        return None
    return order


def pay_from_wallet(ctx: Ctx, order_id: int) -> None:
    # The service checks, under the customer's lock, that the order is theirs.
    try:
        order = billing.order_pay_from_wallet(order_id=order_id, user_id=ctx.user.pk)
    except Order.DoesNotExist:
        ctx.answer(texts.not_yours(), alert=True)
        return
    except billing.NoLongerForSale as exc:
        _stale(ctx, exc)
        return
    except billing.InsufficientFunds:
        order = _own_order(ctx, order_id)
        ctx.user.refresh_from_db(fields=["balance"])
        ctx.answer(texts.not_enough_balance(order, ctx.user.balance), alert=True)
        _show_order(ctx, order)
        return
    except billing.OrderNotYours:
        ctx.answer(texts.not_yours(), alert=True)
        return
    except billing.OrderNotPayable as exc:
        ctx.answer(str(exc), alert=True)
        return
    ctx.show(texts.paid_from_wallet(order))
    # Stop the button's spinner now, not after the (possibly slow) panel call.
    ctx.answer(now=True)
    notify.provision_and_notify(order.pk)


def pay_by_receipt(ctx: Ctx, order_id: int) -> None:
    order = _own_order(ctx, order_id)
    if order is None:
        return
    card = billing.bank_card_for_payment()
    if card is None:
        ctx.answer(texts.no_card(), alert=True)
        return
    try:
        order = billing.order_await_receipt(order_id=order.pk, user_id=ctx.user.pk)
    except billing.NoLongerForSale as exc:
        _stale(ctx, exc)
        return
    except billing.OrderNotPayable as exc:
        ctx.answer(str(exc), alert=True)
        return
    ctx.show(texts.pay_by_card(order, card), keyboards.awaiting_receipt(order))


def cancel_order(ctx: Ctx, order_id: int) -> None:
    order = _own_order(ctx, order_id)
    if order is None:
        return
    try:
        billing.order_cancel(order_id=order.pk, user_id=ctx.user.pk)
    except billing.OrderNotPayable as exc:
        ctx.answer(str(exc), alert=True)
        return
    ctx.show(texts.order_cancelled(order) + "\n\n" + texts.menu(ctx.user), keyboards.menu())


# --- receipts ---------------------------------------------------------------------------


def _is_image_document(document) -> bool:
    return bool(document and (document.mime_type or "").lower().startswith("image/"))


def _order_awaiting_receipt(user) -> Order | None:
    # A rejected receipt leaves its order waiting; prefer orders with no receipt in review.
    in_review = Receipt.objects.filter(order=OuterRef("pk"), status=Receipt.Status.PENDING)
    return (
        Order.objects.filter(user=user, status=Order.Status.AWAITING_RECEIPT)
        .annotate(in_review=Exists(in_review))
        .order_by("in_review", "-updated_at", "-pk")
        .first()
    )


def _explain_no_receipt_order(ctx: Ctx) -> None:
    # The photo is most likely meant for the order the customer last dealt with.
    recent = (
        Order.objects.filter(user=ctx.user, updated_at__gte=timezone.now() - RECENT_ORDER)
        .exclude(status=Order.Status.PENDING)
        .order_by("-updated_at", "-pk")
        .first()
    )
    if recent is not None and recent.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
        ctx.send(texts.receipt_for_cancelled(recent), keyboards.menu())
    elif recent is not None and recent.status in (
        Order.Status.PAID,
        Order.Status.FULFILLED,
        Order.Status.REFUNDED,
    ):
        ctx.send(texts.receipt_for_paid(recent), keyboards.menu())
    else:
        ctx.send(texts.no_order_awaits_receipt(), keyboards.menu())


def on_receipt_image(ctx: Ctx, message) -> None:
    order = _order_awaiting_receipt(ctx.user)
    if order is None:
        _explain_no_receipt_order(ctx)
        return
    if message.content_type == "photo":
        largest = message.photo[-1]
        file_id, unique_id = largest.file_id, largest.file_unique_id
    else:
        file_id, unique_id = message.document.file_id, message.document.file_unique_id
    limit = settings.RECEIPT_MAX_BYTES
    try:
        data = tg.download(file_id, max_bytes=limit)
        if data is None:
            ctx.send(texts.unreadable_image())
            return
        image = receipt_image_clean(data, max_pixels=settings.RECEIPT_MAX_PIXELS)
    except tg.FileTooBig:
        reason = _("the file is larger than %(megabytes)s MB.") % {
            "megabytes": max(limit // (1024 * 1024), 1)
        }
        ctx.send(texts.receipt_refused(order, reason))
        return
    except ReceiptImageUnreadable:
        ctx.send(texts.unreadable_image())
        return
    except ReceiptImageRefused as exc:
        ctx.send(texts.receipt_refused(order, exc))
        return
    data, extension = image.data, image.extension
    try:
        receipt = billing.receipt_submit(
            order=order,
            image_name=f"order{order.pk}-{uuid.uuid4().hex[:8]}.{extension}",
            image_bytes=data,
            file_unique_id=unique_id or "",
        )
    except billing.OrderNotPayable:
        order.refresh_from_db()
        if order.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
            ctx.send(texts.receipt_for_cancelled(order), keyboards.menu())
        else:
            ctx.send(texts.receipt_for_paid(order), keyboards.menu())
        return
    except billing.BillingError as exc:
        ctx.send(texts.receipt_refused(order, exc))
        return
    ctx.send(texts.receipt_received(order), keyboards.back_to_menu())
    # A photo's file_id can be sent on as a photo; an image document's cannot.
    notify.receipt_to_operators(receipt, photo=file_id if message.content_type == "photo" else data)


# --- the wallet -------------------------------------------------------------------------

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_GROUPED = re.compile(r"[0-9]{1,3}(?:[,٬،.' _’][0-9]{3})+")
_CURRENCY = re.compile(r"(تومان|toman|tomans|t)$", re.IGNORECASE)


def parse_amount(text: str) -> int | None:
    """A typed whole number of Toman, Persian or Latin digits, thousands separators allowed."""
    text = _CURRENCY.sub("", text.translate(_DIGITS).strip()).strip()
    if re.fullmatch(r"[0-9]{1,15}", text):
        return int(text)
    if _GROUPED.fullmatch(text):
        return int(re.sub(r"[^0-9]", "", text))
    return None


def _topup_bounds() -> tuple[int, int]:
    return settings.TOPUP_MIN_AMOUNT, settings.TOPUP_MAX_AMOUNT


def show_wallet(ctx: Ctx) -> None:
    ctx.show(texts.wallet(ctx.user.balance), keyboards.wallet())


def show_topup(ctx: Ctx) -> None:
    low, high = _topup_bounds()
    presets = [amount for amount in settings.TOPUP_PRESET_AMOUNTS if low <= amount <= high]
    ctx.show(texts.choose_topup(low, high), keyboards.topup_amounts(presets))


def ask_topup_amount(ctx: Ctx) -> None:
    PendingInput.objects.update_or_create(
        user=ctx.user,
        defaults={"kind": PendingInput.Kind.TOPUP_AMOUNT, "created_at": timezone.now()},
    )
    ctx.show(texts.type_topup(*_topup_bounds()))


def topup_preset(ctx: Ctx, amount: int) -> None:
    low, high = _topup_bounds()
    if not low <= amount <= high:
        ctx.answer(texts.invalid_button())
        show_topup(ctx)
        return
    _start_topup(ctx, amount)


def on_typed_topup(ctx: Ctx, pending: PendingInput, text: str) -> None:
    low, high = _topup_bounds()
    amount = parse_amount(text)
    if amount is None or not low <= amount <= high:
        ctx.send(texts.bad_topup(low, high))
        return
    _forget_pending_input(ctx.user)
    _start_topup(ctx, amount)


def _start_topup(ctx: Ctx, amount: int) -> None:
    card = billing.bank_card_for_payment()
    if card is None:
        ctx.answer(texts.no_card(), alert=True)
        ctx.show(texts.no_card(), keyboards.back_to_menu())
        return
    order = billing.order_create_topup(user=ctx.user, amount=amount)
    ctx.show(texts.topup_by_card(order, card), keyboards.awaiting_receipt(order))


# --- my services ------------------------------------------------------------------------


def show_services(ctx: Ctx) -> None:
    accounts = list(
        ClientAccount.objects.filter(user=ctx.user)
        .exclude(status=ClientAccount.Status.DELETED)
        .select_related("panel", "inbound")
        .order_by("-created_at")[:30]
    )
    if not accounts:
        ctx.show(texts.no_services(), keyboards.back_to_menu())
        return
    ctx.show(texts.services_title(), keyboards.services(accounts))


def _ms(value) -> datetime | None:
    try:
        value = int(value or 0)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value > 0 else None


def live_usage(account: ClientAccount) -> dict | None:
    """What the panel says now, or None when it cannot say (down, or client gone)."""
    try:
        stats = panel_client(account.panel).get_client_traffic(account.email)
    except PanelError as exc:
        log.info("usage of %s unavailable: %s", account.email, exc)
        return None
    if not isinstance(stats, dict):
        return None
    return {
        "used": int(stats.get("up") or 0) + int(stats.get("down") or 0),
        "total": int(stats.get("total") or 0),
        "expires_at": _ms(stats.get("expiryTime")) or account.expires_at,
        "enabled": bool(stats.get("enable", True)),
    }


def show_account(ctx: Ctx, account_id: int) -> None:
    account = own_account(ctx, account_id)
    if account is None:
        return
    ctx.answer(now=True)  # the panel may take a moment
    ctx.show(texts.account_page(account, live_usage(account)), keyboards.account(account))


def resend_account(ctx: Ctx, account_id: int) -> None:
    account = own_account(ctx, account_id)
    if account is None:
        return
    account.user = ctx.user
    try:
        notify.account_resend_config(account=account, actor=ctx.user)
    except LifecycleError:
        # The same rule as the console: a deleted account's config no longer works.
        ctx.answer(_("This service was deleted; buy a new one from the menu."), alert=True)
        return
    ctx.answer()


# --- operators --------------------------------------------------------------------------


def _receipt(ctx: Ctx, receipt_id: int) -> Receipt | None:
    receipt = (
        Receipt.objects.select_related(
            "order__plan", "order__panel", "order__inbound", "user", "duplicate_of"
        )
        .filter(pk=receipt_id)
        .first()
    )
    if receipt is None:
        ctx.answer(texts.invalid_button(), alert=True)
    return receipt


def _close_review(ctx: Ctx, receipt: Receipt) -> None:
    receipt = _receipt(ctx, receipt.pk)
    caption = texts.receipt_for_operators(receipt)
    if receipt.status != Receipt.Status.PENDING:
        caption += "\n\n" + texts.reviewed_by(receipt, receipt.reviewed_by)
    if ctx.message_id:
        tg.edit_caption(ctx.chat_id, ctx.message_id, caption)


def review_approve(ctx: Ctx, receipt_id: int) -> None:
    receipt = _receipt(ctx, receipt_id)
    if receipt is None:
        return
    try:
        receipt = billing.receipt_approve(receipt_id=receipt.pk, reviewer=ctx.user)
    except billing.ReceiptAlreadyReviewed:
        ctx.answer(texts.already_reviewed(), alert=True)
        _close_review(ctx, receipt)
        return
    ctx.answer()
    _close_review(ctx, receipt)
    notify.receipt_follow_up(receipt)


def review_reject(ctx: Ctx, receipt_id: int) -> None:
    receipt = _receipt(ctx, receipt_id)
    if receipt is None:
        return
    if receipt.status != Receipt.Status.PENDING:
        ctx.answer(texts.already_reviewed(), alert=True)
        _close_review(ctx, receipt)
        return
    _edit_review_buttons(ctx, keyboards.reject_reasons(receipt))


def review_back(ctx: Ctx, receipt_id: int) -> None:
    receipt = _receipt(ctx, receipt_id)
    if receipt is not None and receipt.status == Receipt.Status.PENDING:
        _edit_review_buttons(ctx, keyboards.review(receipt))


def _edit_review_buttons(ctx: Ctx, markup) -> None:
    if ctx.message_id:
        tg.edit_markup(ctx.chat_id, ctx.message_id, markup)


def review_reject_with(ctx: Ctx, receipt_id: int, code: str) -> None:
    receipt = _receipt(ctx, receipt_id)
    if receipt is None:
        return
    if code not in texts.REJECT_REASONS:
        ctx.answer(texts.invalid_button(), alert=True)
        return
    # The customer reads the reason: store it in their language.
    with translation.override(receipt.user.language):
        reason = str(texts.REJECT_REASONS[code])
    try:
        receipt = billing.receipt_reject(receipt_id=receipt.pk, reviewer=ctx.user, reason=reason)
    except billing.ReceiptAlreadyReviewed:
        ctx.answer(texts.already_reviewed(), alert=True)
        _close_review(ctx, receipt)
        return
    ctx.answer()
    _close_review(ctx, receipt)
    notify.receipt_follow_up(receipt)


ROUTES = {
    "menu": show_menu,
    "buy": show_plans,
    "plan": show_locations,
    "location": show_protocols,
    "protocol": show_summary,
    "pay_wallet": pay_from_wallet,
    "pay_receipt": pay_by_receipt,
    "cancel": cancel_order,
    "services": show_services,
    "account": show_account,
    "resend": resend_account,
    "wallet": show_wallet,
    "topup": show_topup,
    "topup_amount": topup_preset,
    "topup_type": ask_topup_amount,
    "help": show_help,
    "language": show_languages,
    "set_language": set_language,
    "approve": review_approve,
    "reject": review_reject,
    "reject_reason": review_reject_with,
    "review": review_back,
}
# Renewals and add-ons: botapp.renewal (Renew / add-on buttons on an account and reminders).
ROUTES.update(renewal.ROUTES)
