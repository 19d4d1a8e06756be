"""Query expressions the apps' selectors share."""

import datetime as dt

from django.db.models import DateTimeField, ExpressionWrapper, F
from django.db.models.functions import TruncDate
from django.utils import timezone


def local_day(field: str):
    """The local calendar day of a datetime column, computed by the database.

    Shifted by the time zone's current UTC offset rather than CONVERT_TZ, which needs
    MariaDB's time zone tables (often not loaded); exact for Asia/Tehran, which no
    longer has daylight saving time.
    """
    offset = timezone.localtime().utcoffset() or dt.timedelta(0)
    shifted = ExpressionWrapper(F(field) + offset, output_field=DateTimeField())
    return TruncDate(shifted, tzinfo=dt.UTC)
