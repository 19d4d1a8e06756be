"""Panel health for operators: a cheap probe, and the transitions to announce.

A panel goes DOWN after FAILURES_BEFORE_DOWN failed checks in a row (a sync, a probe or
a real call: panels.services.panel_record_failure) and UP after one success; each
transition writes one PanelHealthEvent (unique per panel and number). The bot layer
takes unsent events with :func:`health_event_claim` -- exactly one caller wins each --
and tells the operators; when a panel is back its waiting orders are retried at once.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from billing.models import Order
from panels.models import Panel, PanelHealthEvent
from panels.services import panel_client, panel_record_failure, panel_record_success
from panels.xui import PanelError


def panel_probe_call(panel: Panel) -> PanelError | None:
    """One authenticated call (the inbound list), nothing written: safe in a thread."""
    try:
        panel_client(panel).list_inbounds()
    except PanelError as exc:
        return exc
    return None


def panel_probe_record(panel: Panel, error: PanelError | None) -> bool:
    """Count a probe's outcome like any call's; True when the panel answered."""
    if error is not None:
        panel_record_failure(panel, error)
        return False
    panel_record_success(panel)
    return True


def panel_probe(*, panel: Panel) -> bool:
    return panel_probe_record(panel, panel_probe_call(panel))


def waiting_orders(panel_ids) -> dict[int, int]:
    """Paid orders not yet delivered, per panel."""
    rows = (
        Order.objects.filter(panel_id__in=list(panel_ids), status=Order.Status.PAID)
        .exclude(kind=Order.Kind.TOPUP)
        .values("panel_id")
        .annotate(n=Count("id", filter=Q(status=Order.Status.PAID)))
    )
    return {row["panel_id"]: row["n"] for row in rows}


def health_events_unsent(limit: int = 50) -> list[PanelHealthEvent]:
    return list(
        PanelHealthEvent.objects.filter(notified_at__isnull=True)
        .select_related("panel")
        .order_by("created_at", "id")[:limit]
    )


def health_event_claim(event: PanelHealthEvent) -> bool:
    """True for exactly one caller per event (a conditional UPDATE of its row)."""
    now = timezone.now()
    claimed = PanelHealthEvent.objects.filter(pk=event.pk, notified_at__isnull=True).update(
        notified_at=now
    )
    if claimed:
        event.notified_at = now
    return bool(claimed)
