"""The wallet: every change of a balance, with its ledger row, under the user's row lock.

Lock order: see billing.services.orders (User, then Order, then Receipt).
"""

import uuid

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from billing.models import (
    Order,
    Receipt,
    WalletTransaction,
)
from billing.services.errors import (
    BillingError,
    InsufficientFunds,
)

User = get_user_model()


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
    """Lock the user's row and read its balance.

    The first lock of the policy written in billing.services.orders.
    """
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
