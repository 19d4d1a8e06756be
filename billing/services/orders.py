"""Orders: locking, the state machine, creating, paying, moving, cancelling, refunding.

Locking policy (see STYLE.md): rows are locked in one order everywhere —
User, then Order, then Receipt — so two services never deadlock, and every
locked block is short: no panel or Telegram call happens while a lock is held.

Inserts count as locks too. On MariaDB (InnoDB) inserting a row with foreign keys
takes a shared lock on each parent row it names: a ClientAccount or a ledger row
locks its Order and its User. A block that inserts such a row after touching the
order would take order → user, against a payment's user → order, and 20 presses of
one Pay button then deadlock. Such blocks call ``order_lock`` first, which takes
User then Order explicitly, so every later insert only re-enters locks already held.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import (
    AddOn,
    IllegalTransition,
    Order,
    Plan,
    WalletTransaction,
)
from billing.placement import order_place
from billing.selectors import (
    sellable_inbounds,
)
from billing.services.discounts import discount_use_claim, discount_use_release
from billing.services.errors import BillingError, NoLongerForSale, OrderNotPayable, OrderNotYours
from billing.services.sale import order_sale_problem
from billing.services.wallet import user_lock, wallet_credit, wallet_debit
from panels.models import ClientAccount, Inbound

User = get_user_model()


def order_lock(*, order_id: int, user_id: int | None = None) -> Order:
    """Lock the order's user, then the order (the policy above); in a transaction.

    For any block that writes rows pointing at both (an account, a ledger row) and
    was not already started by a payment service that took these locks. ``user_id``:
    the order's user when the caller already knows it (an order's owner never changes).
    """
    if user_id is None:
        user_id = Order.objects.values_list("user_id", flat=True).get(pk=order_id)
    User.objects.select_for_update().only("id").get(pk=user_id)
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.user_id != user_id:
        raise ValueError(f"order #{order_id} is not user #{user_id}'s")
    return order


def order_transition(*, order: Order, to_status: str, **fields) -> Order:
    """Move an order along its state machine with a compare-and-set on the status.

    Raises IllegalTransition when the move is not allowed, or when another process
    moved the order first; in both cases nothing is written.
    """
    order.check_transition(to_status)
    now = timezone.now()
    updated = Order.objects.filter(pk=order.pk, status=order.status).update(
        status=to_status, updated_at=now, **fields
    )
    if updated != 1:
        raise IllegalTransition(f"order #{order.pk} was changed by someone else")
    order.status = to_status
    order.updated_at = now
    for name, value in fields.items():
        setattr(order, name, value)
    return order


def order_create_topup(*, user, amount: int) -> Order:
    if not isinstance(amount, int) or amount <= 0:
        raise BillingError(_("The amount must be a positive whole number of Toman."))
    return Order.objects.create(
        user=user,
        kind=Order.Kind.TOPUP,
        amount=amount,
        payment_method=Order.PaymentMethod.RECEIPT,
        status=Order.Status.AWAITING_RECEIPT,
    )


def order_create_new(*, user, plan: Plan, inbound: Inbound) -> Order:
    """A pending order for a new account, at the plan's price of this moment."""
    return Order.objects.create(
        user=user,
        kind=Order.Kind.NEW,
        plan=plan,
        panel_id=inbound.panel_id,
        inbound=inbound,
        amount=plan.price,
        status=Order.Status.PENDING,
    )


def order_create_renewal(*, user, account: ClientAccount, plan: Plan) -> Order:
    """A pending renewal of the customer's own account, at the plan's price of this moment.

    Paid like a purchase; panels.provisioning then applies it to the existing client.
    """
    if account.user_id != user.pk:
        raise OrderNotYours(_("This service is not yours."))
    return Order.objects.create(
        user=user,
        kind=Order.Kind.RENEW,
        plan=plan,
        renews=account,
        panel_id=account.panel_id,
        inbound_id=account.inbound_id,
        amount=plan.price,
        status=Order.Status.PENDING,
    )


def order_create_addon(*, user, account: ClientAccount, addon: AddOn) -> Order:
    """A pending add-on (extra traffic or days) for the customer's own account."""
    if account.user_id != user.pk:
        raise OrderNotYours(_("This service is not yours."))
    return Order.objects.create(
        user=user,
        kind=Order.Kind.ADDON,
        addon=addon,
        renews=account,
        panel_id=account.panel_id,
        inbound_id=account.inbound_id,
        amount=addon.price,
        status=Order.Status.PENDING,
    )


