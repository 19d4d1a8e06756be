"""An account's life after it was sold: renewals, add-ons, the operator's actions,
reminders and clean-up.

Every change to a client on its panel is a *full replace* (3x-ui's updateClient does
not merge): the client is read from the panel first and only ``expiryTime``,
``totalGB``, ``enable`` (or, to regenerate a link, the key) are changed, so its sub id,
Telegram id, device limit, comment, flow and key survive and the link the customer
already has keeps working.

Renewal and add-on arithmetic (all figures are the panel's: ms and bytes)
------------------------------------------------------------------------

Let *expiry* be the client's expiryTime, *total* its totalGB, *used* its up + down.

* Days (a renewal plan's, an add-on's, an operator's): new expiry =
  max(now, expiry) + days. Two special expiries keep their meaning: 0 ("never") stays
  0, and a negative expiry ("starts at first use", −duration) gets longer:
  expiry − days.
* A renewal's traffic, with ``RENEW_CARRY_OVER_TRAFFIC`` on (the default):

  - usage kept (``RENEW_RESET_USAGE`` off, the default):
    new total = used + max(total − used, 0) + plan traffic = max(total, used) + plan;
  - usage reset to 0 on the panel: new total = max(total − used, 0) + plan.

  With carry-over off the unused part is dropped: used + plan, or plan after a reset.
  Unlimited stays unlimited: a current total of 0, or a plan of 0 GB, gives 0.
* Extra traffic (an add-on or an operator's GB): new total = max(total, used) + GB,
  so the customer gets exactly that much more from now even when over quota; an
  unlimited total stays unlimited.
* A renewal always enables the client (an expired or disabled account works again).
  An add-on or an operator's extension enables it when the panel had switched it off
  for time or traffic and it now has both left; a client disabled on purpose stays
  disabled.

Idempotency: a paid renewal or add-on stores its target (the absolute new expiry and
total, the usage seen, whether usage is reset) on the order *before* the panel is
called. A retry after a lost answer re-reads the panel, skips what already holds
(the client equals the target; usage below the recorded figure means the reset
happened, as usage otherwise only grows), and applies the same absolute values —
never "+30 days" a second time. The order reaching FULFILLED, in the same transaction
as the account row's new limits, is the commit point.
"""

from __future__ import annotations

import base64
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import services as billing
from billing.models import GB, AddOn, Order
from panels.models import AccountEvent, AccountReminder, ClientAccount
from panels.qr import save_qr
from panels.services import (
    _remember_generation,
    panel_client,
    panel_record_failure,
    panel_record_success,
)
from panels.xui import (
    ClientNotFound,
    LastClientError,
    PanelError,
    PanelUnavailable,
    XuiClient,
    client_key,
    error_summary,
)

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
RENEWAL_KINDS = (Order.Kind.RENEW, Order.Kind.ADDON)


class LifecycleError(Exception):
    """The action could not be done; the message says why, for an operator."""


class ClientGone(LifecycleError):
    """The account's client is no longer on its panel."""


# --- arithmetic (pure) -----------------------------------------------------------------


@dataclass(frozen=True)
class PanelState:
    """A client as its panel sees it now."""

    expiry_ms: int  # 0 never, < 0 "starts at first use"
    total: int  # bytes, 0 unlimited
    used: int
    enable: bool

    def out_of_time(self, now_ms: int) -> bool:
        return 0 < self.expiry_ms <= now_ms

    def out_of_traffic(self) -> bool:
        return self.total > 0 and self.used >= self.total


@dataclass(frozen=True)
class Target:
    expiry_ms: int
    total: int
    reset_usage: bool = False


def _to_int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


def extend_expiry(expiry_ms: int, days: int, now: int) -> int:
    if days <= 0 or expiry_ms == 0:
        return expiry_ms
    if expiry_ms < 0:
        return expiry_ms - days * DAY_MS
    return max(expiry_ms, now) + days * DAY_MS


def add_traffic(state: PanelState, extra_bytes: int) -> int:
    if extra_bytes <= 0 or state.total == 0:
        return state.total
    return max(state.total, state.used) + extra_bytes


