"""`manage.py healthz`: what /healthz answers, for containers without a web server (the
bot); exit status 1 when the database is unreachable."""

import json
import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from ops.jobs import health


class Command(BaseCommand):
    help = "Check the database and show the age of each job's last success (exit 1 if down)."

    def handle(self, *args, **options):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            self.stdout.write(json.dumps({"database": "ok", "jobs": health()}))
        except DatabaseError as exc:
            self.stderr.write(f"database unreachable: {exc}")
            sys.exit(1)
