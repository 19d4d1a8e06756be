"""`manage.py send_reminders`: tell customers their service expires soon or is nearly used
up, with a one-tap Renew button (for cron, after sync_panels).

Each (account, kind, threshold, period) goes out at most once however often this runs,
even when two runs overlap: a reminder is claimed by inserting its AccountReminder row
before it is sent, and the unique constraint lets only one run insert it. A message
whose sending failed is not retried (it may have arrived); a customer who blocked the
bot is marked and skipped from then on.
"""

from collections import Counter

from django.core.management.base import BaseCommand

from botapp.renewal import send_reminder
from panels.reminders import reminder_claim, reminder_outcome, reminders_due


def send_due_reminders(now=None) -> Counter:
    counts: Counter = Counter()
    for due in reminders_due(now):
        reminder = reminder_claim(
            account=due.account, kind=due.kind, threshold=due.threshold, period=due.period
        )
        if reminder is None:
            counts["taken"] += 1  # another run got there first
            continue
        outcome = send_reminder(due.account, due.kind, due.threshold)
        reminder_outcome(reminder, outcome)
        counts[outcome] += 1
    return counts


class Command(BaseCommand):
    help = "Remind customers of services that expire soon or have used most of their traffic."

    def handle(self, *args, **options):
        counts = send_due_reminders()
        self.stdout.write(
            "sent {sent}, customer blocked the bot {blocked}, failed {failed}, "
            "taken by another run {taken}".format(
                **{key: counts[key] for key in ("sent", "blocked", "failed", "taken")}
            )
        )
