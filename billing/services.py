"""The only code that changes money, orders and receipts.

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

import hashlib
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import (
    AddOn,
    BankCard,
    DiscountCode,
    DiscountUse,
    IllegalTransition,
    Order,
    Plan,
    Receipt,
    TrialClaim,
    WalletTransaction,
)
from billing.placement import order_place, panel_is_full
from billing.selectors import (  # noqa: F401 - plans_for_sale is read from here too
    panel_has_room,
    plan_allows_panel,
    plans_for_sale,
    sellable_inbounds,
    wallet_history,
    with_places_taken,
)
from panels.models import ClientAccount, Inbound, Panel

User = get_user_model()


class BillingError(Exception):
    """A business rule refused the operation; the message is for the customer/operator."""


class InsufficientFunds(BillingError):
    pass


class ReceiptAlreadyReviewed(BillingError):
    pass


class OrderNotPayable(BillingError):
    pass


class OrderNotYours(OrderNotPayable):
    """The order belongs to another customer (a forged or foreign button)."""


class NoLongerForSale(BillingError):
    """What the order was priced on changed (plan, price, inbound, panel); nothing charged."""


class DiscountRejected(BillingError):
    """The typed code does not apply to this order; the message says why."""


class TrialAlreadyUsed(BillingError):
    pass


# --- what is for sale ----------------------------------------------------------
#
# The definitions of "sellable" live in billing.selectors (re-exported here for the
# callers that already read them from billing.services).


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
    if plan is not None and order.kind == Order.Kind.NEW and plan.price != _list_price(order):
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
    if plan is not None and plan.price != _list_price(order):
        return _("The price of this plan has changed.")
    if order.kind == Order.Kind.ADDON:
        addon = AddOn.objects.filter(pk=order.addon_id).first()
        if addon is None or not addon.is_active:
            return _("This add-on is no longer sold.")
        if addon.price != _list_price(order):
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


# --- the wallet ---------------------------------------------------------------


def _wallet_apply(
    *,
    user_id: int,
    amount: int,
    kind: str,
    idempotency_key: str,
    order: Order | None = None,
    receipt: Receipt | None = None,
    note: str = "",
    created_by=None,
    locked_user=None,
) -> WalletTransaction:
    """One wallet change and its ledger row, under the user's row lock.

    ``locked_user``: the caller already holds that lock in its own transaction and
    read the balance under it (``user_lock``), so neither is taken again. The caller
    then lets any exception abort its whole transaction (no savepoint here).
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise ValueError("a wallet change is a non-zero whole number of Toman")
    if locked_user is not None:
        if locked_user.pk != user_id or not transaction.get_connection().in_atomic_block:
            raise ValueError("locked_user must be the user locked in this transaction")
        return _wallet_write(
            locked_user, amount, kind, idempotency_key, order, receipt, note, created_by
        )
    with transaction.atomic():
        user = user_lock(user_id=user_id)
        return _wallet_write(user, amount, kind, idempotency_key, order, receipt, note, created_by)


def user_lock(*, user_id: int):
    """Lock the user's row (the first lock of the policy above) and read its balance."""
    return User.objects.select_for_update().only("id", "balance").get(pk=user_id)


def _wallet_write(user, amount, kind, idempotency_key, order, receipt, note, created_by):
    """The change itself; the caller holds the user's row lock in a transaction."""
    user_id = user.pk
    # Under the user's lock no other change to this wallet can run, so this
    # check-then-insert cannot race: a repeated key returns the first result.
    existing = WalletTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        existing.replayed = True
        return existing
    new_balance = user.balance + amount
    if new_balance < 0:
        raise InsufficientFunds(_("The wallet balance is not enough."))
    User.objects.filter(pk=user_id).update(balance=new_balance)
    user.balance = new_balance
    return WalletTransaction.objects.create(
        user_id=user_id,
        amount=amount,
        balance_after=new_balance,
        kind=kind,
        order=order,
        receipt=receipt,
        note=note,
        created_by=created_by,
        idempotency_key=idempotency_key,
    )


def wallet_credit(
    *, user_id: int, amount: int, kind: str, idempotency_key: str, **extra
) -> WalletTransaction:
    if amount <= 0:
        raise ValueError("a credit is a positive amount")
    return _wallet_apply(
        user_id=user_id, amount=amount, kind=kind, idempotency_key=idempotency_key, **extra
    )


