"""Renewals and add-ons: a paid order applied to its account on the panel, once.

Called by panels.provisioning.order_provision for a RENEW or ADDON order, under the
order's lease; the same link keeps working, only the limits change.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import services as billing
from billing.models import GB, AddOn, Order
from panels.health import panel_record_failure, panel_record_success
from panels.lifecycle import (
    RENEWAL_KINDS,
    ClientGone,
    OnPanel,
    limits_fields,
    read_on_panel,
    record_event,
    replace_on_panel,
    when_text,
)
from panels.models import AccountEvent, ClientAccount
from panels.orders import Outcome, ProvisionResult, order_failed
from panels.sessions import panel_client, panel_remember_generation
from panels.traffic import (
    PanelState,
    Target,
    enable_after,
    extension_target,
    now_ms,
    renewal_target,
)
from panels.xui import (
    ClientNotFound,
    PanelError,
    error_summary,
)

log = logging.getLogger(__name__)


# --- renewals and add-ons (paid orders) ---------------------------------------------------


def order_target(order: Order, state: PanelState, now: int) -> Target:
    if order.kind == Order.Kind.RENEW:
        return renewal_target(
            state,
            days=order.plan.duration_days,
            traffic_bytes=order.plan.traffic_bytes,
            now=now,
            carry_over=settings.RENEW_CARRY_OVER_TRAFFIC,
            reset_usage=settings.RENEW_RESET_USAGE,
        )
    addon = order.addon
    return extension_target(
        state,
        days=addon.amount if addon.kind == AddOn.Kind.DAYS else 0,
        traffic_bytes=addon.amount * GB if addon.kind == AddOn.Kind.TRAFFIC else 0,
        now=now,
    )


def _fix_target(order: Order, account: ClientAccount, on_panel: OnPanel, read_at) -> bool:
    """Store the order's target once; False if another renewal of the account is in flight.

    Two paid renewals of one account must not both compute from the same old expiry,
    or one would be lost: under the account's row lock, an order only sets its target
    when no sibling has a target it has not finished applying, and none finished since
    this panel read began.
    """
    with transaction.atomic():
        ClientAccount.objects.select_for_update().only("id").get(pk=account.pk)
        siblings = (
            Order.objects.filter(renews=account, kind__in=RENEWAL_KINDS)
            .exclude(pk=order.pk)
            .filter(
                Q(status=Order.Status.PAID, target_expiry_ms__isnull=False)
                | Q(status=Order.Status.FULFILLED, fulfilled_at__gte=read_at)
            )
        )
        if siblings.exists():
            return False
        target = order_target(order, on_panel.state, now_ms())
        Order.objects.filter(pk=order.pk, target_expiry_ms__isnull=True).update(
            target_expiry_ms=target.expiry_ms,
            target_total_bytes=target.total,
            target_reset_usage=target.reset_usage,
            base_used_bytes=on_panel.state.used,
        )
    order.refresh_from_db(
        fields=["target_expiry_ms", "target_total_bytes", "target_reset_usage", "base_used_bytes"]
    )
    return True


def order_apply(order: Order):
    """Apply a paid renewal or add-on to its account; the caller holds the order's lease.

    Returns a panels.orders.ProvisionResult.
    """
    account = (
        ClientAccount.objects.select_related("panel", "inbound", "user", "plan")
        .filter(pk=order.renews_id)
        .first()
    )
    if account is None or account.status == ClientAccount.Status.DELETED:
        return _refund(order, _("the account was deleted before the renewal could be applied"))
    xui = panel_client(account.panel)
    try:
        read_at = timezone.now()
        on_panel = read_on_panel(xui, account)
        if order.target_expiry_ms is None and not _fix_target(order, account, on_panel, read_at):
            return order_failed(order, "another renewal of this account is being applied")
        target = Target(order.target_expiry_ms, order.target_total_bytes, order.target_reset_usage)
        used = on_panel.state.used
        base = order.base_used_bytes or 0
        if target.reset_usage:
            if base > 0 and used >= base:  # not reset yet (usage only grows otherwise)
                xui.reset_client_traffic(on_panel.inbound_id, str(on_panel.client["email"]))
            used = 0
        now = now_ms()
        enable = enable_after(
            on_panel.state, target, used_after=used, now=now, force=order.kind == Order.Kind.RENEW
        )
        replace_on_panel(
            xui,
            account,
            on_panel,
            {"expiryTime": target.expiry_ms, "totalGB": target.total, "enable": enable},
        )
    except ClientGone as exc:
        panel_record_success(account.panel)  # it answered: the client is gone
        return _refund(order, str(exc))
    except PanelError as exc:
        if not isinstance(exc, ClientNotFound):
            panel_record_failure(account.panel, exc)
        return order_failed(order, error_summary(exc))
    finally:
        panel_remember_generation(account.panel, xui)

    panel_record_success(account.panel)
    fields = limits_fields(target, enable=enable, used=used, now=now)
    if order.kind == Order.Kind.RENEW:
        fields["plan_id"] = order.plan_id
    before = {"expires_at": when_text(account.expires_at), "total": account.traffic_limit_bytes}
    with transaction.atomic():
        billing.order_lock(order_id=order.pk, user_id=order.user_id)  # user → order first
        billing.order_transition(
            order=order,
            to_status=Order.Status.FULFILLED,
            fulfilled_at=timezone.now(),
            provisioning_until=None,
            last_error="",
        )
        ClientAccount.objects.filter(pk=account.pk).update(**fields)
        record_event(
            account,
            AccountEvent.Action.RENEW
            if order.kind == Order.Kind.RENEW
            else AccountEvent.Action.ADDON,
            order=order,
            before=before,
            after={"expires_at": when_text(fields["expires_at"]), "total": target.total},
            reset_usage=target.reset_usage,
        )
    account.refresh_from_db()
    return ProvisionResult(Outcome.DELIVERED, order, account)


def _refund(order: Order, reason: str):
    log.warning("order #%s cannot be applied, refunding: %s", order.pk, reason)
    Order.objects.filter(pk=order.pk).update(last_error=reason[:2000], provisioning_until=None)
    billing.order_refund(order_id=order.pk, note=f"not applied: {reason}"[:500])
    order.refresh_from_db()
    return ProvisionResult(Outcome.REFUNDED, order, error=reason)
