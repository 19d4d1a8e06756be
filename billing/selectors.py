"""Reads several callers share (nothing here writes).

What is for sale, and where: one definition of "sellable" and of "this plan is allowed
on this panel", used to build the bot's menus, re-checked at pay time
(billing.services) and offered by the console, so a button from an old message can
never buy what the menus no longer offer. And the console's home page and receipt
review queries.
"""

import datetime as dt

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from billing.models import Order, Plan, Receipt, WalletTransaction
from moonvpn.queries import local_day
from panels.models import ClientAccount, Inbound, Panel


def plans_for_sale() -> QuerySet[Plan]:
    """Plans in the Buy list: active, and not the free trial (offered on its own)."""
    return Plan.objects.filter(is_active=True, is_trial=False)


def trial_plan() -> Plan | None:
    """The free trial on offer, if any (the first active trial plan)."""
    return Plan.objects.filter(is_active=True, is_trial=True).first()


def plan_for_sale_or_trial(plan_id: int) -> Plan | None:
    """A plan a customer may walk through location and protocol for: on sale or the trial."""
    return Plan.objects.filter(pk=plan_id, is_active=True).first()


def plan_allows_panel(plan: Plan, panel_ref: str) -> Q:
    """Panels (``panel_ref`` names their pk) this plan may be sold on; no panels: every one."""
    through = Plan.panels.through.objects.filter(plan_id=plan.pk)
    return ~Q(Exists(through)) | Q(Exists(through.filter(panel_id=OuterRef(panel_ref))))


def panel_has_room() -> Q:
    # capacity 0 means no limit; needs the places_taken annotation.
    return Q(capacity=0) | Q(places_taken__lt=F("capacity"))


def _count_per_panel(rows: QuerySet) -> Subquery:
    return Subquery(rows.order_by().values("panel").annotate(n=Count("pk")).values("n"))


def with_places_taken(panels: QuerySet[Panel]) -> QuerySet[Panel]:
    """Annotate ``places_taken``: active accounts plus paid new orders not yet delivered.

    A paid order whose provisioning is still running holds its place, so a burst of
    purchases cannot overfill a panel (billing.placement, order_sale_problem, the menus).
    """
    active = ClientAccount.objects.filter(panel=OuterRef("pk"), status=ClientAccount.Status.ACTIVE)
    waiting = Order.objects.filter(
        panel=OuterRef("pk"),
        status=Order.Status.PAID,
        kind=Order.Kind.NEW,
        created_account__isnull=True,
    )
    return panels.annotate(
        places_taken=Coalesce(_count_per_panel(active), Value(0))
        + Coalesce(_count_per_panel(waiting), Value(0))
    )


def sellable_inbounds() -> QuerySet[Inbound]:
    """Inbounds an operator marked sellable, active, whose links MoonVPN can build."""
    return Inbound.objects.filter(is_sellable=True, status=Inbound.Status.ACTIVE, link_problem="")


def plans_for_panel(panel_id: int) -> QuerySet[Plan]:
    """Plans on sale that a panel may carry (the other side of plan_allows_panel)."""
    return plans_for_sale().filter(Q(panels=None) | Q(panels=panel_id)).distinct()


def wallet_history(*, user, limit: int = 10) -> QuerySet[WalletTransaction]:
    """The customer's last ledger rows, newest first."""
    return WalletTransaction.objects.filter(user=user).order_by("-created_at", "-id")[:limit]


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
