"""Discount codes: whether a code applies, putting it on an order, counting its uses."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import (
    DiscountCode,
    DiscountUse,
    Order,
)
from billing.services.errors import (
    DiscountRejected,
    OrderNotPayable,
    OrderNotYours,
)

User = get_user_model()


def order_list_price(order: Order) -> int:
    return order.amount + order.discount_amount


_KIND_FLAG = {
    Order.Kind.NEW: "for_new",
    Order.Kind.RENEW: "for_renewal",
    Order.Kind.ADDON: "for_addon",
}


def discount_used_up_text():
    return _("This discount code has been used up.")


def discount_problem(code: DiscountCode, order: Order, *, now=None) -> str | None:
    """Why this code does not apply to this order, or None (limits as read, unlocked)."""
    now = now or timezone.now()
    if not code.is_active:
        return _("This discount code is not active.")
    if code.valid_from and now < code.valid_from:
        return _("This discount code is not valid yet.")
    if code.valid_until and now >= code.valid_until:
        return _("This discount code has expired.")
    if not getattr(code, _KIND_FLAG.get(order.kind, ""), False):
        return _("This discount code does not apply to this kind of order.")
    plan_ids = set(code.plans.values_list("pk", flat=True))
    if plan_ids and order.plan_id not in plan_ids:
        return _("This discount code does not apply to this plan.")
    if code.max_uses is not None and code.uses >= code.max_uses:
        return discount_used_up_text()
    if code.max_uses_per_user is not None:
        mine = DiscountUse.objects.filter(code=code, user_id=order.user_id).count()
        if mine >= code.max_uses_per_user:
            return _("You have already used this discount code.")
    return None


def order_apply_discount(*, order_id: int, user_id: int, code: str) -> Order:
    """Put a typed code on the customer's unpaid order: the new price, or why not.

    The use is only counted when the order is paid (``discount_use_claim``).
    """
    text = (code or "").strip().upper()
    with transaction.atomic():
        User.objects.select_for_update().only("id").get(pk=user_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.user_id != user_id:
            raise OrderNotYours(_("This order is not yours."))
        if order.status != Order.Status.PENDING or order.kind not in Order.DELIVERABLE:
            raise OrderNotPayable(_("This order can no longer be paid."))
        found = DiscountCode.objects.filter(code=text).first() if text else None
        if found is None:
            raise DiscountRejected(_("There is no such discount code."))
        problem = discount_problem(found, order)
        if problem is not None:
            raise DiscountRejected(problem)
        price = order_list_price(order)
        off = found.discount_on(price)
        Order.objects.filter(pk=order.pk).update(
            discount_code=found, discount_amount=off, amount=price - off, updated_at=timezone.now()
        )
    order.refresh_from_db()
    return order


def discount_use_claim(order: Order) -> str | None:
    """Count the order's code as used, under the code's row lock; or say why not.

    Called in the paying transaction after User and Order are locked (lock order:
    User, Order, DiscountCode). The lock serialises every payer of one code, and
    ``uses`` is read by that locking read, so ``max_uses`` holds whatever the
    isolation level.
    """
    if order.discount_code_id is None:
        return None
    code = DiscountCode.objects.select_for_update().get(pk=order.discount_code_id)
    problem = discount_problem(code, order)
    if problem is not None:
        return problem
    DiscountCode.objects.filter(pk=code.pk).update(uses=code.uses + 1)
    DiscountUse.objects.create(code=code, order=order, user_id=order.user_id)
    return None


def discount_use_release(order: Order) -> None:
    """A refunded order gives its code's use back."""
    if order.discount_code_id is None:
        return
    code = DiscountCode.objects.select_for_update().get(pk=order.discount_code_id)
    deleted, _rows = DiscountUse.objects.filter(order=order).delete()
    if deleted:
        DiscountCode.objects.filter(pk=code.pk).update(uses=max(code.uses - 1, 0))