def order_pay_from_wallet(*, order_id: int, user_id: int) -> Order:
    """Debit the wallet and mark the order paid, all under the user's row lock.

    A second press of the same button finds the order already paid and raises
    OrderNotPayable without charging again. If what the order was priced on changed
    since (plan, price, inbound, panel), the order is cancelled, nothing is charged,
    and NoLongerForSale says why.
    """
    problem = None
    with transaction.atomic():
        user = user_lock(user_id=user_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.user_id != user_id:
            raise OrderNotYours(_("This order is not yours."))
        if order.kind not in Order.DELIVERABLE:
            # A top-up paid from the wallet would only move money in a circle, and
            # nothing would ever follow it: only what can be delivered is paid here.
            raise OrderNotPayable(_("This order cannot be paid from the wallet."))
        if order.status not in Order.PAYABLE:
            raise OrderNotPayable(_("This order can no longer be paid."))
        order_place(order)
        problem = order_sale_problem(order) or discount_use_claim(order)
        if problem is not None:
            # Committed, not rolled back: the stale order must not be paid later.
            order_transition(order=order, to_status=Order.Status.CANCELLED)
        else:
            if order.amount > 0:
                wallet_debit(
                    user_id=user_id,
                    amount=order.amount,
                    kind=WalletTransaction.Kind.PURCHASE,
                    idempotency_key=f"order:{order.pk}:pay",
                    order=order,
                    locked_user=user,
                )
            # A free order (a trial, a 100 % code) takes this same paid path, no debit.
            order_transition(
                order=order,
                to_status=Order.Status.PAID,
                payment_method=Order.PaymentMethod.WALLET
                if order.amount > 0
                else Order.PaymentMethod.FREE,
                paid_at=timezone.now(),
            )
    if problem is not None:
        raise NoLongerForSale(problem)
    return order


def order_await_receipt(*, order_id: int, user_id: int) -> Order:
    """The customer chose to pay by card: the order now waits for a receipt photo.

    Re-checks the sale like a wallet payment does (a stale button is cancelled with
    the reason). Choosing it again while already waiting changes nothing.
    """
    problem = None
    with transaction.atomic():
        User.objects.select_for_update().only("id").get(pk=user_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.user_id != user_id:
            raise OrderNotYours(_("This order is not yours."))
        if order.status == Order.Status.AWAITING_RECEIPT:
            return order
        if order.status != Order.Status.PENDING:
            raise OrderNotPayable(_("This order can no longer be paid."))
        problem = order_sale_problem(order)
        if problem is not None:
            order_transition(order=order, to_status=Order.Status.CANCELLED)
        else:
            order_transition(
                order=order,
                to_status=Order.Status.AWAITING_RECEIPT,
                payment_method=Order.PaymentMethod.RECEIPT,
            )
    if problem is not None:
        raise NoLongerForSale(problem)
    return order


def order_retry_problem(order: Order) -> str | None:
    """Why delivering this order again makes no sense now; None when it may be retried.

    Only a paid order not yet delivered is retried (the console's and the API's retry).
    """
    if order.status != Order.Status.PAID or order.kind == Order.Kind.TOPUP:
        return _("Order #%(id)s is %(status)s: only paid orders not yet delivered are retried.") % {
            "id": order.pk,
            "status": order.get_status_display(),
        }
    return None


def order_move(*, order_id: int, inbound_id: int) -> Order:
    """Point a paid, not yet delivered new-account order at another inbound.

    For an operator whose panel is down for good: nothing is charged again, the
    attempts start over and the next provisioning (retry_provisioning, or
    botapp.notify.provision_and_notify) creates the client on the new panel. The
    reserved identifiers are drawn again, since a trojan password is not a vless
    uuid. A client an earlier attempt made on the old panel is left there.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.kind != Order.Kind.NEW or order.status != Order.Status.PAID:
            raise BillingError(_("Only a paid order that was not delivered yet can be moved."))
        if order.provisioning_until and order.provisioning_until > timezone.now():
            raise BillingError(_("This order is being provisioned right now; try again later."))
        inbound = (
            sellable_inbounds().filter(pk=inbound_id, panel__is_active=True).select_related("panel")
        ).first()
        if inbound is None:
            raise BillingError(_("That inbound is not for sale."))
        Order.objects.filter(pk=order.pk).update(
            panel=inbound.panel,
            inbound=inbound,
            client_uuid="",
            client_email="",
            client_sub_id="",
            attempts=0,
            last_error="",
            updated_at=timezone.now(),
        )
    order.refresh_from_db()
    return order


def order_cancel(*, order_id: int, user_id: int) -> Order:
    """The customer gave up on an unpaid order."""
    with transaction.atomic():
        User.objects.select_for_update().only("id").get(pk=user_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.user_id != user_id:
            raise OrderNotYours(_("This order is not yours."))
        if order.status not in Order.PAYABLE:
            raise OrderNotPayable(_("This order can no longer be cancelled."))
        order_transition(order=order, to_status=Order.Status.CANCELLED)
    return order


def order_refund(*, order_id: int, note: str = "", created_by=None) -> Order:
    """Give a paid order's amount back to the wallet (paid or failed → refunded)."""
    with transaction.atomic():
        order = Order.objects.get(pk=order_id)
        User.objects.select_for_update().only("id").get(pk=order.user_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        order.check_transition(Order.Status.REFUNDED)
        if order.amount > 0:  # a free order (trial, 100 % code) has nothing to give back
            wallet_credit(
                user_id=order.user_id,
                amount=order.amount,
                kind=WalletTransaction.Kind.REFUND,
                idempotency_key=f"order:{order.pk}:refund",
                order=order,
                note=note,
                created_by=created_by,
            )
        discount_use_release(order)
        order_transition(order=order, to_status=Order.Status.REFUNDED)
    return order