def renewal_target(
    state: PanelState,
    *,
    days: int,
    traffic_bytes: int,
    now: int,
    carry_over: bool,
    reset_usage: bool,
) -> Target:
    expiry = extend_expiry(state.expiry_ms, days, now)
    if state.total == 0 or traffic_bytes == 0:
        return Target(expiry, 0, reset_usage)
    remaining = max(state.total - state.used, 0) if carry_over else 0
    kept_usage = 0 if reset_usage else state.used
    return Target(expiry, kept_usage + remaining + traffic_bytes, reset_usage)


def extension_target(state: PanelState, *, days: int, traffic_bytes: int, now: int) -> Target:
    return Target(extend_expiry(state.expiry_ms, days, now), add_traffic(state, traffic_bytes))


def enable_after(state: PanelState, target: Target, *, used_after: int, now: int, force: bool):
    """Whether the client is enabled once the target is applied."""
    if force:
        return True
    exhausted = state.out_of_time(now) or state.out_of_traffic()
    after = PanelState(target.expiry_ms, target.total, used_after, True)
    usable = not (after.out_of_time(now) or after.out_of_traffic())
    return usable and (state.enable or exhausted)


def ms_to_datetime(value: int) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value > 0 else None


# --- talking to the panel ----------------------------------------------------------------


def _state(client: dict, stats: dict | None) -> PanelState:
    stats = stats if isinstance(stats, dict) else {}
    return PanelState(
        expiry_ms=_to_int(client.get("expiryTime")),
        total=_to_int(client.get("totalGB")),
        used=_to_int(stats.get("up")) + _to_int(stats.get("down")),
        # Older panels switch off only the traffic row when time or traffic runs out.
        enable=bool(client.get("enable", True)) and bool(stats.get("enable", True)),
    )


@dataclass
class OnPanel:
    inbound_id: int
    client: dict
    state: PanelState


def _read(xui: XuiClient, account: ClientAccount, *, with_usage: bool = True) -> OnPanel:
    found = xui.find_client(account.email)
    if found is None:
        raise ClientGone(_("The client is no longer on its panel."))
    inbound_id, client = found
    stats = xui.get_client_traffic(str(client.get("email") or account.email)) if with_usage else {}
    # v3.1+ may report a client attached to no inbound as 0.
    return OnPanel(inbound_id or account.inbound.remote_id, client, _state(client, stats))


def _holds(client: dict, changes: dict) -> bool:
    return all(client.get(name) == value for name, value in changes.items())


def _replace(xui: XuiClient, account: ClientAccount, on_panel: OnPanel, changes: dict) -> dict:
    """Full-replace the client with ``changes`` applied; returns the client as sent."""
    protocol = account.inbound.protocol
    new = {**on_panel.client, **changes}
    if _holds(on_panel.client, changes):
        return new
    key = client_key(protocol, on_panel.client)
    try:
        xui.update_client(on_panel.inbound_id, protocol, key, new)
    except PanelUnavailable:
        # A write that timed out may still have happened: look before calling it failed.
        try:
            found = xui.find_client(str(new.get("email") or account.email))
        except PanelError:
            found = None
        if found is None or not _holds(found[1], changes):
            raise
    return new


def _panel_call(account: ClientAccount, work):
    """Run ``work(xui)`` against the account's panel; panel errors become LifecycleError."""
    xui = panel_client(account.panel)
    try:
        result = work(xui)
    except PanelError as exc:
        if not isinstance(exc, ClientNotFound):
            panel_record_failure(account.panel, exc)
        raise LifecycleError(error_summary(exc)) from exc
    finally:
        _remember_generation(account.panel, xui)
    panel_record_success(account.panel)
    return result


def _status_for(enable: bool, target: Target, used: int, now: int) -> str:
    if enable:
        return ClientAccount.Status.ACTIVE
    after = PanelState(target.expiry_ms, target.total, used, False)
    if after.out_of_time(now) or after.out_of_traffic():
        return ClientAccount.Status.EXPIRED
    return ClientAccount.Status.DISABLED


