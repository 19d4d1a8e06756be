"""The wallet: balance, and topping it up by card receipt (preset or typed amount)."""

import logging
import re

from django.conf import settings
from django.utils import timezone

from billing import services as billing
from botapp import keyboards, texts
from botapp.context import (
    Ctx,
    forget_pending_input,
)
from botapp.models import PendingInput

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)


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
    history = list(billing.wallet_history(user=ctx.user))
    ctx.show(texts.wallet(ctx.user.balance, history), keyboards.wallet())


def show_topup(ctx: Ctx) -> None:
    low, high = _topup_bounds()
    presets = [amount for amount in settings.TOPUP_PRESET_AMOUNTS if low <= amount <= high]
    ctx.show(texts.choose_topup(low, high), keyboards.topup_amounts(presets))


def ask_topup_amount(ctx: Ctx) -> None:
    PendingInput.objects.update_or_create(
        user=ctx.user,
        defaults={
            "kind": PendingInput.Kind.TOPUP_AMOUNT,
            "order": None,
            "created_at": timezone.now(),
        },
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
    forget_pending_input(ctx.user)
    _start_topup(ctx, amount)


def _start_topup(ctx: Ctx, amount: int) -> None:
    card = billing.bank_card_for_payment()
    if card is None:
        ctx.answer(texts.no_card(), alert=True)
        ctx.show(texts.no_card(), keyboards.back_to_menu())
        return
    order = billing.order_create_topup(user=ctx.user, amount=amount)
    ctx.show(texts.topup_by_card(order, card), keyboards.awaiting_receipt(order))
