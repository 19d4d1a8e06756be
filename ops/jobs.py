"""The scheduled jobs and how one run is recorded.

Every job is a management command that is safe to overlap and to repeat, so a run that
is cut short (a restart, a deploy) is simply done again on the next tick. A job is due
when its interval has passed since its last start, read from the database, so a
restarted scheduler neither repeats a daily backup nor forgets one.
"""

import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.management import call_command, get_commands
from django.db.models import Max
from django.utils import timezone

from ops.models import JobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str  # the management command
    every: timedelta


SCHEDULE = (
    Job("retry_provisioning", timedelta(minutes=1)),
    # Probes every panel; operators hear once when one goes down or comes back.
    Job("check_panels", timedelta(minutes=1)),
    Job("sync_panels", timedelta(minutes=10)),
    Job("send_reminders", timedelta(hours=1)),
    Job("cleanup_accounts", timedelta(hours=1)),
    # Sends for at most 50 s a run, so the other jobs keep their turn; resumes next run.
    Job("send_broadcasts", timedelta(minutes=1)),
    Job("backup", timedelta(days=1)),
)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def job_parse(spec: str) -> Job:
    """'sync_panels=10m' -> Job('sync_panels', 10 minutes); units s, m, h, d."""
    name, _, every = spec.partition("=")
    try:
        seconds = int(every[:-1]) * _UNITS[every[-1:]]
    except (KeyError, ValueError):
        raise ValueError(f"{spec!r}: write a job as NAME=INTERVAL, e.g. sync_panels=10m") from None
    if not name or seconds <= 0:
        raise ValueError(f"{spec!r}: write a job as NAME=INTERVAL, e.g. sync_panels=10m")
    return Job(name, timedelta(seconds=seconds))


def jobs_available(schedule=SCHEDULE) -> list[Job]:
    commands = get_commands()
    return [job for job in schedule if job.name in commands]


def jobs_due(now: datetime | None = None, schedule=SCHEDULE) -> list[Job]:
    now = now or timezone.now()
    started = dict(JobRun.objects.values_list("name", "last_started_at"))
    return [
        job
        for job in jobs_available(schedule)
        if started.get(job.name) is None or started[job.name] + job.every <= now
    ]


def job_run(job: Job, *, write=print) -> bool:
    """Run one job, write its output line by line prefixed with its name, record it."""
    started = timezone.now()
    JobRun.objects.update_or_create(name=job.name, defaults={"last_started_at": started})
    output = io.StringIO()
    error = ""
    try:
        call_command(job.name, stdout=output, stderr=output)
    except SystemExit as exc:  # sync_panels exits 1 when a panel failed
        if exc.code not in (0, None):
            error = f"exit status {exc.code}"
    except Exception as exc:  # one broken job must not stop the others
        log.exception("job %s failed", job.name)
        error = f"{type(exc).__name__}: {exc}"
    for line in output.getvalue().splitlines():
        write(f"{job.name}: {line}")
    finished = timezone.now()
    fields = {"last_finished_at": finished, "last_error": error[:2000]}
    if not error:
        fields["last_success_at"] = finished
    JobRun.objects.filter(name=job.name).update(**fields)
    seconds = (finished - started).total_seconds()
    write(f"{job.name}: {'FAILED: ' + error if error else 'ok'} [{seconds:.1f}s]")
    return not error


def scheduler_idle_for(now: datetime | None = None) -> timedelta | None:
    """Time since the scheduler last started any job (None: never). retry_provisioning
    starts every minute, so a long pause means the loop is stuck or gone."""
    latest = JobRun.objects.aggregate(latest=Max("last_started_at"))["latest"]
    return None if latest is None else (now or timezone.now()) - latest


def health(now: datetime | None = None) -> dict:
    """What /healthz shows of the jobs: seconds since each last worked, and whether its
    last run failed (the error itself is in the admin: /healthz is public)."""
    now = now or timezone.now()
    runs = {run.name: run for run in JobRun.objects.all()}
    names = sorted({job.name for job in jobs_available()} | set(runs))
    jobs = {}
    for name in names:
        run = runs.get(name)
        success = run.last_success_at if run else None
        jobs[name] = {
            "last_success_age_seconds": int((now - success).total_seconds()) if success else None,
            "last_run_failed": bool(run and run.last_error),
        }
    return jobs
