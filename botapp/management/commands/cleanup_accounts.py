"""`manage.py cleanup_accounts`: delete from their panels the accounts that expired more
than CLEANUP_GRACE_DAYS ago, and tell each customer a day before (for cron; hourly is
best, so that "a day before" is close to 24 hours).

The day's notice is claimed once per account and term like a reminder, and an account
is only deleted once its notice is at least a day old, so nobody loses a service
without warning. A panel that refuses to delete an inbound's last client gets the
client disabled instead; the account is marked deleted either way.
"""

from collections import Counter

from django.core.management.base import BaseCommand

from botapp.renewal import send_cleanup_notice
from panels.lifecycle import LifecycleError
from panels.reminders import (
    account_cleanup,
    accounts_to_clean_up,
    cleanup_notices_due,
    reminder_claim,
    reminder_outcome,
)


def clean_up(now=None, *, report=None) -> Counter:
    counts: Counter = Counter()
    for due in cleanup_notices_due(now):
        notice = reminder_claim(
            account=due.account, kind=due.kind, threshold=due.threshold, period=due.period
        )
        if notice is not None:
            reminder_outcome(notice, send_cleanup_notice(due.account))
            counts["told"] += 1
    for account in accounts_to_clean_up(now):
        try:
            result = account_cleanup(account=account, now=now)
        except LifecycleError as exc:
            counts["failed"] += 1
            if report:
                report(f"{account.email} @ {account.panel.name}: kept: {exc}")
            continue
        counts["disabled" if result.disabled_instead else "deleted"] += 1
        if report:
            how = "disabled (last client of its inbound)" if result.disabled_instead else "deleted"
            report(f"{account.email} @ {account.panel.name}: {how}")
    return counts


class Command(BaseCommand):
    help = "Delete accounts expired longer than CLEANUP_GRACE_DAYS, telling customers a day before."

    def handle(self, *args, **options):
        counts = clean_up(report=self.stdout.write)
        self.stdout.write(
            "told {told}, deleted {deleted}, disabled instead {disabled}, failed {failed}".format(
                **{key: counts[key] for key in ("told", "deleted", "disabled", "failed")}
            )
        )
