"""Read queries for the console's home page and receipt review (nothing here writes)."""

import datetime as dt

from django.db.models import Count, Q, Sum, Window
from django.utils import timezone

from billing.models import Order, Receipt
from moonvpn.queries import local_day


def receipts_waiting(limit: int = 15) -> tuple[list, int]:
    """Pending receipts, oldest first (the reviewer's queue), and how many wait in all.

    One query: the total rides on each row as a window count.
    """
    rows = list(
        Receipt.objects.filter(status=Receipt.Status.PENDING)
        .select_related("user", "order")
        .annotate(total=Window(Count("pk")))
        .order_by("created_at", "pk")[:limit]
    )
    return rows, (rows[0].total if rows else 0)


def receipts_waiting_count() -> int:
    return Receipt.objects.filter(status=Receipt.Status.PENDING).count()


def next_waiting_receipt(after=None):
    """The oldest pending receipt (other than ``after``), or None when the queue is empty."""
    queryset = Receipt.objects.filter(status=Receipt.Status.PENDING)
    if after is not None:
        queryset = queryset.exclude(pk=after)
    return queryset.order_by("created_at", "pk").first()


def paid_not_delivered(limit: int = 15) -> tuple[list, int]:
    """Paid orders not delivered yet, oldest payment first, and how many in all."""
    rows = list(
        Order.objects.filter(status=Order.Status.PAID, kind__in=Order.DELIVERABLE)
        .select_related("user", "panel")
        .annotate(total=Window(Count("pk")))
        .order_by("paid_at", "pk")[:limit]
    )
    return rows, (rows[0].total if rows else 0)


def paid_not_delivered_count() -> int:
    return Order.objects.filter(status=Order.Status.PAID, kind__in=Order.DELIVERABLE).count()


def _sold():
    # What customers bought (not wallet top-ups, which are spent on these), and kept.
    return Order.objects.filter(kind__in=Order.DELIVERABLE, paid_at__isnull=False).exclude(
        status=Order.Status.REFUNDED
    )


def sales_since(start: dt.datetime) -> tuple[int, int]:
    """(number of orders, total Toman) paid since ``start``."""
    row = _sold().filter(paid_at__gte=start).aggregate(n=Count("pk"), total=Sum("amount"))
    return row["n"] or 0, row["total"] or 0


def sales_today_and_since(today_start: dt.datetime, month_start: dt.datetime) -> dict:
    """Orders and Toman sold today and since ``month_start``, in one query."""
    today = Q(paid_at__gte=today_start)
    row = (
        _sold()
        .filter(paid_at__gte=min(today_start, month_start))
        .aggregate(
            today_n=Count("pk", filter=today),
            today_total=Sum("amount", filter=today),
            month_n=Count("pk", filter=Q(paid_at__gte=month_start)),
            month_total=Sum("amount", filter=Q(paid_at__gte=month_start)),
        )
    )
    return {key: value or 0 for key, value in row.items()}


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def sales_per_day(days: int = 30, *, before_today: bool = False) -> list[tuple[dt.date, int]]:
    """Toman sold on each of the last ``days`` local days (oldest first, zeros included).

    ``before_today``: only the finished days (those a cache may keep until midnight).
    """
    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    rows = _sold().filter(paid_at__gte=local_midnight(first))
    if before_today:
        rows = rows.filter(paid_at__lt=local_midnight(today))
    rows = rows.annotate(day=local_day("paid_at")).values("day").annotate(total=Sum("amount"))
    totals = {row["day"]: row["total"] for row in rows}
    return [(d, totals.get(d, 0) or 0) for d in _days(first, days)]


def _days(first: dt.date, days: int):
    return [first + dt.timedelta(days=i) for i in range(days)]


def customer_history(receipt: Receipt, limit: int = 10):
    """The customer's other receipts and their orders, newest first, for the review page."""
    receipts = (
        Receipt.objects.filter(user_id=receipt.user_id)
        .exclude(pk=receipt.pk)
        .select_related("order")
        .order_by("-created_at")[:limit]
    )
    orders = (
        Order.objects.filter(user_id=receipt.user_id)
        .select_related("plan")
        .order_by("-created_at")[:limit]
    )
    return list(receipts), list(orders)


def next_waiting_and_count(current) -> tuple[Receipt | None, int]:
    """The oldest pending receipt other than ``current`` and how many wait in all."""
    rows = list(
        Receipt.objects.filter(status=Receipt.Status.PENDING)
        .annotate(total=Window(Count("pk")))
        .order_by("created_at", "pk")[:2]
    )
    total = rows[0].total if rows else 0
    upcoming = next((r for r in rows if r.pk != current.pk), None)
    return upcoming, total


def order_search(queryset, term: str):
    """The console's order search in index-friendly lookups: an order number or a
    Telegram id (digits), else the start of a username, @username or client email."""
    from accounts.models import User

    term = (term or "").strip()
    if not term:
        return queryset
    if term.lstrip("#").isdigit():
        number = int(term.lstrip("#"))
        return queryset.filter(Q(pk=number) | Q(user__in=User.objects.filter(telegram_id=number)))
    handle = term.lstrip("@")
    people = User.objects.filter(
        Q(username__istartswith=term)
        | Q(telegram_username__istartswith=handle)
        | Q(first_name__istartswith=term)
    )
    return queryset.filter(Q(client_email__istartswith=term) | Q(user__in=people.values("pk")))
