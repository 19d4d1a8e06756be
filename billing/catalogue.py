"""What the bot's menu and Buy list offer: the plans on sale and the free trial.

Every menu and Buy press shows them, and reading them was half the queries of such
an update, so each process keeps them in memory for ``CATALOGUE_SECONDS`` (5 by
default). A plan saved or deleted through the ORM in this process (the console, the
API, a command) empties the copy at once; other processes (the bot, the other web
workers) see the change within those seconds. Nothing is sold from the copy: choosing
a plan reads it again from the database (``selectors.plan_for_sale_or_trial``), and
paying checks its price and activity under lock, so a plan just withdrawn or repriced
is only ever shown, briefly, never sold.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from billing.models import Plan


@dataclass(frozen=True)
class Catalogue:
    plans: tuple[Plan, ...]  # on sale, in the Buy list's order
    trial: Plan | None  # the free trial on offer (the first active trial plan)
    read_at: float  # _clock() (time.monotonic) when read


_current: Catalogue | None = None
_clock = time.monotonic  # a test replaces it, not the process's own clock


def catalogue(*, fresh: bool = False) -> Catalogue:
    """The active plans, from memory when read less than CATALOGUE_SECONDS ago.

    ``fresh`` reads them now: for a caller that just found the copy out of date (a
    plan it offered is gone), so the list it offers next is right.
    """
    global _current
    now = _clock()
    current = _current
    if fresh or current is None or now - current.read_at >= settings.CATALOGUE_SECONDS:
        active = list(Plan.objects.filter(is_active=True))  # one query, Plan's order
        current = Catalogue(
            plans=tuple(plan for plan in active if not plan.is_trial),
            trial=next((plan for plan in active if plan.is_trial), None),
            read_at=now,
        )
        _current = current
    return current


def catalogue_forget(**_signal) -> None:
    """Read the plans again next time (a plan changed)."""
    global _current
    _current = None


def connect_signals() -> None:
    """Called from BillingConfig.ready: any plan saved or deleted here empties the copy."""
    post_save.connect(catalogue_forget, sender=Plan, dispatch_uid="catalogue-save")
    post_delete.connect(catalogue_forget, sender=Plan, dispatch_uid="catalogue-delete")
