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

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import GB, Order
from panels.health import panel_record_failure, panel_record_success
from panels.links import LinkError, account_links
from panels.models import AccountEvent, ClientAccount
from panels.qr import save_qr
from panels.sessions import panel_client, panel_remember_generation
from panels.traffic import (
    PanelState,
    Target,
    enable_after,
    extension_target,
    ms_to_datetime,
    now_ms,
)
from panels.xui import (
    ClientNotFound,
    ClientRecord,
    ClientTraffic,
    LastClientError,
    PanelError,
    PanelUnavailable,
    XuiClient,
    client_key,
    error_summary,
    new_client_secret,
)

log = logging.getLogger(__name__)

RENEWAL_KINDS = (Order.Kind.RENEW, Order.Kind.ADDON)


class LifecycleError(Exception):
    """The action could not be done; the message says why, for an operator."""


class ClientGone(LifecycleError):
    """The account's client is no longer on its panel."""


# --- talking to the panel ----------------------------------------------------------------


def state_of(client: dict, stats: dict | None) -> PanelState:
    record = ClientRecord.from_panel(client)
    traffic = ClientTraffic.from_panel(stats)
    return PanelState(
        expiry_ms=record.expiry_ms,
        total=record.total,
        used=traffic.used if traffic else 0,
        # Older panels switch off only the traffic row when time or traffic runs out.
        enable=record.enable and (traffic.enable if traffic else True),
    )


@dataclass
class OnPanel:
    inbound_id: int
    client: dict
    state: PanelState


def read_on_panel(xui: XuiClient, account: ClientAccount, *, with_usage: bool = True) -> OnPanel:
    found = xui.find_client(account.email)
    if found is None:
        raise ClientGone(_("The client is no longer on its panel."))
    inbound_id, client = found
    stats = xui.get_client_traffic(str(client.get("email") or account.email)) if with_usage else {}
    # v3.1+ may report a client attached to no inbound as 0.
    return OnPanel(inbound_id or account.inbound.remote_id, client, state_of(client, stats))


def _holds(client: dict, changes: dict) -> bool:
    return all(client.get(name) == value for name, value in changes.items())


def replace_on_panel(
    xui: XuiClient, account: ClientAccount, on_panel: OnPanel, changes: dict
) -> dict:
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


def panel_call(account: ClientAccount, work):
    """Run ``work(xui)`` against the account's panel; panel errors become LifecycleError."""
    xui = panel_client(account.panel)
    try:
        result = work(xui)
    except PanelError as exc:
        if not isinstance(exc, ClientNotFound):
            panel_record_failure(account.panel, exc)
        raise LifecycleError(error_summary(exc)) from exc
    finally:
        panel_remember_generation(account.panel, xui)
    panel_record_success(account.panel)
    return result


def _status_for(enable: bool, target: Target, used: int, now: int) -> str:
    if enable:
        return ClientAccount.Status.ACTIVE
    after = PanelState(target.expiry_ms, target.total, used, False)
    if after.out_of_time(now) or after.out_of_traffic():
        return ClientAccount.Status.EXPIRED
    return ClientAccount.Status.DISABLED


def limits_fields(target: Target, *, enable: bool, used: int, now: int) -> dict:
    return {
        "expires_at": ms_to_datetime(target.expiry_ms),
        "traffic_limit_bytes": target.total,
        "used_bytes": used,
        "panel_enabled": enable,
        "status": _status_for(enable, target, used, now),
        "updated_at": timezone.now(),
    }


def when_text(value: datetime | None) -> str:
    # Shown as is in the account's history, next to times the console shows in the
    # site's zone (Tehran): the same zone here, not the database's UTC.
    return timezone.localtime(value).isoformat(sep=" ", timespec="minutes") if value else ""


def record_event(account, action, *, actor=None, order=None, note="", **details) -> AccountEvent:
    return AccountEvent.objects.create(
        account=account, action=action, actor=actor, order=order, note=note, details=details
    )


def require_live(account: ClientAccount) -> None:
    if account.status == ClientAccount.Status.DELETED:
        raise LifecycleError(_("The account is deleted."))


# --- the operator's actions ----------------------------------------------------------------


