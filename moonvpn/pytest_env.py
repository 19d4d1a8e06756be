"""Loaded by pytest (``-p moonvpn.pytest_env``) before Django's settings are read.

Tests run with DEBUG off, like production, so they need a SECRET_KEY; a real one is
never wanted here. They never read the developer's .env (which `make run` writes): what
a test sees must not depend on the machine it runs on. Commands a test starts inherit
this environment, so they skip .env too.
"""

import os

os.environ["MOONVPN_READ_DOTENV"] = "false"
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret-" + "x0123456789abcdef" * 2)
os.environ.setdefault("DEBUG", "false")


def pytest_unconfigure(config):
    # Django removes the SQLite test database but not its WAL companions.
    import glob
    import tempfile

    for leftover in glob.glob(f"{tempfile.gettempdir()}/moonvpn-test-{os.getpid()}.sqlite3*"):
        os.remove(leftover)
