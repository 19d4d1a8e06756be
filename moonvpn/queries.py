"""Query expressions the apps' selectors share."""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import DateTimeField, ExpressionWrapper, F, QuerySet
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


class PreparedLookup:
    """One row found by one value, with SQL the ORM compiles once per process.

    For the query every bot update makes (the customer, by Telegram id): compiling a
    queryset is a few hundred microseconds of Python, more than the database takes
    to answer it. ``queryset_for(value)`` is an ordinary queryset, so the SQL is the
    ORM's own for the database in use and follows the schema; ``RawQuerySet`` then
    builds the instance, annotations included, with the fields' usual converters.
    """

    _PROBE = -7_426_519  # stands for the value while compiling; never a real one

    def __init__(self, queryset_for: Callable[[Any], QuerySet]):
        self._queryset_for = queryset_for
        self._prepared: tuple[Any, str] | None = None  # (the model's manager, the SQL)

    def first(self, value):
        """The first row ``queryset_for(value)`` finds, or None."""
        if self._prepared is None:
            queryset = self._queryset_for(self._PROBE)[:1]
            sql, params = queryset.query.get_compiler(queryset.db).as_sql()
            if list(params) != [self._PROBE]:
                raise ValueError("a prepared lookup takes exactly one parameter, its value")
            self._prepared = (queryset.model.objects.db_manager(queryset.db), sql)
        manager, sql = self._prepared
        return next(iter(manager.raw(sql, [value])), None)
