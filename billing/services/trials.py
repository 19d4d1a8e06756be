"""The free trial: one price-0 order per customer, paid through the same paid path."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from billing.models import (
    Order,
    Plan,
    TrialClaim,
)
from billing.services.errors import NoLongerForSale, TrialAlreadyUsed
from billing.services.orders import order_create_new, order_pay_from_wallet
from panels.models import Inbound

User = get_user_model()


def trial_claim(*, user, plan: Plan, inbound: Inbound) -> Order:
    """The customer's one free trial: a price-0 order paid through the same paid path.

    One per customer ever: the unique TrialClaim row decides, not a check before it.
    Provisioning then runs like any paid order's (outside this transaction).
    """
    if not plan.is_trial or not plan.is_active:
        raise NoLongerForSale(_("The free trial is not offered right now."))
    if TrialClaim.objects.filter(user_id=user.pk).exists():
        raise TrialAlreadyUsed(_("You have already used your free trial."))
    try:
        with transaction.atomic():
            User.objects.select_for_update().only("id").get(pk=user.pk)
            order = order_create_new(user=user, plan=plan, inbound=inbound)
            TrialClaim.objects.create(user_id=user.pk, order=order)
            # Re-checks the sale (room on the panel, inbound still sold) and marks it paid.
            order = order_pay_from_wallet(order_id=order.pk, user_id=user.pk)
    except IntegrityError:
        raise TrialAlreadyUsed(_("You have already used your free trial.")) from None
    return order


def trial_used(user) -> bool:
    return TrialClaim.objects.filter(user_id=user.pk).exists()
