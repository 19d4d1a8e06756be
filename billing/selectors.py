"""Read queries for the console's home page and receipt review (nothing here writes)."""

import datetime as dt

from django.db.models import Count, Q, Sum
from django.utils import timezone

from billing.models import Order, Receipt
from moonvpn.queries import local_day


def receipts_waiting(limit: int = 15):
    """Pending receipts, oldest first: the reviewer's queue."""
    return (
        Receipt.objects.filter(status=Receipt.Status.PENDING)
        .select_related("user", "order")
        .order_by("created_at", "pk")[:limit]
    )


def receipts_waiting_count() -> int:
    return Receipt.objects.filter(status=Receipt.Status.PENDING).count()


def next_waiting_receipt(after=None):
    """The oldest pending receipt (other than ``after``), or None when the queue is empty."""
    queryset = Receipt.objects.filter(status=Receipt.Status.PENDING)
    if after is not None:
        queryset = queryset.exclude(pk=after)
    return queryset.order_by("created_at", "pk").first()


def paid_not_delivered(limit: int = 15):
    """Paid orders that provisioning has not delivered yet, oldest payment first."""
    return (
        Order.objects.filter(status=Order.Status.PAID, kind__in=Order.DELIVERABLE)
        .select_related("user", "panel")
        .order_by("paid_at", "pk")[:limit]
    )


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


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def sales_per_day(days: int = 30) -> list[tuple[dt.date, int]]:
    """Toman sold on each of the last ``days`` local days (oldest first, zeros included)."""
    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    rows = (
        _sold()
        .filter(paid_at__gte=local_midnight(first))
        .annotate(day=local_day("paid_at"))
        .values("day")
        .annotate(total=Sum("amount"))
    )
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
    counts = Receipt.objects.filter(user_id=receipt.user_id).aggregate(
        approved=Count("pk", filter=Q(status=Receipt.Status.APPROVED)),
        rejected=Count("pk", filter=Q(status=Receipt.Status.REJECTED)),
    )
    return list(receipts), list(orders), counts
