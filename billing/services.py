"""The only code that changes money, orders and receipts.

Locking policy (see STYLE.md): rows are locked in one order everywhere —
User, then Order, then Receipt — so two services never deadlock, and every
locked block is short: no panel or Telegram call happens while a lock is held.
"""

import hashlib
import uuid

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import IllegalTransition, Order, Receipt, WalletTransaction

User = get_user_model()


class BillingError(Exception):
    """A business rule refused the operation; the message is for the customer/operator."""


class InsufficientFunds(BillingError):
    pass


class ReceiptAlreadyReviewed(BillingError):
    pass


class OrderNotPayable(BillingError):
    pass


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
) -> WalletTransaction:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise ValueError("a wallet change is a non-zero whole number of Toman")
    with transaction.atomic():
        user = User.objects.select_for_update().only("id", "balance").get(pk=user_id)
        # Under the user's lock no other change to this wallet can run, so this
        # check-then-insert cannot race: a repeated key returns the first result.
        existing = WalletTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        new_balance = user.balance + amount
        if new_balance < 0:
            raise InsufficientFunds(_("The wallet balance is not enough."))
        User.objects.filter(pk=user_id).update(balance=new_balance)
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


def wallet_adjust(*, user_id: int, amount: int, note: str, created_by) -> WalletTransaction:
    """An operator's manual correction; the note is kept for audit."""
    if not note.strip():
        raise BillingError(_("An adjustment needs a note saying why."))
    return _wallet_apply(
        user_id=user_id,
        amount=amount,
        kind=WalletTransaction.Kind.ADJUSTMENT,
        idempotency_key=f"adjust:{uuid.uuid4().hex}",
        note=note.strip(),
        created_by=created_by,
    )


# --- orders --------------------------------------------------------------------


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


def order_pay_from_wallet(*, order_id: int, user_id: int) -> Order:
    """Debit the wallet and mark the order paid, all under the user's row lock.

    A second press of the same button finds the order already paid and raises
    OrderNotPayable without charging again.
    """
    with transaction.atomic():
        User.objects.select_for_update().only("id").get(pk=user_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.user_id != user_id:
            raise OrderNotPayable(_("This order is not yours."))
        if order.status not in Order.PAYABLE:
            raise OrderNotPayable(_("This order can no longer be paid."))
        wallet_debit(
            user_id=user_id,
            amount=order.amount,
            kind=WalletTransaction.Kind.PURCHASE,
            idempotency_key=f"order:{order.pk}:pay",
            order=order,
        )
        order_transition(
            order=order,
            to_status=Order.Status.PAID,
            payment_method=Order.PaymentMethod.WALLET,
            paid_at=timezone.now(),
        )
    return order


def order_refund(*, order_id: int, note: str = "", created_by=None) -> Order:
    """Give a paid order's amount back to the wallet (paid or failed → refunded)."""
    with transaction.atomic():
        order = Order.objects.get(pk=order_id)
        User.objects.select_for_update().only("id").get(pk=order.user_id)
        order = Order.objects.select_for_update().get(pk=order_id)
        order.check_transition(Order.Status.REFUNDED)
        wallet_credit(
            user_id=order.user_id,
            amount=order.amount,
            kind=WalletTransaction.Kind.REFUND,
            idempotency_key=f"order:{order.pk}:refund",
            order=order,
            note=note,
            created_by=created_by,
        )
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
        else:
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