def account_extend(
    *, account: ClientAccount, days: int = 0, traffic_gb: int = 0, note: str, actor
) -> ClientAccount:
    """Add days and/or traffic for free; the note is kept for audit."""
    if days < 0 or traffic_gb < 0 or not (days or traffic_gb):
        raise LifecycleError(_("Give a number of days or gigabytes to add."))
    if not (note or "").strip():
        raise LifecycleError(_("An extension needs a note saying why."))
    require_live(account)

    def work(xui):
        on_panel = read_on_panel(xui, account)
        now = now_ms()
        target = extension_target(on_panel.state, days=days, traffic_bytes=traffic_gb * GB, now=now)
        used = on_panel.state.used
        enable = enable_after(on_panel.state, target, used_after=used, now=now, force=False)
        changes = {"expiryTime": target.expiry_ms, "totalGB": target.total, "enable": enable}
        replace_on_panel(xui, account, on_panel, changes)
        return on_panel, target, enable, used, now

    on_panel, target, enable, used, now = panel_call(account, work)
    before = {"expires_at": when_text(account.expires_at), "total": account.traffic_limit_bytes}
    with transaction.atomic():
        ClientAccount.objects.filter(pk=account.pk).update(
            **limits_fields(target, enable=enable, used=used, now=now)
        )
        record_event(
            account,
            AccountEvent.Action.EXTEND,
            actor=actor,
            note=note.strip(),
            days=days,
            traffic_gb=traffic_gb,
            before=before,
            after={
                "expires_at": when_text(ms_to_datetime(target.expiry_ms)),
                "total": target.total,
            },
        )
    account.refresh_from_db()
    return account


def _set_enable(account: ClientAccount, enable: bool, *, actor, note: str) -> ClientAccount:
    require_live(account)

    def work(xui):
        on_panel = read_on_panel(xui, account)
        state, now = on_panel.state, now_ms()
        if enable and (state.out_of_time(now) or state.out_of_traffic()):
            raise LifecycleError(
                _("It has run out of time or traffic; extend it instead of enabling it.")
            )
        replace_on_panel(xui, account, on_panel, {"enable": enable})
        return on_panel

    on_panel = panel_call(account, work)
    state = on_panel.state
    target = Target(state.expiry_ms, state.total)
    with transaction.atomic():
        ClientAccount.objects.filter(pk=account.pk).update(
            **limits_fields(target, enable=enable, used=state.used, now=now_ms())
        )
        record_event(
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


def delete_on_panel(xui: XuiClient, account: ClientAccount) -> DeleteResult:
    result = DeleteResult(account)
    try:
        on_panel = read_on_panel(xui, account, with_usage=False)
    except ClientGone:
        result.was_missing = True
        return result
    try:
        xui.delete_client(on_panel.inbound_id, account.inbound.protocol, on_panel.client)
    except LastClientError:
        # 3x-ui v2 refuses to empty an inbound: switch the client off instead, so the
        # config stops working all the same.
        replace_on_panel(xui, account, on_panel, {"enable": False})
        result.disabled_instead = True
    except ClientNotFound:
        result.was_missing = True
    return result


def mark_deleted(account, action, *, actor, note, result: DeleteResult) -> None:
    with transaction.atomic():
        ClientAccount.objects.filter(pk=account.pk).update(
            status=ClientAccount.Status.DELETED, panel_enabled=False, updated_at=timezone.now()
        )
        record_event(
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
    require_live(account)
    result = panel_call(account, lambda xui: delete_on_panel(xui, account))
    mark_deleted(account, AccountEvent.Action.DELETE, actor=actor, note=note, result=result)
    return result


def _new_key(account: ClientAccount) -> dict:
    return new_client_secret(account.inbound.protocol, account.inbound.settings)


def account_regenerate_link(*, account: ClientAccount, actor, note: str = "") -> ClientAccount:
    """A new key on the panel, so the old config stops working; new link and QR.

    The sub id is kept, so subscription apps pick the new config up by themselves.
    The caller sends the customer the new config (botapp.notify.send_account).
    """
    require_live(account)

    def work(xui):
        on_panel = read_on_panel(xui, account, with_usage=False)
        new_key = _new_key(account)
        try:
            # Built before the panel is touched: a key the link cannot carry must not
            # leave the customer with a dead config and no new one.
            links = account_links(
                panel=account.panel, inbound=account.inbound, client={**on_panel.client, **new_key}
            )
        except LinkError as exc:
            raise LifecycleError(str(exc)) from exc
        return replace_on_panel(xui, account, on_panel, new_key), links

    client, (config_url, sub_url) = panel_call(account, work)
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
        record_event(account, AccountEvent.Action.REGENERATE, actor=actor, note=note)
    account.refresh_from_db()
    return account
