"""Loaded by pytest (``-p moonvpn.pytest_env``) before Django's settings are read.

Tests run with DEBUG off, like production, so they need a SECRET_KEY; a real one is
never wanted here.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("DEBUG", "false")


def pytest_unconfigure(config):
    # Django removes the SQLite test database but not its WAL companions.
    import glob
    import tempfile

    for leftover in glob.glob(f"{tempfile.gettempdir()}/moonvpn-test-{os.getpid()}.sqlite3*"):
        os.remove(leftover)
