"""Reminders before an account runs out, and the clean-up of long-expired accounts.

The queries that pick who is due, and the exactly-once claim of each notice; the bot
layer (botapp.management.commands.send_reminders, cleanup_accounts) sends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Order
from panels.lifecycle import (
    ClientGone,
    DeleteResult,
    LifecycleError,
    delete_on_panel,
    mark_deleted,
    panel_call,
    read_on_panel,
    require_live,
)
from panels.models import AccountEvent, AccountReminder, ClientAccount
from panels.traffic import (
    DAY_MS,
    ms_to_datetime,
)

log = logging.getLogger(__name__)


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
    require_live(account)
    deadline = cleanup_deadline(account)
    if deadline is None or deadline > now:
        raise LifecycleError(_("The account is still within its grace period."))
    grace_ms = settings.CLEANUP_GRACE_DAYS * DAY_MS
    limit = int(now.timestamp() * 1000) - grace_ms

    def work(xui):
        try:
            on_panel = read_on_panel(xui, account, with_usage=False)
        except ClientGone:
            return DeleteResult(account, was_missing=True), None
        expiry = on_panel.state.expiry_ms
        if expiry <= 0 or expiry > limit:
            return None, expiry
        return delete_on_panel(xui, account), None

    result, panel_expiry = panel_call(account, work)
    if result is None:
        ClientAccount.objects.filter(pk=account.pk).update(
            expires_at=ms_to_datetime(panel_expiry) if panel_expiry > 0 else None
        )
        raise LifecycleError(_("The panel shows a later expiry; the account was kept."))
    mark_deleted(
        account, AccountEvent.Action.CLEANUP, actor=None, note="grace period over", result=result
    )
    return result
