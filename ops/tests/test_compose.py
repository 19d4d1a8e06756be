"""docker-compose.yml, read as Compose reads it (no Docker engine here; .ci/run also
runs `docker-compose config`): every job is scheduled, and services start in order."""

from pathlib import Path

import yaml
from django.core.management import get_commands

from ops.jobs import SCHEDULE, job_parse

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP = ["migrate", "web", "bot", "scheduler"]


def test_one_image_is_built_once_and_run_by_every_app_service():
    assert set(SERVICES) == {"db", *APP}
    assert [name for name in SERVICES if "build" in SERVICES[name]] == ["migrate"]
    assert {SERVICES[name]["image"] for name in APP} == {"moonvpn:local"}
    assert all(SERVICES[name]["pull_policy"] == "never" for name in APP if name != "migrate")


def test_services_start_after_the_migrations_finished():
    assert SERVICES["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert SERVICES["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("web", "bot", "scheduler"):
        assert SERVICES[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }, name
        assert SERVICES[name]["restart"] == "unless-stopped", name
        assert SERVICES[name]["healthcheck"]["test"][0] == "CMD", name
    assert "healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert SERVICES["db"]["healthcheck"]["test"]


def test_the_scheduler_service_runs_every_job_on_its_schedule():
    command = SERVICES["scheduler"]["command"]
    assert command[:3] == ["python", "manage.py", "scheduler"]
    jobs = [job_parse(spec) for spec in command[3:]]
    assert jobs == list(SCHEDULE)
    names = {job.name for job in jobs}
    assert {
        "sync_panels",
        "retry_provisioning",
        "check_panels",
        "send_reminders",
        "cleanup_accounts",
    } <= names
    assert {"send_broadcasts", "backup"} <= names
    # send_broadcasts is being written elsewhere; the scheduler skips it until it exists.
    assert names - set(get_commands()) <= {"send_broadcasts"}


def test_media_and_backups_are_volumes_every_app_service_shares():
    for name in APP:
        assert SERVICES[name]["volumes"] == ["media:/app/media", "backups:/app/backups"]
        assert SERVICES[name]["environment"]["BACKUP_DIR"] == "/app/backups"
    assert {"db", "media", "backups"} <= set(COMPOSE["volumes"])
