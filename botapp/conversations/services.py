""" "My services": the customer's accounts, live usage from the panel, the config again."""

import logging

from django.utils.translation import gettext as _

from botapp import keyboards, notify, texts
from botapp.context import (
    Ctx,
    own_account,
)
from panels import subscription
from panels.lifecycle import LifecycleError
from panels.models import ClientAccount
from panels.sessions import panel_client
from panels.xui import PanelError

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)


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
    url = subscription.subscription_url(user=ctx.user)
    ctx.show(texts.services_title(url), keyboards.services(accounts, subscription_shown=bool(url)))


def new_subscription_link(ctx: Ctx) -> None:
    """The customer replaces their subscription token (a leaked link stops working)."""
    if not subscription.subscription_url(user=ctx.user):
        ctx.answer(texts.invalid_button(), alert=True)
        return
    subscription.subscription_regenerate(user=ctx.user)
    ctx.answer(texts.subscription_renewed(), alert=True)
    show_services(ctx)


def live_usage(account: ClientAccount) -> dict | None:
    """What the panel says now, or None when it cannot say (down, or client gone)."""
    try:
        traffic = panel_client(account.panel).client_traffic(account.email)
    except PanelError as exc:
        log.info("usage of %s unavailable: %s", account.email, exc)
        return None
    if traffic is None:
        return None
    return {
        "used": traffic.used,
        "total": traffic.total,
        "expires_at": traffic.expires_at or account.expires_at,
        "enabled": traffic.enable,
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