def _limits_fields(target: Target, *, enable: bool, used: int, now: int) -> dict:
    return {
        "expires_at": ms_to_datetime(target.expiry_ms),
        "traffic_limit_bytes": target.total,
        "used_bytes": used,
        "panel_enabled": enable,
        "status": _status_for(enable, target, used, now),
        "updated_at": timezone.now(),
    }


def _when(value: datetime | None) -> str:
    # Shown as is in the account's history, next to times the console shows in the
    # site's zone (Tehran): the same zone here, not the database's UTC.
    return timezone.localtime(value).isoformat(sep=" ", timespec="minutes") if value else ""


def _event(account, action, *, actor=None, order=None, note="", **details) -> AccountEvent:
    return AccountEvent.objects.create(
        account=account, action=action, actor=actor, order=order, note=note, details=details
    )


def _live(account: ClientAccount) -> None:
    if account.status == ClientAccount.Status.DELETED:
        raise LifecycleError(_("The account is deleted."))


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

    Returns a panels.provisioning.ProvisionResult.
    """
    from panels.provisioning import Outcome, ProvisionResult, _failed

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
        on_panel = _read(xui, account)
        if order.target_expiry_ms is None and not _fix_target(order, account, on_panel, read_at):
            return _failed(order, "another renewal of this account is being applied")
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
        _replace(
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
        return _failed(order, error_summary(exc))
    finally:
        _remember_generation(account.panel, xui)

    panel_record_success(account.panel)
    fields = _limits_fields(target, enable=enable, used=used, now=now)
    if order.kind == Order.Kind.RENEW:
        fields["plan_id"] = order.plan_id
    before = {"expires_at": _when(account.expires_at), "total": account.traffic_limit_bytes}
    with transaction.atomic():
        billing.order_lock(order_id=order.pk)  # user → order, before the event's insert
        billing.order_transition(
            order=order,
            to_status=Order.Status.FULFILLED,
            fulfilled_at=timezone.now(),
            provisioning_until=None,
            last_error="",
        )
        ClientAccount.objects.filter(pk=account.pk).update(**fields)
        _event(
            account,
            AccountEvent.Action.RENEW
            if order.kind == Order.Kind.RENEW
            else AccountEvent.Action.ADDON,
            order=order,
            before=before,
            after={"expires_at": _when(fields["expires_at"]), "total": target.total},
            reset_usage=target.reset_usage,
        )
    account.refresh_from_db()
    return ProvisionResult(Outcome.DELIVERED, order, account)


def _refund(order: Order, reason: str):
    from panels.provisioning import Outcome, ProvisionResult

    log.warning("order #%s cannot be applied, refunding: %s", order.pk, reason)
    Order.objects.filter(pk=order.pk).update(last_error=reason[:2000], provisioning_until=None)
    billing.order_refund(order_id=order.pk, note=f"not applied: {reason}"[:500])
    order.refresh_from_db()
    return ProvisionResult(Outcome.REFUNDED, order, error=reason)


# --- the operator's actions ----------------------------------------------------------------


def account_extend(
    *, account: ClientAccount, days: int = 0, traffic_gb: int = 0, note: str, actor
) -> ClientAccount:
    """Add days and/or traffic for free; the note is kept for audit."""
    if days < 0 or traffic_gb < 0 or not (days or traffic_gb):
        raise LifecycleError(_("Give a number of days or gigabytes to add."))
    if not (note or "").strip():
        raise LifecycleError(_("An extension needs a note saying why."))
    _live(account)

    def work(xui):
        on_panel = _read(xui, account)
        now = now_ms()
        target = extension_target(on_panel.state, days=days, traffic_bytes=traffic_gb * GB, now=now)
        used = on_panel.state.used
        enable = enable_after(on_panel.state, target, used_after=used, now=now, force=False)
        changes = {"expiryTime": target.expiry_ms, "totalGB": target.total, "enable": enable}
        _replace(xui, account, on_panel, changes)
        return on_panel, target, enable, used, now

    on_panel, target, enable, used, now = _panel_call(account, work)
    before = {"expires_at": _when(account.expires_at), "total": account.traffic_limit_bytes}
    with transaction.atomic():
        ClientAccount.objects.filter(pk=account.pk).update(
            **_limits_fields(target, enable=enable, used=used, now=now)
        )
        _event(
            account,
            AccountEvent.Action.EXTEND,
            actor=actor,
            note=note.strip(),
            days=days,
            traffic_gb=traffic_gb,
            before=before,
            after={"expires_at": _when(ms_to_datetime(target.expiry_ms)), "total": target.total},
        )
    account.refresh_from_db()
    return account


def _set_enable(account: ClientAccount, enable: bool, *, actor, note: str) -> ClientAccount:
    _live(account)

    def work(xui):
        on_panel = _read(xui, account)
        state, now = on_panel.state, now_ms()
        if enable and (state.out_of_time(now) or state.out_of_traffic()):
            raise LifecycleError(
                _("It has run out of time or traffic; extend it instead of enabling it.")
            )
        _replace(xui, account, on_panel, {"enable": enable})
        return on_panel

    on_panel = _panel_call(account, work)
    state = on_panel.state
    target = Target(state.expiry_ms, state.total)
    with transaction.atomic():
        ClientAccount.objects.filter(pk=account.pk).update(
            **_limits_fields(target, enable=enable, used=state.used, now=now_ms())
        )
        _event(
            account,
            AccountEvent.Action.ENABLE if enable else AccountEvent.Action.DISABLE,
            actor=actor,
            note=note,
        )
    account.refresh_from_db()
    return account


def account_disable(*, account: ClientAccount, actor, note: str = "") -> ClientAccount:
    return _set_enable(account, False, actor=actor, note=note)


def account_enable(*, account: ClientAccount, actor, note: str = "") -> ClientAccount:
    return _set_enable(account, True, actor=actor, note=note)


@dataclass
class DeleteResult:
    account: ClientAccount
    disabled_instead: bool = False  # the panel keeps an inbound's last client
    was_missing: bool = False  # nothing to delete on the panel


def _delete_on_panel(xui: XuiClient, account: ClientAccount) -> DeleteResult:
    result = DeleteResult(account)
    try:
        on_panel = _read(xui, account, with_usage=False)
    except ClientGone:
        result.was_missing = True
        return result
    try:
        xui.delete_client(on_panel.inbound_id, account.inbound.protocol, on_panel.client)
    except LastClientError:
        # 3x-ui v2 refuses to empty an inbound: switch the client off instead, so the
        # config stops working all the same.
        _replace(xui, account, on_panel, {"enable": False})
        result.disabled_instead = True
    except ClientNotFound:
        result.was_missing = True
    return result


def _mark_deleted(account, action, *, actor, note, result: DeleteResult) -> None:
    with transaction.atomic():
        ClientAccount.objects.filter(pk=account.pk).update(
            status=ClientAccount.Status.DELETED, panel_enabled=False, updated_at=timezone.now()
        )
        _event(
            account,
            action,
            actor=actor,
            note=note,
            disabled_instead=result.disabled_instead,
            was_missing=result.was_missing,
        )
    account.refresh_from_db()


def account_delete(*, account: ClientAccount, actor, note: str = "") -> DeleteResult:
    """Delete the client from its panel and mark the account deleted."""
    _live(account)
    result = _panel_call(account, lambda xui: _delete_on_panel(xui, account))
    _mark_deleted(account, AccountEvent.Action.DELETE, actor=actor, note=note, result=result)
    return result


def _new_key(account: ClientAccount) -> dict:
    protocol = account.inbound.protocol
    if protocol == "trojan":
        return {"password": secrets.token_urlsafe(12)}
    if protocol == "shadowsocks":
        method = str((account.inbound.settings or {}).get("method", ""))
        size = 16 if "aes-128" in method else 32
        return {"password": base64.b64encode(secrets.token_bytes(size)).decode()}
    return {"id": str(uuid.uuid4())}


def account_regenerate_link(*, account: ClientAccount, actor, note: str = "") -> ClientAccount:
    """A new key on the panel, so the old config stops working; new link and QR.

    The sub id is kept, so subscription apps pick the new config up by themselves.
    The caller sends the customer the new config (botapp.notify.send_account).
    """
    from panels.links import LinkError
    from panels.provisioning import account_links

    _live(account)

    def work(xui):
        on_panel = _read(xui, account, with_usage=False)
        new_key = _new_key(account)
        try:
            # Built before the panel is touched: a key the link cannot carry must not
            # leave the customer with a dead config and no new one.
            links = account_links(
                panel=account.panel, inbound=account.inbound, client={**on_panel.client, **new_key}
            )
        except LinkError as exc:
            raise LifecycleError(str(exc)) from exc
        return _replace(xui, account, on_panel, new_key), links

    client, (config_url, sub_url) = _panel_call(account, work)
    protocol = account.inbound.protocol
    key = client.get("password") if protocol in ("trojan", "shadowsocks") else client.get("id")
    old_qr = account.qr_code_path.name if account.qr_code_path else ""
    qr_path = save_qr(
        text=config_url, name=account.email, media_root=settings.MEDIA_ROOT, old_path=old_qr
    )
    with transaction.atomic():
        ClientAccount.objects.filter(pk=account.pk).update(
            uuid=key,
            config_url=config_url,
            subscription_url=sub_url or account.subscription_url,
            qr_code_path=qr_path,
            updated_at=timezone.now(),
        )
        _event(account, AccountEvent.Action.REGENERATE, actor=actor, note=note)
    account.refresh_from_db()
    return account


def account_resend_config(*, account: ClientAccount, actor, note: str = "") -> bool:
    """Send the customer their config and QR again. False if it could not reach them."""
    from botapp import notify

    _live(account)
    user = account.user
    if not user.telegram_id or user.has_blocked_bot:
        return False
    notify.send_account(account)
    user.refresh_from_db(fields=["has_blocked_bot"])
    if user.has_blocked_bot:
        return False
    _event(account, AccountEvent.Action.RESEND, actor=actor, note=note)
    return True


# --- reminders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    account: ClientAccount
    kind: str
    threshold: int
    period: int


def _reachable(accounts):
    return accounts.filter(
        user__telegram_id__isnull=False, user__has_blocked_bot=False, user__is_blocked=False
    )


def reminders_due(now: datetime | None = None) -> list[Due]:
    """The one most urgent reminder of each kind per active account, not yet claimed."""
    now = now or timezone.now()
    days = settings.REMINDER_DAYS
    percents = settings.REMINDER_USAGE_PERCENT
    accounts = _reachable(
        ClientAccount.objects.filter(status=ClientAccount.Status.ACTIVE)
    ).select_related("user", "panel", "inbound", "plan")
    condition = Q(pk__in=[])
    if days:
        condition |= Q(expires_at__gt=now, expires_at__lte=now + timedelta(days=max(days)))
    if percents:
        # A superset (integer division floors); the exact test is below, in integers.
        condition |= Q(
            traffic_limit_bytes__gt=0,
            used_bytes__gte=F("traffic_limit_bytes") * min(percents) / 100,
        )
    due = []
    for account in accounts.filter(condition).order_by("pk"):
        if days and account.expires_at and account.expires_at > now:
            left = (account.expires_at - now).total_seconds() / 86400
            hit = [d for d in days if left <= d]
            if hit:
                due.append(
                    Due(
                        account,
                        AccountReminder.Kind.EXPIRY,
                        min(hit),
                        int(account.expires_at.timestamp()),
                    )
                )
        total = account.traffic_limit_bytes
        if percents and total > 0:
            hit = [p for p in percents if account.used_bytes * 100 >= total * p]
            if hit:
                due.append(Due(account, AccountReminder.Kind.USAGE, max(hit), total))
    claimed = set(
        AccountReminder.objects.filter(account_id__in={d.account.pk for d in due}).values_list(
            "account_id", "kind", "threshold", "period"
        )
    )
    return [d for d in due if (d.account.pk, d.kind, d.threshold, d.period) not in claimed]


def reminder_claim(*, account: ClientAccount, kind: str, threshold: int, period: int):
    """The claimed row, or None when another run (or an earlier one) already has it.

    The INSERT is the claim: the unique constraint lets exactly one of two
    overlapping runs through, and only that run sends.
    """
    try:
        with transaction.atomic():
            return AccountReminder.objects.create(
                account=account, kind=kind, threshold=threshold, period=period
            )
    except IntegrityError:
        return None


def reminder_outcome(reminder: AccountReminder, outcome: str) -> None:
    AccountReminder.objects.filter(pk=reminder.pk).update(outcome=outcome)
    reminder.outcome = outcome


# --- clean-up ------------------------------------------------------------------------------


def cleanup_deadline(account: ClientAccount) -> datetime | None:
    if account.expires_at is None:
        return None
    return account.expires_at + timedelta(days=settings.CLEANUP_GRACE_DAYS)


def cleanup_notices_due(now: datetime | None = None) -> list[Due]:
    """Accounts to be deleted within a day whose customer was not yet told."""
    now = now or timezone.now()
    grace = timedelta(days=settings.CLEANUP_GRACE_DAYS)
    accounts = (
        ClientAccount.objects.exclude(status=ClientAccount.Status.DELETED)
        .filter(expires_at__isnull=False, expires_at__lte=now - grace + timedelta(days=1))
        .select_related("user", "panel", "inbound", "plan")
        .order_by("pk")
    )
    due = [Due(a, AccountReminder.Kind.CLEANUP, 1, int(a.expires_at.timestamp())) for a in accounts]
    claimed = set(
        AccountReminder.objects.filter(
            kind=AccountReminder.Kind.CLEANUP, account_id__in={d.account.pk for d in due}
        ).values_list("account_id", "period")
    )
    return [d for d in due if (d.account.pk, d.period) not in claimed]


def accounts_to_clean_up(now: datetime | None = None) -> list[ClientAccount]:
    """Expired longer than the grace period, and told at least a day ago.

    The day's notice is a precondition, not a courtesy: an account first seen long
    past its grace period is announced now and deleted a day later.
    """
    now = now or timezone.now()
    grace = timedelta(days=settings.CLEANUP_GRACE_DAYS)
    candidates = (
        ClientAccount.objects.exclude(status=ClientAccount.Status.DELETED)
        .filter(expires_at__isnull=False, expires_at__lte=now - grace)
        # A paid renewal about to be applied must find its client still there.
        .exclude(renewal_orders__status=Order.Status.PAID)
        .select_related("user", "panel", "inbound", "plan")
        .order_by("pk")
    )
    out = []
    for account in candidates:
        told = AccountReminder.objects.filter(
            account=account,
            kind=AccountReminder.Kind.CLEANUP,
            period=int(account.expires_at.timestamp()),
            created_at__lte=now - timedelta(days=1),
        ).exists()
        if told:
            out.append(account)
    return out


def account_cleanup(*, account: ClientAccount, now: datetime | None = None) -> DeleteResult:
    """Delete an account whose grace period is over, checking the panel first.

    The panel is the truth about expiry: a client renewed there by hand (not yet
    synced) is left alone, and the account row takes the panel's expiry.
    """
    now = now or timezone.now()
    _live(account)
    deadline = cleanup_deadline(account)
    if deadline is None or deadline > now:
        raise LifecycleError(_("The account is still within its grace period."))
    grace_ms = settings.CLEANUP_GRACE_DAYS * DAY_MS
    limit = int(now.timestamp() * 1000) - grace_ms

    def work(xui):
        try:
            on_panel = _read(xui, account, with_usage=False)
        except ClientGone:
            return DeleteResult(account, was_missing=True), None
        expiry = on_panel.state.expiry_ms
        if expiry <= 0 or expiry > limit:
            return None, expiry
        return _delete_on_panel(xui, account), None

    result, panel_expiry = _panel_call(account, work)
    if result is None:
        ClientAccount.objects.filter(pk=account.pk).update(
            expires_at=ms_to_datetime(panel_expiry) if panel_expiry > 0 else None
        )
        raise LifecycleError(_("The panel shows a later expiry; the account was kept."))
    _mark_deleted(
        account, AccountEvent.Action.CLEANUP, actor=None, note="grace period over", result=result
    )
    return result
