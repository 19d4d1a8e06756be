"""Card-to-card receipts: a customer submits a photo, an operator approves or rejects it.

Lock order: see billing.services.orders (User, then Order, then Receipt).
"""

import hashlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import (
    Order,
    Receipt,
    WalletTransaction,
)
from billing.placement import order_place
from billing.services.discounts import discount_use_claim
from billing.services.errors import (
    BillingError,
    OrderNotPayable,
    ReceiptAlreadyReviewed,
)
from billing.services.orders import order_transition
from billing.services.wallet import wallet_credit

User = get_user_model()


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
        elif (problem := discount_use_claim(order)) is not None:
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
