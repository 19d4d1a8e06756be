"""The scheduler service of docker-compose.yml, and what /healthz reports of it."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.tests.samples import make_panel
from ops.models import JobRun

ROOT = Path(__file__).resolve().parents[2]


def _scheduler(*args):
    out = io.StringIO()
    try:
        call_command("scheduler", *args, stdout=out, stderr=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_each_job_runs_when_due_and_not_again_before_its_interval():
    _, first = _scheduler("--once", "send_reminders=1h", "cleanup_accounts=1h")
    assert "send_reminders: sent 0" in first and "cleanup_accounts: told 0" in first
    _, second = _scheduler("--once", "send_reminders=1h", "cleanup_accounts=1h")
    assert "send_reminders:" not in second and "cleanup_accounts:" not in second
    JobRun.objects.filter(name="send_reminders").update(
        last_started_at=timezone.now() - timedelta(minutes=61)
    )
    _, third = _scheduler("--once", "send_reminders=1h", "cleanup_accounts=1h")
    assert "send_reminders: sent 0" in third and "cleanup_accounts:" not in third


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_the_others_still_run():
    make_panel(base_url="http://127.0.0.1:9/")  # nothing listens: sync_panels exits 1
    _, out = _scheduler("--once", "sync_panels=10m", "send_reminders=1h")
    assert "sync_panels: FAIL 🇩🇪 Frankfurt-1" in out
    assert "sync_panels: FAILED: exit status 1" in out
    assert "send_reminders: ok" in out
    failed = JobRun.objects.get(name="sync_panels")
    assert failed.last_error == "exit status 1" and failed.last_success_at is None
    assert JobRun.objects.get(name="send_reminders").last_success_at is not None


@pytest.mark.django_db
def test_an_unknown_job_is_named_and_skipped():
    _, out = _scheduler("--once", "no_such_job=1m", "send_reminders=1h")
    assert "no_such_job is not a command here, skipped" in out
    assert "send_reminders: ok" in out
    with pytest.raises(CommandError, match="NAME=INTERVAL"):
        call_command("scheduler", "--once", "sync_panels=often")


@pytest.mark.django_db
def test_the_healthcheck_fails_when_no_job_started_for_15_minutes():
    assert _scheduler("--check")[0] == 1  # never ran
    _scheduler("--once", "send_reminders=1h")
    assert _scheduler("--check")[0] == 0
    JobRun.objects.update(last_started_at=timezone.now() - timedelta(minutes=16))
    code, out = _scheduler("--check")
    assert code == 1 and "started no job for 0:16" in out


@pytest.mark.django_db
def test_healthz_shows_the_database_and_each_jobs_last_success(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["database"] == "ok"
    assert body["jobs"]["retry_provisioning"] == {
        "last_success_age_seconds": None,
        "last_run_failed": False,
    }
    JobRun.objects.create(
        name="sync_panels",
        last_started_at=timezone.now() - timedelta(seconds=125),
        last_success_at=timezone.now() - timedelta(seconds=120),
        last_error="exit status 1",
    )
    # Docker's healthcheck asks for 127.0.0.1 whatever ALLOWED_HOSTS names.
    body = json.loads(client.get("/healthz", HTTP_HOST="10.0.0.7:8000").content)
    assert 119 <= body["jobs"]["sync_panels"]["last_success_age_seconds"] <= 130
    assert body["jobs"]["sync_panels"]["last_run_failed"] is True
    assert "exit status" not in json.dumps(body)  # errors stay in the admin


def _start(args, tmp_path, **env):
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "MEDIA_ROOT": str(tmp_path / "media"),
        **env,
    }
    environment.pop("PYTHONUNBUFFERED", None)  # a pipe, as under docker
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(process, text, timeout=60):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} not in {''.join(seen)!r}")


def test_the_scheduler_logs_as_it_goes_and_stops_on_sigterm(tmp_path):
    process = _start(["scheduler", "send_reminders=1h", "--tick", "0.2"], tmp_path)
    try:
        _read_until(process, "send_reminders: ok")  # a pipe, and yet line by line
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert "scheduler: stopped" in output


def test_the_bot_service_waits_in_webhook_mode(tmp_path):
    # BOT_MODE=webhook: polling would meet Telegram's 409 and crash-loop under compose.
    process = _start(
        ["runbot"], tmp_path, BOT_MODE="webhook", TELEGRAM_BOT_TOKEN="123:not-a-real-token"
    )
    try:
        _read_until(process, "BOT_MODE=webhook")
        time.sleep(1)
        assert process.poll() is None  # still there, not polling, not exiting
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "Bot stopped." in output
