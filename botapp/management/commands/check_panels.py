"""`manage.py check_panels`: probe every active panel cheaply; alert operators once.

Run by the scheduler every minute. Two failed checks in a row (this probe, a sync or
a real call) make a panel DOWN, one success makes it UP; each transition is sent once
to ADMIN_TELEGRAM_IDS however many runs overlap, and a panel that is back has its
waiting paid orders delivered at once.
"""

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.management.base import BaseCommand

from botapp.notify import panel_health_to_operators
from panels.health import panel_probe_call, panel_probe_record
from panels.models import Panel


class Command(BaseCommand):
    help = "Probe every active panel; tell operators when one goes down or comes back."

    def handle(self, *args, **options):
        panels = list(Panel.objects.filter(is_active=True))
        if panels:
            workers = max(1, min(settings.SYNC_MAX_WORKERS, len(panels)))
            # Threads only wait on the panels; this thread writes each outcome.
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for panel, error in zip(panels, pool.map(panel_probe_call, panels), strict=True):
                    ok = panel_probe_record(panel, error)
                    self.stdout.write(f"{'ok  ' if ok else 'FAIL'} {panel.name}")
        sent = panel_health_to_operators()
        self.stdout.write(f"Checked {len(panels)} panels; {sent} health notices sent.")
