"""The free trial, and "I joined" (which goes on to the trial or to buying)."""

from django.conf import settings

from billing import selectors
from billing import services as billing
from botapp import keyboards, texts
from botapp import telegram as tg
from botapp.context import Ctx
from botapp.conversations import buy
from botapp.conversations.channel import channel_gate


def start_trial(ctx: Ctx) -> None:
    plan = selectors.trial_plan()
    if plan is None:
        ctx.show(texts.no_trial(), keyboards.back_to_menu())
        return
    if billing.trial_used(ctx.user):
        ctx.answer(texts.trial_used(), alert=True)
        buy.show_plans(ctx)
        return
    if not channel_gate(ctx, "trial"):
        return
    panels = list(billing.panels_for_sale(plan=plan))
    if len(panels) == 1:
        inbounds = list(billing.inbounds_for_sale(plan=plan, panel=panels[0]))
        if len(inbounds) == 1:  # nothing to choose: the one sellable inbound
            buy.claim_trial(ctx, plan, inbounds[0])
            return
        buy.show_protocols(ctx, plan.pk, panels[0].pk)
        return
    buy.show_locations(ctx, plan.pk)


def joined(ctx: Ctx, then: str) -> None:
    if then not in ("buy", "trial"):
        ctx.answer(texts.invalid_button())
        return
    if settings.REQUIRED_CHANNEL and not tg.is_channel_member(
        settings.REQUIRED_CHANNEL, ctx.user.telegram_id
    ):
        ctx.answer(texts.not_joined_yet(), alert=True)
        return
    if then == "buy":
        buy.show_plans(ctx)
    else:
        start_trial(ctx)
