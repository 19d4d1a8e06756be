"""Sync inbounds and client usage from every active panel, several at once."""

import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from panels.models import Panel
from panels.sync import panel_apply, panel_fetch


def _fetch_in_thread(panel):
    try:
        return panel_fetch(panel=panel)
    finally:
        # A worker thread may have touched the database; don't leak its connection.
        connections.close_all()


class Command(BaseCommand):
    help = "Sync inbounds and client usage from every active panel (or the given ones)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--panel",
            type=int,
            action="append",
            dest="panel_ids",
            metavar="ID",
            help="sync only this panel (repeatable)",
        )
        parser.add_argument("--workers", type=int, default=settings.SYNC_MAX_WORKERS)

    def handle(self, *args, panel_ids=None, workers, **options):
        panels = Panel.objects.filter(is_active=True)
        if panel_ids:
            panels = Panel.objects.filter(pk__in=panel_ids)
        panels = list(panels)
        if not panels:
            self.stdout.write("No panels to sync.")
            return
        started = time.monotonic()
        failed = 0
        # Threads only wait on the panels; this thread writes each answer as it comes,
        # so database writers never queue behind each other (SQLite has one writer).
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(panels)))) as pool:
            futures = [pool.submit(_fetch_in_thread, panel) for panel in panels]
            for future in as_completed(futures):
                result = panel_apply(listing=future.result())
                name = str(result.panel)
                if result.ok:
                    self.stdout.write(
                        f"ok   {name}: {result.inbounds} inbounds ({result.created} new, "
                        f"{result.gone} gone), {result.accounts_updated} accounts updated, "
                        f"{result.accounts_missing} missing on the panel "
                        f"[{result.seconds:.1f}s]"
                    )
                    for problem in result.problems:
                        self.stdout.write(f"     not sellable: {problem}")
                else:
                    failed += 1
                    self.stdout.write(f"FAIL {name}: {result.error} [{result.seconds:.1f}s]")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Synced {len(panels) - failed} of {len(panels)} panels in {elapsed:.1f}s"
            + (f"; {failed} failed." if failed else ".")
        )
        if failed:
            sys.exit(1)
