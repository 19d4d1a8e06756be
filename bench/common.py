"""Set up Django on a throwaway SQLite database for a benchmark run."""

import os
import sys
import tempfile
from pathlib import Path


def setup_django(database_url: str | None = None) -> str:
    """Configure settings on a fresh database, migrate it, and return its URL."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    if database_url is None:
        folder = tempfile.mkdtemp(prefix="moonvpn-bench-")
        database_url = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["MEDIA_ROOT"] = f"{folder}/media"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-" + "x0123456789abcdef" * 2)
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moonvpn.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database_url
