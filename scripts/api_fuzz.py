"""Fuzz the staff API with schemathesis, as deployed: gunicorn on MariaDB.

    python scripts/api_fuzz.py            (or: make fuzz)

Creates a fresh MariaDB database (FUZZ_DATABASE_URL, default
mysql://root@127.0.0.1:3306/moonvpn_fuzz), migrates it, seeds one of everything
(accounts/tests/samples.make_world) with its panel on a fake 3x-ui, makes two staff
users with API tokens (a superuser, and staff without any permission), serves the
API with gunicorn on a free 127.0.0.1 port, and runs schemathesis against
/api/v1/schema/ once per user with a fixed seed and a bounded number of examples.
Every check runs except those turned off, with the reason, in scripts/schemathesis.toml.
Exits non-zero when either run fails; prints schemathesis' summary lines.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261204
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
DATABASE_URL = os.environ.get("FUZZ_DATABASE_URL", "mysql://root@127.0.0.1:3306/moonvpn_fuzz")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(url: str) -> None:
    import MySQLdb

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    conn = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
    )
    try:
        cursor = conn.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()


def seed(fake_url: str, fake_user: str, fake_password: str, xui) -> dict:
    """One of everything; returns the two API tokens."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from accounts.tests.samples import make_world
    from panels.models import Inbound, Panel
    from panels.sync import panel_sync

    User = get_user_model()
    admin = User.objects.create_user(
        username="fuzz-admin", password="x-unused-1", is_staff=True, is_superuser=True
    )
    bare = User.objects.create_user(username="fuzz-bare", password="x-unused-2", is_staff=True)
    customer = User.objects.create_user(
        username="tg_1001", telegram_id=1001, first_name="Sara", language="fa"
    )
    world = make_world(admin, customer)
    xui.add_inbound("vless", remark="vless-reality", security="reality")
    Panel.objects.filter(pk=world.panel.pk).update(
        base_url=fake_url, username=fake_user, password=fake_password
    )
    world.panel.refresh_from_db()
    panel_sync(panel=world.panel)
    Inbound.objects.filter(panel=world.panel).update(is_sellable=True)
    return {
        "superuser": world.token.key,
        "staff without permissions": Token.objects.create(user=bare).key,
    }


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "moonvpn.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return web
        except OSError:
            if web.poll() is not None:
                raise RuntimeError("gunicorn exited") from None
            time.sleep(0.3)
    web.kill()
    raise RuntimeError("gunicorn did not start")


def fetch_schema(port: int, token: str, path: Path) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/schema/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        path.write_bytes(response.read())


def run_schemathesis(name: str, schema: Path, port: int, token: str, reports: Path) -> int:
    print(f"--- schemathesis as {name}", flush=True)
    command = [
        str(SCHEMATHESIS),
        "--config-file", str(ROOT / "scripts" / "schemathesis.toml"),
        "run", str(schema),
        "--url", f"http://127.0.0.1:{port}",
        "--header", f"Authorization: Token {token}",
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "2",
        "--generation-database", "none",
        "--no-color",
        "--report", "junit",
        "--report-dir", str(reports / name.replace(" ", "-")),
    ]  # fmt: skip
    return subprocess.call(command, cwd=ROOT)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="moonvpn-fuzz-"))
    env = dict(os.environ)
    env.update(
        DATABASE_URL=DATABASE_URL,
        DEBUG="false",
        SECRET_KEY=env.get("SECRET_KEY") or "fuzz-only-not-a-secret-" + "0123456789abcdef" * 2,
        MOONVPN_READ_DOTENV="false",
        ALLOWED_HOSTS="127.0.0.1",
        MEDIA_ROOT=str(work / "media"),
        # Throttling is tested elsewhere; here it would only stop the fuzzing.
        API_THROTTLE_USER="1000000/minute",
        API_MAX_BAD_TOKENS="1000000",
        TELEGRAM_BOT_TOKEN="",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=str(ROOT),
    )
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moonvpn.settings")
    sys.path.insert(0, str(ROOT))

    fresh_database(DATABASE_URL)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )

    import django

    django.setup()
    from standins.xui import FakeXuiPanel

    web = None
    codes = {}
    try:
        with FakeXuiPanel(profile="v2", username="admin", password="secret") as xui:
            tokens = seed(xui.url, xui.username, xui.password, xui)
            from django.db import connections

            connections.close_all()
            port = free_port()
            web = start_gunicorn(port, env)
            schema = work / "openapi.json"
            fetch_schema(port, tokens["superuser"], schema)
            for name, token in tokens.items():
                codes[name] = run_schemathesis(name, schema, port, token, work / "reports")
    finally:
        if web is not None:
            web.send_signal(signal.SIGTERM)
            web.wait(30)
    print("--- api fuzz summary")
    for name, code in codes.items():
        print(f"schemathesis as {name}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    if all(code == 0 for code in codes.values()) and len(codes) == 2:
        shutil.rmtree(work, ignore_errors=True)
        return 0
    print(f"reports kept in {work}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
