"""Start-up as an operator meets it: bad settings, and the README's quick start."""

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, env=None, timeout=60):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


KEY = "a-good-enough-secret-key-for-these-tests-" + "0123456789" * 2


@pytest.mark.parametrize(
    "env,expected",
    [
        pytest.param({"DEBUG": "false"}, "SECRET_KEY is not set", id="SECRET_KEY"),
        pytest.param(
            {"SECRET_KEY": "change-me"}, "SECRET_KEY is a placeholder", id="SECRET_KEY=change-me"
        ),
        pytest.param(
            {"SECRET_KEY": "x" * 20}, "SECRET_KEY is a placeholder", id="short-SECRET_KEY"
        ),
        pytest.param(
            {"SECRET_KEY": "a" * 60}, "SECRET_KEY is a placeholder", id="SECRET_KEY-one-letter"
        ),
        pytest.param(
            {"SECRET_KEY": KEY, "PANEL_SECRETS_KEY": "short"},
            "PANEL_SECRETS_KEY is not a Fernet key",
            id="PANEL_SECRETS_KEY",
        ),
        pytest.param(
            {"SECRET_KEY": KEY, "DATABASE_URL": "nonsense://what"},
            "DATABASE_URL",
            id="DATABASE_URL",
        ),
        pytest.param({"SECRET_KEY": KEY, "DEBUG": "maybe-later"}, "DEBUG", id="DEBUG"),
        pytest.param(
            {"SECRET_KEY": KEY, "ADMIN_TELEGRAM_IDS": "12,abc"},
            "ADMIN_TELEGRAM_IDS",
            id="ADMIN_TELEGRAM_IDS",
        ),
    ],
)
def test_a_bad_setting_stops_startup_with_one_clear_line(env, expected, tmp_path):
    result = _manage("check", env={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("MoonVPN configuration error:")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_good_settings_start(tmp_path):
    # The counterpart of the test above: a real Fernet key and a long random SECRET_KEY
    # pass, and DEBUG lets a development key through.
    fernet_key = base64.urlsafe_b64encode(b"k" * 32).decode()
    ok = _manage(
        "check",
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "SECRET_KEY": KEY,
            "PANEL_SECRETS_KEY": fernet_key,
        },
    )
    assert ok.returncode == 0, ok.stderr
    debug = _manage(
        "check",
        env={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "SECRET_KEY": "x", "DEBUG": "1"},
    )
    assert debug.returncode == 0, debug.stderr


def test_readme_quick_start_is_two_make_targets():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```sh\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_run_serves_the_admin_and_says_the_bot_is_off(tmp_path):
    # What `make run` does after installing: migrate SQLite, then runall.
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "DEBUG": "true",
        "SECRET_KEY": "x",
        "TELEGRAM_BOT_TOKEN": "",
    }
    assert _manage("migrate", "--noinput", env=env).returncode == 0
    port = _free_port()
    # Without PYTHONUNBUFFERED, as on a fresh machine: stdout is then a block-buffered
    # pipe, and what runall said must still arrive when it is stopped.
    clean = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "PYTHONUNBUFFERED")
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runall", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        page = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as answer:
                    page = answer.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert 'name="username"' in page
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert "TELEGRAM_BOT_TOKEN is not set: the bot is not running" in output


def test_missing_build_packages_are_named_in_one_line(tmp_path):
    # A bare machine: Python, but no compiler, pkg-config or MariaDB headers (and no
    # apt-get to install them with), as scripts/check-deps sees it from make.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "id", "env"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    (bin_dir / "python3").symlink_to(sys.executable)
    result = subprocess.run(
        [str(bin_dir / "sh"), "scripts/check-deps", str(bin_dir / "python3")],
        cwd=ROOT,
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MoonVPN needs these system packages: pkg-config libmariadb-dev gcc" in lines[0]
    assert lines[0].endswith("sudo apt-get install -y pkg-config libmariadb-dev gcc")
    # ... and says nothing when everything is there.
    assert subprocess.run(["sh", "scripts/check-deps", sys.executable], cwd=ROOT).returncode == 0
