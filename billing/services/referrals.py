"""Referral rewards: the inviter's share of an invited customer's fulfilled order."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from billing.models import (
    Order,
    WalletTransaction,
)
from billing.services.wallet import wallet_credit

User = get_user_model()


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
