"""Operators reviewing receipts in Telegram: approve, reject with a reason."""

import logging

from django.utils import translation

from billing import services as billing
from billing.models import Receipt
from botapp import keyboards, notify, texts
from botapp import telegram as tg
from botapp.context import (
    Ctx,
)

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)


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