def wallet_debit(
    *, user_id: int, amount: int, kind: str, idempotency_key: str, **extra
) -> WalletTransaction:
    if amount <= 0:
        raise ValueError("a debit is a positive amount")
    return _wallet_apply(
        user_id=user_id, amount=-amount, kind=kind, idempotency_key=idempotency_key, **extra
    )


def wallet_adjust(
    *, user_id: int, amount: int, note: str, created_by, request_id: str = ""
) -> WalletTransaction:
    """An operator's manual correction; the note is kept for audit.

    request_id identifies one submission (a form's hidden field, an API client's
    Idempotency-Key): a double click or a retried request books the change once.
    """
    if not note.strip():
        raise BillingError(_("An adjustment needs a note saying why."))
    request_id = (request_id or uuid.uuid4().hex)[:64]
    return _wallet_apply(
        user_id=user_id,
        amount=amount,
        kind=WalletTransaction.Kind.ADJUSTMENT,
        idempotency_key=f"adjust:{user_id}:{request_id}",
        note=note.strip(),
        created_by=created_by,
    )


# --- orders --------------------------------------------------------------------


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
        problem = order_sale_problem(order) or _discount_use_claim(order)
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
        _discount_use_release(order)
        order_transition(order=order, to_status=Order.Status.REFUNDED)
    return order


# --- receipts ------------------------------------------------------------------


def receipt_submit(
    *, order: Order, image_name: str, image_bytes: bytes, file_unique_id: str = ""
) -> Receipt:
    """Store a receipt photo for an order that awaits one."""
    from django.core.files.base import ContentFile

    digest = hashlib.sha256(image_bytes).hexdigest()
    with transaction.atomic():
        User.objects.select_for_update().only("id").get(pk=order.user_id)
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.AWAITING_RECEIPT:
            raise OrderNotPayable(_("This order does not await a receipt."))
        if order.receipts.filter(status=Receipt.Status.PENDING).exists():
            raise BillingError(_("A receipt for this order is already waiting for review."))
        earlier = Receipt.objects.filter(sha256=digest)
        if file_unique_id:
            earlier = earlier | Receipt.objects.filter(telegram_file_unique_id=file_unique_id)
        receipt = Receipt(
            order=order,
            user_id=order.user_id,
            sha256=digest,
            telegram_file_unique_id=file_unique_id,
            amount=order.amount,
            duplicate_of=earlier.order_by("created_at", "id").first(),
        )
        receipt.image.save(image_name, ContentFile(image_bytes), save=False)
        receipt.save()
    return receipt


def receipt_approve(*, receipt_id: int, reviewer) -> Receipt:
    """Approve a pending receipt at most once and pay its order.

    A top-up credits the wallet. A purchase order becomes paid (provisioning runs
    after the commit, outside any lock). If the order was cancelled or expired in
    the meantime the money still arrived, so it goes to the wallet.
    """
    receipt = Receipt.objects.select_related("order").get(pk=receipt_id)
    now = timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().only("id").get(pk=receipt.user_id)
        order = Order.objects.select_for_update().get(pk=receipt.order_id)
        claimed = Receipt.objects.filter(pk=receipt_id, status=Receipt.Status.PENDING).update(
            status=Receipt.Status.APPROVED, reviewed_by=reviewer, reviewed_at=now
        )
        if claimed != 1:
            raise ReceiptAlreadyReviewed(_("This receipt was already reviewed."))
        receipt.refresh_from_db()
        if order.kind == Order.Kind.TOPUP or order.status not in Order.PAYABLE:
            wallet_credit(
                user_id=order.user_id,
                amount=receipt.amount,
                kind=WalletTransaction.Kind.TOPUP,
                idempotency_key=f"receipt:{receipt.pk}:credit",
                order=order,
                receipt=receipt,
                created_by=reviewer,
                note=""
                if order.kind == Order.Kind.TOPUP
                else f"order #{order.pk} was {order.status} when its receipt was approved",
            )
            if order.kind == Order.Kind.TOPUP and order.status in Order.PAYABLE:
                order_transition(order=order, to_status=Order.Status.PAID, paid_at=now)
                order_transition(order=order, to_status=Order.Status.FULFILLED, fulfilled_at=now)
        elif (problem := _discount_use_claim(order)) is not None:
            # The code ran out while the receipt waited: the money is the customer's.
            wallet_credit(
                user_id=order.user_id,
                amount=receipt.amount,
                kind=WalletTransaction.Kind.TOPUP,
                idempotency_key=f"receipt:{receipt.pk}:credit",
                order=order,
                receipt=receipt,
                created_by=reviewer,
                note=f"order #{order.pk} cancelled when its receipt was approved: {problem}",
            )
            order_transition(order=order, to_status=Order.Status.CANCELLED)
        else:
            # The money has arrived: placed on the least loaded panel of the location
            # (kept where it is when all are full; provisioning or a refund follows).
            order_place(order)
            order_transition(
                order=order,
                to_status=Order.Status.PAID,
                payment_method=Order.PaymentMethod.RECEIPT,
                paid_at=now,
            )
    return receipt


