"""`manage.py send_broadcasts`: send queued broadcasts (the scheduler runs it every minute).

Each run sends for at most --max-seconds (so the scheduler's other jobs keep their
turn) and the next run goes on where it stopped. Two runs at once are safe.
"""

from django.core.management.base import BaseCommand

from botapp.broadcasts import broadcasts_send


class Command(BaseCommand):
    help = "Send queued broadcasts, at most BROADCAST_RATE messages a second."

    def add_arguments(self, parser):
        parser.add_argument("--max-seconds", type=float, default=50)

    def handle(self, *args, max_seconds, **options):
        totals = broadcasts_send(max_seconds=max_seconds)
        self.stdout.write(
            f"sent {totals['sent']}, failed {totals['failed']}, blocked {totals['blocked']}"
        )
