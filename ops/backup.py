"""One archive holding the database (Django's serializers, so SQLite and MariaDB alike)
and MEDIA_ROOT (receipt photos, QR codes); written and read back by the commands
`backup` and `restore`.

The dump keeps primary keys (order numbers customers have seen stay the same) and
refers to content types and permissions by natural key, which `migrate` recreates.
Panel passwords are in the dump in clear (decrypted by their field), so an archive
can be restored under another PANEL_SECRETS_KEY: it is written readable by its owner
only, and must be kept that way.
"""

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

DUMP = "db.json"
MEDIA = "media"
# Rebuilt by migrate (content types, permissions), or not worth keeping (sessions,
# the scheduler's bookkeeping).
EXCLUDE = ["contenttypes", "auth.permission", "sessions", "ops.jobrun"]
NAME_PREFIX = "moonvpn-"
NAME_SUFFIX = ".tar.gz"


class BackupError(Exception):
    pass


def backup_write(path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        dump = Path(tmp) / DUMP
        call_command(
            "dumpdata", natural_foreign=True, exclude=EXCLUDE, output=str(dump), verbosity=0
        )
        partial = Path(tmp) / path.name
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(dump, DUMP)
            media = Path(settings.MEDIA_ROOT)
            if media.is_dir():
                tar.add(media, MEDIA)
        partial.chmod(0o600)
        # Whole or absent: a crash mid-write never leaves a truncated archive behind.
        os.replace(partial, path)
    return path


def backup_name(now=None) -> str:
    return f"{NAME_PREFIX}{(now or timezone.now()):%Y%m%d-%H%M%S}{NAME_SUFFIX}"


def backups_prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives in directory; return the deleted ones."""
    archives = sorted(Path(directory).glob(f"{NAME_PREFIX}*{NAME_SUFFIX}"))
    doomed = archives[: max(0, len(archives) - keep)]
    for archive in doomed:
        archive.unlink()
    return doomed


def _database_is_empty() -> bool:
    ours = ("accounts", "billing", "panels", "botapp", "authtoken")
    return not any(
        model._default_manager.exists()
        for model in apps.get_models()
        if model._meta.app_label in ours
    )


def _safe_members(tar: tarfile.TarFile):
    # Python 3.11.2 (Debian 12) has no extraction filters: refuse anything that could
    # land outside the target folder.
    for member in tar.getmembers():
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"the archive holds an unsafe entry: {member.name!r}")
        yield member


def backup_restore(path: Path) -> None:
    """Load an archive into a migrated, empty database and copy its media into place."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    if not _database_is_empty():
        raise BackupError(
            "the database is not empty: restore into a new database (run migrate first)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(path, "r:gz") as tar:
                tar.extractall(tmp, members=list(_safe_members(tar)))
        except (tarfile.TarError, OSError) as exc:
            raise BackupError(f"{path} is not a MoonVPN backup: {exc}") from None
        dump = Path(tmp) / DUMP
        if not dump.is_file():
            raise BackupError(f"{path} is not a MoonVPN backup: it has no {DUMP}")
        with transaction.atomic():
            call_command("loaddata", str(dump), verbosity=0)
        media = Path(tmp) / MEDIA
        if media.is_dir():
            shutil.copytree(media, settings.MEDIA_ROOT, dirs_exist_ok=True)
