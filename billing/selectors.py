"""Reads several callers share: what is for sale, and where.

One definition of "sellable" and of "this plan is allowed on this panel", used to build
the bot's menus, re-checked at pay time (billing.services) and offered by the console,
so a button from an old message can never buy what the menus no longer offer.
"""

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from billing.models import Plan, WalletTransaction
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
    # capacity 0 means no limit; needs the active_accounts annotation.
    return Q(capacity=0) | Q(active_accounts__lt=F("capacity"))


def with_active_accounts(panels: QuerySet[Panel]) -> QuerySet[Panel]:
    active = (
        ClientAccount.objects.filter(panel=OuterRef("pk"), status=ClientAccount.Status.ACTIVE)
        .order_by()
        .values("panel")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return panels.annotate(active_accounts=Coalesce(Subquery(active), Value(0)))


def sellable_inbounds() -> QuerySet[Inbound]:
    """Inbounds an operator marked sellable, active, whose links MoonVPN can build."""
    return Inbound.objects.filter(is_sellable=True, status=Inbound.Status.ACTIVE, link_problem="")


def plans_for_panel(panel_id: int) -> QuerySet[Plan]:
    """Plans on sale that a panel may carry (the other side of plan_allows_panel)."""
    return plans_for_sale().filter(Q(panels=None) | Q(panels=panel_id)).distinct()


def wallet_history(*, user, limit: int = 10) -> QuerySet[WalletTransaction]:
    """The customer's last ledger rows, newest first."""
    return WalletTransaction.objects.filter(user=user).order_by("-created_at", "-id")[:limit]
