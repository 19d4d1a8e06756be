"""A discount code on the order summary: asked for, typed (the ask is a DB row), applied."""

from django.utils import timezone

from billing import services as billing
from billing.models import Order
from botapp import keyboards, texts
from botapp.context import Ctx, forget_pending_input
from botapp.conversations import buy
from botapp.models import PendingInput


def _own_pending_order(ctx: Ctx, order_id: int) -> Order | None:
    order = (
        Order.objects.select_related("plan", "panel", "inbound", "discount_code")
        .filter(pk=order_id)
        .first()
    )
    if order is None or order.user_id != ctx.user.pk:
        ctx.answer(texts.not_yours(), alert=True)
        return None
    if order.status != Order.Status.PENDING:
        ctx.answer(texts.invalid_button(), alert=True)
        return None
    return order


def ask_discount_code(ctx: Ctx, order_id: int) -> None:
    order = _own_pending_order(ctx, order_id)
    if order is None:
        return
    # What the next typed text means lives in the database, not in this process.
    PendingInput.objects.update_or_create(
        user=ctx.user,
        defaults={
            "kind": PendingInput.Kind.DISCOUNT_CODE,
            "order": order,
            "created_at": timezone.now(),
        },
    )
    ctx.show(texts.type_discount_code(), keyboards.back_to_order(order))


def on_typed_discount_code(ctx: Ctx, pending: PendingInput, text: str) -> None:
    order_id = pending.order_id
    forget_pending_input(ctx.user)
    if order_id is None:
        ctx.send(texts.menu(ctx.user), keyboards.menu())
        return
    note = texts.discount_applied()
    try:
        billing.order_apply_discount(order_id=order_id, user_id=ctx.user.pk, code=text)
    except billing.DiscountRejected as exc:
        note = texts.discount_rejected(exc)
    except billing.OrderNotPayable as exc:
        ctx.send(texts.discount_rejected(exc), keyboards.back_to_menu())
        return
    order = Order.objects.select_related("plan", "panel", "inbound", "discount_code").get(
        pk=order_id
    )
    buy.show_order(ctx, order, note=note, new_message=True)


def show_order_again(ctx: Ctx, order_id: int) -> None:
    order = _own_pending_order(ctx, order_id)
    if order is not None:
        buy.show_order(ctx, order)
