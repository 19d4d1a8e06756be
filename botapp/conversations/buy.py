"""Buying a service: plan → location → protocol → summary → pay (wallet or receipt)."""

import logging

from billing import selectors
from billing import services as billing
from billing.catalogue import catalogue
from billing.models import Order
from billing.placement import location_inbounds, one_per_location
from botapp import keyboards, notify, renewal, texts
from botapp.context import (
    Ctx,
)
from botapp.conversations.channel import channel_gate

log = logging.getLogger(__name__)


def _stale(ctx: Ctx, reason) -> None:
    """A button from an old message: say why, and offer what is on sale now."""
    plans = list(catalogue(fresh=True).plans)
    if plans:
        ctx.show(texts.choose_again(reason) + "\n\n" + texts.choose_plan(), keyboards.plans(plans))
    else:
        ctx.show(texts.choose_again(reason) + "\n\n" + texts.no_plans(), keyboards.back_to_menu())


def _plan_for_sale(ctx: Ctx, plan_id: int):
    # The trial plan walks the same location and protocol steps as a plan for sale.
    plan = selectors.plan_for_sale_or_trial(plan_id)
    if plan is None:
        _stale(ctx, texts.STALE_PLAN)
    return plan


def show_plans(ctx: Ctx) -> None:
    if not channel_gate(ctx, "buy"):
        return
    plans = list(catalogue().plans)
    if not plans:
        ctx.show(texts.no_plans(), keyboards.back_to_menu())
        return
    ctx.show(texts.choose_plan(), keyboards.plans(plans))


def show_locations(ctx: Ctx, plan_id: int) -> None:
    plan = _plan_for_sale(ctx, plan_id)
    if plan is None:
        return
    # Panels of one location are one button: placement picks the panel at payment.
    panels = one_per_location(list(billing.panels_for_sale(plan=plan)))
    if not panels:
        ctx.show(texts.no_locations(), keyboards.plans(list(catalogue(fresh=True).plans)))
        return
    ctx.show(texts.choose_location(plan), keyboards.locations(plan, panels))


def show_protocols(ctx: Ctx, plan_id: int, panel_id: int) -> None:
    plan = _plan_for_sale(ctx, plan_id)
    if plan is None:
        return
    panel = billing.panels_for_sale(plan=plan).filter(pk=panel_id).first()
    inbounds = []
    if panel is not None:
        # Every protocol the location offers, on any of its panels (own panel's first).
        on_location = billing.inbounds_for_sale(plan=plan).filter(
            panel__location_name=panel.location_name
        )
        inbounds = location_inbounds(
            sorted(on_location, key=lambda inbound: inbound.panel_id != panel.pk)
        )
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
    if plan.is_trial:
        claim_trial(ctx, plan, inbound)
        return
    order = billing.order_create_new(user=ctx.user, plan=plan, inbound=inbound)
    show_order(ctx, order)


def show_order(ctx: Ctx, order: Order, *, note: str | None = None, new_message=False) -> None:
    if order.kind in (Order.Kind.RENEW, Order.Kind.ADDON):
        renewal.show_order(ctx, order, note=note)  # the same payment buttons, its own summary
        return
    balance = ctx.user.balance
    text = texts.summary(order, balance)
    if note:
        text = note + "\n\n" + text
    markup = keyboards.summary(order, can_pay_from_wallet=balance >= order.amount)
    if new_message:
        ctx.send(text, markup)
    else:
        ctx.show(text, markup)


def _own_order(ctx: Ctx, order_id: int) -> Order | None:
    order = (
        Order.objects.select_related("plan", "panel", "inbound", "discount_code")
        .filter(pk=order_id)
        .first()
    )
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
        show_order(ctx, order)
        return
    except billing.OrderNotYours:
        ctx.answer(texts.not_yours(), alert=True)
        return
    except billing.OrderNotPayable as exc:
        ctx.answer(str(exc), alert=True)
        return
    ctx.show(texts.paid_from_wallet(order) if order.amount else texts.paid_free(order))
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


def claim_trial(ctx: Ctx, plan, inbound) -> None:
    try:
        order = billing.trial_claim(user=ctx.user, plan=plan, inbound=inbound)
    except billing.TrialAlreadyUsed:
        ctx.answer(texts.trial_used(), alert=True)
        show_plans(ctx)
        return
    except billing.NoLongerForSale as exc:
        _stale(ctx, exc)
        return
    ctx.show(texts.trial_started())
    ctx.answer(now=True)
    notify.provision_and_notify(order.pk)