def receipt_reject(*, receipt_id: int, reviewer, reason: str) -> Receipt:
    """Reject a pending receipt; the order keeps awaiting a (new) receipt."""
    reason = (reason or "").strip()
    if not reason:
        raise BillingError(_("A rejection needs a reason the customer will read."))
    updated = Receipt.objects.filter(pk=receipt_id, status=Receipt.Status.PENDING).update(
        status=Receipt.Status.REJECTED,
        reviewed_by=reviewer,
        reviewed_at=timezone.now(),
        reject_reason=reason,
    )
    if updated != 1:
        raise ReceiptAlreadyReviewed(_("This receipt was already reviewed."))
    return Receipt.objects.get(pk=receipt_id)


# --- discount codes ------------------------------------------------------------------


def _list_price(order: Order) -> int:
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

    The use is only counted when the order is paid (``_discount_use_claim``).
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
        price = _list_price(order)
        off = found.discount_on(price)
        Order.objects.filter(pk=order.pk).update(
            discount_code=found, discount_amount=off, amount=price - off, updated_at=timezone.now()
        )
    order.refresh_from_db()
    return order


def _discount_use_claim(order: Order) -> str | None:
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


def _discount_use_release(order: Order) -> None:
    """A refunded order gives its code's use back."""
    if order.discount_code_id is None:
        return
    code = DiscountCode.objects.select_for_update().get(pk=order.discount_code_id)
    deleted, _rows = DiscountUse.objects.filter(order=order).delete()
    if deleted:
        DiscountCode.objects.filter(pk=code.pk).update(uses=max(code.uses - 1, 0))


# --- the free trial --------------------------------------------------------------------


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


# --- referral rewards -------------------------------------------------------------------


def referral_reward(*, order_id: int) -> WalletTransaction | None:
    """Credit the inviter REFERRAL_PERCENT of an invited customer's fulfilled order.

    Once per order (the idempotency key), only for the invitee's first
    REFERRAL_MAX_ORDERS rewarded orders, counted under the inviter's row lock.
    Returns the new ledger row (``replayed`` when it already existed), or None.
    """
    order = Order.objects.select_related("user").get(pk=order_id)
    inviter_id = order.user.referred_by_id
    percent = settings.REFERRAL_PERCENT
    if (
        inviter_id is None
        or order.status != Order.Status.FULFILLED
        or order.kind not in Order.DELIVERABLE
        or percent <= 0
    ):
        return None
    reward = order.amount * percent // 100
    if reward <= 0:
        return None
    key = f"referral:order:{order.pk}"
    with transaction.atomic():
        User.objects.select_for_update().only("id").get(pk=inviter_id)
        existing = WalletTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            existing.replayed = True
            return existing
        earlier = WalletTransaction.objects.filter(
            user_id=inviter_id, kind=WalletTransaction.Kind.REFERRAL, order__user_id=order.user_id
        ).count()
        if earlier >= settings.REFERRAL_MAX_ORDERS:
            return None
        return wallet_credit(
            user_id=inviter_id,
            amount=reward,
            kind=WalletTransaction.Kind.REFERRAL,
            idempotency_key=key,
            order=order,
            note=f"{percent}% of order #{order.pk}",
        )
