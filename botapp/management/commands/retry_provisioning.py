"""`manage.py retry_provisioning`: deliver paid orders whose panel failed (for cron).

Safe to run twice at once: orders_to_retry skips rows another run has locked, and
order_provision takes a lease per order, so each order is worked on by one run.
"""

from django.core.management.base import BaseCommand

from botapp.notify import provision_and_notify
from panels.provisioning import Outcome, order_undo_client, orders_to_retry, orders_to_undo


class Command(BaseCommand):
    help = "Retry provisioning paid orders not yet delivered; tell customers the outcome."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100, help="orders per run")

    def handle(self, *args, limit, **options):
        counts = {outcome: 0 for outcome in Outcome}
        for order_id in orders_to_retry(limit=limit):
            result = provision_and_notify(order_id)
            counts[result.outcome] += 1
            if result.outcome in (Outcome.PENDING, Outcome.REFUNDED):
                self.stdout.write(f"order #{order_id}: {result.outcome.value}: {result.error}")
        for order in orders_to_undo(limit=limit):
            # Refunded while its panel was down: its client may still be there.
            outcome = order_undo_client(order)
            self.stdout.write(f"order #{order.pk}: refunded; client on the panel: {outcome}")
        done = {outcome.value: count for outcome, count in counts.items()}
        self.stdout.write(
            "delivered {delivered}, still pending {pending}, refunded {refunded}, "
            "busy elsewhere {busy}".format(**done)
        )
