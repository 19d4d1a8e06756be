"""Panel health for operators: a cheap probe, and the transitions to announce.

A panel goes DOWN after FAILURES_BEFORE_DOWN failed checks in a row (a sync, a probe or
a real call: panel_record_failure) and UP after one success; each
transition writes one PanelHealthEvent (unique per panel and number). The bot layer
takes unsent events with :func:`health_event_claim` -- exactly one caller wins each --
and tells the operators; when a panel is back its waiting orders are retried at once.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from billing.models import Order
from panels.models import Panel, PanelHealthEvent
from panels.sessions import panel_client
from panels.xui import PanelAuthError, PanelError, error_summary

# --- what calls found: the panel's health ------------------------------------------

# A healthy panel goes down (and its location off sale) only on evidence: this many
# failed calls in a row, or a failed probe (the operator's test, add_panel). One
# transient 502 in the middle of a sale is not evidence.
FAILURES_BEFORE_DOWN = 2


DOWN_STATES = (Panel.Health.DOWN, Panel.Health.AUTH_ERROR)


def _record_health_event(panel_id: int, kind: str, error: str, now) -> None:
    """One row per transition (called while the transition's UPDATE holds the panel row).

    A DOWN row says since when (now); an UP row carries when the panel went down.
    """
    last = PanelHealthEvent.objects.filter(panel_id=panel_id).order_by("-seq").first()
    since = now if kind == PanelHealthEvent.Kind.DOWN else (last.since if last else None)
    if kind == PanelHealthEvent.Kind.UP and (
        last is None or last.kind != PanelHealthEvent.Kind.DOWN
    ):
        return  # down before any alert existed (or never announced): nothing to say is back
    PanelHealthEvent.objects.create(
        panel_id=panel_id, seq=(last.seq + 1) if last else 1, kind=kind, error=error, since=since
    )


def panel_record_failure(panel: Panel, exc: Exception, *, probe: bool = False) -> None:
    bad = Panel.Health.AUTH_ERROR if isinstance(exc, PanelAuthError) else Panel.Health.DOWN
    now = timezone.now()
    # The summary: never what the remote server answered (readable over the API).
    error = error_summary(exc)
    with transaction.atomic():
        rows = Panel.objects.filter(pk=panel.pk)
        rows.update(
            consecutive_failures=F("consecutive_failures") + 1,
            last_error=error,
            last_checked_at=now,
        )
        failures, health = rows.values_list("consecutive_failures", "health").first() or (1, "")
        # A panel not known to work (unknown, or already down) has no health to keep.
        if probe or health != Panel.Health.OK or failures >= FAILURES_BEFORE_DOWN:
            rows.update(health=bad)
            if health == Panel.Health.OK:
                # The UPDATE above holds the panel row: one caller sees this transition.
                _record_health_event(panel.pk, PanelHealthEvent.Kind.DOWN, error, now)
            health = bad
    panel.health, panel.last_error, panel.last_checked_at = health, error, now
    panel.consecutive_failures = failures


def panel_record_success(panel: Panel) -> None:
    """The panel just served a call: it is up, whatever one earlier error said."""
    if panel.health == Panel.Health.OK and panel.consecutive_failures == 0:
        # As loaded for this call it was already up: the UPDATE below would match no
        # row but for a failure recorded meanwhile, which the next success clears.
        return
    _mark_up(panel, timezone.now())


def _mark_up(panel: Panel, now) -> None:
    with transaction.atomic():
        rows = Panel.objects.filter(pk=panel.pk)
        came_back = rows.filter(health__in=DOWN_STATES).update(health=Panel.Health.OK)
        changed = (
            rows.exclude(consecutive_failures=0, health=Panel.Health.OK, last_error="").update(
                health=Panel.Health.OK, consecutive_failures=0, last_error="", last_checked_at=now
            )
            or came_back
        )
        if came_back:
            _record_health_event(panel.pk, PanelHealthEvent.Kind.UP, "", now)
    if changed:
        panel.health, panel.consecutive_failures, panel.last_error = Panel.Health.OK, 0, ""


def panel_test_connection(*, panel: Panel) -> str:
    """Log in and detect the API generation; record the panel's health. Returns it."""
    client = panel_client(panel)
    try:
        generation = client.detect()
    except PanelError as exc:
        panel_record_failure(panel, exc, probe=True)
        raise
    now = timezone.now()
    _mark_up(panel, now)
    Panel.objects.filter(pk=panel.pk).update(
        health=Panel.Health.OK,
        consecutive_failures=0,
        last_error="",
        last_checked_at=now,
        api_generation=generation,
    )
    panel.health, panel.last_error, panel.api_generation = Panel.Health.OK, "", generation
    return generation


# --- probes and the transitions to announce -------------------------------------------


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
