"""Placement by load: which panel of a location gets a new account.

The customer picks a location (``Panel.location_name``) and a protocol; a location may
have several panels. At payment the order goes to the panel of that location with the
most free places that sells the plan and has a sellable inbound of that protocol.
Places taken are active accounts *and* paid orders not yet delivered, so a burst of
purchases cannot overfill a panel while their provisioning is still running.

The candidate panels' rows are locked (``select_for_update``, in primary-key order, so
concurrent payments never deadlock) while one payment chooses: the next payment sees
this one's paid order.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from billing.models import Order, Plan
from billing.selectors import plan_allows_panel, sellable_inbounds, with_places_taken
from panels.models import Inbound, Panel


def places_taken(panel_ids) -> dict[int, int]:
    """Active accounts plus paid, not yet delivered new orders, per panel."""
    panels = with_places_taken(Panel.objects.filter(pk__in=list(panel_ids)))
    return dict(panels.values_list("pk", "places_taken"))


def _free(panel: Panel, taken: int) -> float:
    return float("inf") if not panel.capacity else panel.capacity - taken


def order_place(order: Order, plan: Plan | None = None) -> Order:
    """Move a new order to the least loaded panel of its location (inside a transaction).

    Only healthy (or unchecked), active panels that may sell the plan and have a
    sellable inbound of the order's protocol are candidates; the inbound of the same
    transport and security is preferred. With no candidate that has room the order
    is left as it is (order_sale_problem then says the location is full).
    """
    if order.kind != Order.Kind.NEW or order.inbound_id is None or order.panel_id is None:
        return order
    current = Inbound.objects.select_related("panel").filter(pk=order.inbound_id).first()
    if current is None:
        return order
    same_protocol = sellable_inbounds().filter(protocol=current.protocol, panel=OuterRef("pk"))
    candidates = Panel.objects.filter(
        is_active=True,
        health__in=(Panel.Health.OK, Panel.Health.UNKNOWN),
        location_name=current.panel.location_name,
    ).filter(Exists(same_protocol))
    if order.plan_id is not None:
        # Only the plan's pk is needed: no query for the plan itself.
        candidates = candidates.filter(plan_allows_panel(plan or Plan(pk=order.plan_id), "pk"))
    # The current panel is locked too (even when it left the candidates), always by pk;
    # whether each locked panel is a candidate comes with the lock, in one query.
    locked = list(
        Panel.objects.select_for_update()
        .filter(Q(pk__in=candidates.values("pk")) | Q(pk=order.panel_id))
        .annotate(is_candidate=Exists(candidates.filter(pk=OuterRef("pk"))))
        .order_by("pk")
    )
    panels = [p for p in locked if p.is_candidate]
    if not panels:
        return order
    if len(panels) == 1 and not panels[0].capacity:
        # One candidate with no limit: nothing to choose between and no room to check,
        # so the count (a query on every purchase at most locations) is not needed.
        taken = {panels[0].pk: 0}
    else:
        taken = places_taken(p.pk for p in panels)
    best = max(panels, key=lambda p: (_free(p, taken[p.pk]), -taken[p.pk], -p.pk))
    if _free(best, taken[best.pk]) <= 0 or best.pk == order.panel_id:
        return order
    inbounds = sellable_inbounds().filter(panel=best, protocol=current.protocol)
    inbound = (
        inbounds.filter(network=current.network, security=current.security).order_by("pk").first()
        or inbounds.order_by("pk").first()
    )
    order.panel_id, order.inbound_id = best.pk, inbound.pk
    Order.objects.filter(pk=order.pk).update(panel_id=best.pk, inbound_id=inbound.pk)
    return order


def panel_is_full(panel: Panel) -> bool:
    return bool(panel.capacity) and places_taken([panel.pk])[panel.pk] >= panel.capacity


# --- what the customer picks from (one button per location, per protocol) --------------


def one_per_location(panels: list[Panel]) -> list[Panel]:
    """The first panel of each location (its button stands for the whole location)."""
    seen: set[str] = set()
    out = []
    for panel in panels:
        key = panel.location_name.strip().lower()
        if key not in seen:
            seen.add(key)
            out.append(panel)
    return out


def location_inbounds(inbounds: list[Inbound]) -> list[Inbound]:
    """One inbound per protocol, transport and security across a location's panels."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for inbound in inbounds:
        key = (inbound.protocol, inbound.network, inbound.security)
        if key not in seen:
            seen.add(key)
            out.append(inbound)
    return out
