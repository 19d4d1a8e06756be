"""`manage.py scheduler [NAME=INTERVAL ...]`: run every scheduled job when it is due,
until SIGINT or SIGTERM; its output is the jobs' log (`docker compose logs scheduler`).
Without arguments it runs ops.jobs.SCHEDULE; docker-compose.yml names each job.

One job at a time: the jobs are safe to overlap, but one loop keeps the log readable
and the load predictable. A signal lets the job in progress finish; Docker's stop
timeout bounds that, and a job cut short is done again on the next start.
"""

import signal
import sys
import threading
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from django.utils import timezone

from ops.jobs import SCHEDULE, job_parse, job_run, jobs_available, jobs_due, scheduler_idle_for


class Command(BaseCommand):
    help = "Run the scheduled jobs (sync_panels, retry_provisioning, ...) until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "jobs", nargs="*", metavar="NAME=INTERVAL", help="e.g. sync_panels=10m (s, m, h, d)"
        )
        parser.add_argument("--once", action="store_true", help="run what is due, then exit")
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit 1 if no job was started for --max-idle minutes (a healthcheck)",
        )
        parser.add_argument("--max-idle", type=int, default=15, help="minutes (for --check)")
        parser.add_argument("--tick", type=float, default=5.0, help="seconds between looks")

    def handle(self, *args, jobs, once, check, max_idle, tick, **options):
        try:
            self.schedule = tuple(job_parse(spec) for spec in jobs) or SCHEDULE
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if check:
            idle = scheduler_idle_for()
            if idle is None or idle > timedelta(minutes=max_idle):
                self.stderr.write(f"the scheduler has started no job for {idle or 'ever'}")
                sys.exit(1)
            self.stdout.write(f"ok: last job started {idle} ago")
            return
        # A pipe (docker logs) is block-buffered: lines must show as they come.
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(line_buffering=True)
        self.stopping = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.on_signal)
            signal.signal(signal.SIGINT, self.on_signal)
        available = jobs_available(self.schedule)
        for job in self.schedule:
            if job not in available:
                self.stdout.write(f"scheduler: {job.name} is not a command here, skipped")
        names = ", ".join(f"{job.name} every {job.every}" for job in available)
        self.stdout.write(f"scheduler: running {names}")
        while not self.stopping.is_set():
            self.run_due()
            if once:
                break
            self.stopping.wait(tick)
        self.stdout.write("scheduler: stopped")

    def on_signal(self, signum, frame):
        # Only set the flag: writing here could re-enter a write the signal interrupted.
        self.stopping.set()

    def run_due(self):
        _drop_stale_connections()
        try:
            due = jobs_due(timezone.now(), schedule=self.schedule)
            for job in due:
                if self.stopping.is_set():
                    return
                job_run(job, write=self.stdout.write)
                _drop_stale_connections()
        except DatabaseError as exc:
            # The database restarting is no reason to exit; try again on the next tick.
            self.stderr.write(f"scheduler: database error, retrying: {exc}")


def _drop_stale_connections():
    # What Django does around each request: a long-lived process must not keep a
    # connection the server has closed (or past CONN_MAX_AGE). Never inside a transaction.
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
