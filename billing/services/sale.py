"""What is for sale, and whether an order can still be sold as it was priced.

The definitions of "sellable" live in billing.selectors.
"""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from billing.models import (
    AddOn,
    BankCard,
    Order,
    Plan,
)
from billing.placement import panel_is_full
from billing.selectors import (
    panel_has_room,
    plan_allows_panel,
    sellable_inbounds,
    with_places_taken,
)
from billing.services.discounts import order_list_price
from panels.models import ClientAccount, Inbound, Panel

User = get_user_model()


def panels_for_sale(*, plan: Plan) -> QuerySet[Panel]:
    """Active, healthy (or not yet checked) panels with room that sell this plan."""
    inbounds = sellable_inbounds().filter(panel=OuterRef("pk"))
    return (
        with_places_taken(
            Panel.objects.filter(is_active=True, health__in=(Panel.Health.OK, Panel.Health.UNKNOWN))
        )
        .filter(panel_has_room())
        .filter(plan_allows_panel(plan, "pk"))
        .filter(Exists(inbounds))
    )


def inbounds_for_sale(*, plan: Plan, panel: Panel | None = None) -> QuerySet[Inbound]:
    """Sellable inbounds for the plan, on ``panel`` or on any panel that sells it."""
    inbounds = sellable_inbounds().filter(plan_allows_panel(plan, "panel_id"))
    if panel is not None:
        return inbounds.filter(panel=panel)
    return inbounds.filter(panel__in=panels_for_sale(plan=plan).values("pk"))


def order_sale_problem(order: Order) -> str | None:
    """Why the order can no longer be sold as priced, or None.

    Only what the order names is checked: a plan's price and activity, and for a new
    account its inbound and panel (still sellable, active, with room). Panel health is
    not required here: a paid order on a panel that is down is kept and retried.
    """
    plan = None
    if order.plan_id:
        plans = Plan.objects.filter(pk=order.plan_id)
        if order.kind == Order.Kind.NEW and order.inbound_id is not None:
            # One query when all is well: the plan, and whether it still sells here.
            plans = plans.annotate(sells_here=Exists(_panel_selling(order)))
        plan = plans.first()
    if order.plan_id and (plan is None or not plan.is_active):
        return _("This plan is no longer sold.")
    if plan is not None and order.kind == Order.Kind.NEW and plan.price != order_list_price(order):
        return _("The price of this plan has changed.")
    if order.kind in (Order.Kind.RENEW, Order.Kind.ADDON):
        return _renewal_sale_problem(order, plan)
    if order.kind != Order.Kind.NEW or order.inbound_id is None:
        return None
    if getattr(plan, "sells_here", False):
        return None
    # What does not sell any more: the reason is looked for only now.
    panels = with_places_taken(Panel.objects.filter(pk=order.panel_id, is_active=True))
    if plan is not None:
        panels = panels.filter(plan_allows_panel(plan, "pk"))
    panel = panels.filter(
        Exists(sellable_inbounds().filter(pk=order.inbound_id, panel=OuterRef("pk")))
    ).first()
    if panel is None:
        if not sellable_inbounds().filter(pk=order.inbound_id).exists():
            return _("This protocol is no longer offered.")
        return _("This location is no longer offered.")
    if panel_is_full(panel):  # paid orders not yet delivered count as taken
        return _("This location is full right now.")
    return None


def _panel_selling(order: Order) -> QuerySet[Panel]:
    """The order's panel when it still sells its plan on its inbound and has room."""
    return (
        with_places_taken(Panel.objects.filter(pk=order.panel_id, is_active=True))
        .filter(plan_allows_panel(Plan(pk=order.plan_id), "pk"))
        .filter(Exists(sellable_inbounds().filter(pk=order.inbound_id, panel=OuterRef("pk"))))
        .filter(panel_has_room())
    )


def _renewal_sale_problem(order: Order, plan: Plan | None) -> str | None:
    """A renewal or add-on: its price still stands and its account can still take it."""
    if plan is not None and plan.price != order_list_price(order):
        return _("The price of this plan has changed.")
    if order.kind == Order.Kind.ADDON:
        addon = AddOn.objects.filter(pk=order.addon_id).first()
        if addon is None or not addon.is_active:
            return _("This add-on is no longer sold.")
        if addon.price != order_list_price(order):
            return _("The price of this add-on has changed.")
    account = ClientAccount.objects.filter(pk=order.renews_id, user_id=order.user_id).first()
    if account is None or account.status == ClientAccount.Status.DELETED:
        return _("This service was deleted, so it can no longer be renewed.")
    if plan is not None:
        allowed = Panel.objects.filter(pk=account.panel_id).filter(plan_allows_panel(plan, "pk"))
        if not allowed.exists():
            return _("This plan is not offered for this service's location.")
    return None


def bank_card_for_payment() -> BankCard | None:
    return BankCard.objects.filter(is_active=True).first()
