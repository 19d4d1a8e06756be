"""`manage.py restore PATH`: load a `backup` archive into a new, migrated database."""

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database (run migrate first) and MEDIA_ROOT."

    def add_arguments(self, parser):
        parser.add_argument("path", help="an archive written by `manage.py backup`")

    def handle(self, *args, path, **options):
        try:
            backup_restore(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored {path}")
