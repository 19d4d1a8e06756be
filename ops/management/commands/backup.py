"""`manage.py backup [PATH]`: write the database and MEDIA_ROOT to one archive.

Without PATH it writes BACKUP_DIR/moonvpn-<time>.tar.gz and keeps the newest
BACKUP_KEEP archives there (the scheduler runs it daily).
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from ops.backup import backup_name, backup_write, backups_prune


class Command(BaseCommand):
    help = "Back up the database and media to one archive (restore it with `restore`)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="the archive to write (.tar.gz)")

    def handle(self, *args, path=None, **options):
        if path:
            written = backup_write(Path(path))
            self.stdout.write(f"wrote {written}")
            return
        directory = Path(settings.BACKUP_DIR)
        written = backup_write(directory / backup_name())
        self.stdout.write(f"wrote {written}")
        for old in backups_prune(directory, settings.BACKUP_KEEP):
            self.stdout.write(f"deleted {old} (keeping the newest {settings.BACKUP_KEEP})")
