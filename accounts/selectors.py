"""Read queries for the console (nothing here writes)."""

import datetime as dt

from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from moonvpn.queries import local_day


def new_customers_per_day(days: int = 30, *, before_today=False) -> list[tuple[dt.date, int]]:
    """Customers (Telegram users) who joined on each of the last ``days`` local days.

    ``before_today``: only the finished days (those a cache may keep until midnight).
    """
    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    rows = User.objects.filter(telegram_id__isnull=False, date_joined__gte=start)
    if before_today:
        rows = rows.filter(
            date_joined__lt=timezone.make_aware(dt.datetime.combine(today, dt.time.min))
        )
    rows = rows.annotate(day=local_day("date_joined")).values("day").annotate(n=Count("pk"))
    counts = {row["day"]: row["n"] for row in rows}
    return [
        (first + dt.timedelta(days=i), counts.get(first + dt.timedelta(days=i), 0))
        for i in range(days)
    ]


def new_customers_today() -> int:
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    return User.objects.filter(telegram_id__isnull=False, date_joined__gte=start).count()
