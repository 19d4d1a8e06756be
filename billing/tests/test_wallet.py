"""The wallet: exact, audited, never negative — also under concurrent writers."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from billing import services
from billing.models import IllegalTransition, Order, Receipt, WalletTransaction

pytestmark = pytest.mark.django_db


def _ledger_sum(user):
    return sum(WalletTransaction.objects.filter(user=user).values_list("amount", flat=True))


def _run_in_threads(count, target):
    """Run target(i) in `count` threads released together; each closes its DB connection."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # collected for the assertions
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_credit_and_debit_write_ledger_rows_and_balance(customer):
    services.wallet_credit(user_id=customer.pk, amount=150_000, kind="topup", idempotency_key="t1")
    services.wallet_debit(user_id=customer.pk, amount=40_000, kind="purchase", idempotency_key="t2")
    customer.refresh_from_db()
    assert customer.balance == 110_000
    rows = list(WalletTransaction.objects.filter(user=customer).order_by("id"))
    assert [(r.amount, r.balance_after) for r in rows] == [(150_000, 150_000), (-40_000, 110_000)]


def test_debit_beyond_balance_is_refused_and_changes_nothing(customer):
    services.wallet_credit(user_id=customer.pk, amount=10_000, kind="topup", idempotency_key="a")
    with pytest.raises(services.InsufficientFunds):
        services.wallet_debit(
            user_id=customer.pk, amount=10_001, kind="purchase", idempotency_key="b"
        )
    customer.refresh_from_db()
    assert customer.balance == 10_000
    assert WalletTransaction.objects.filter(user=customer).count() == 1


def test_same_idempotency_key_applies_once(customer):
    first = services.wallet_credit(
        user_id=customer.pk, amount=5_000, kind="topup", idempotency_key="receipt:1:credit"
    )
    again = services.wallet_credit(
        user_id=customer.pk, amount=5_000, kind="topup", idempotency_key="receipt:1:credit"
    )
    customer.refresh_from_db()
    assert first.pk == again.pk
    assert customer.balance == 5_000


def test_floats_are_not_money(customer):
    with pytest.raises(ValueError):
        services.wallet_credit(user_id=customer.pk, amount=10.5, kind="topup", idempotency_key="f")
    assert WalletTransaction.objects.count() == 0


def test_database_refuses_a_negative_balance(customer):
    # The CHECK constraint is the last line of defence if code ever skips the service.
    from accounts.models import User

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=customer.pk).update(balance=-1)
    customer.refresh_from_db()
    assert customer.balance == 0


def test_ledger_rows_cannot_be_edited_or_deleted(customer):
    row = services.wallet_credit(
        user_id=customer.pk, amount=1_000, kind="topup", idempotency_key="x"
    )
    row.note = "changed"
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        WalletTransaction.objects.filter(pk=row.pk).update(amount=5)
    with pytest.raises(TypeError):
        WalletTransaction.objects.all().delete()
    assert WalletTransaction.objects.get(pk=row.pk).amount == 1_000


def test_adjustment_needs_a_note(customer, staff_user):
    with pytest.raises(services.BillingError):
        services.wallet_adjust(user_id=customer.pk, amount=500, note="  ", created_by=staff_user)
    row = services.wallet_adjust(
        user_id=customer.pk, amount=500, note="goodwill", created_by=staff_user
    )
    assert (row.kind, row.note, row.created_by) == ("adjustment", "goodwill", staff_user)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_debits_of_a_wallet_that_affords_five(customer):
    services.wallet_credit(user_id=customer.pk, amount=50_000, kind="topup", idempotency_key="s")

    def debit(i):
        return services.wallet_debit(
            user_id=customer.pk, amount=10_000, kind="purchase", idempotency_key=f"debit:{i}"
        )

    results = _run_in_threads(20, debit)
    succeeded = [r for r in results if isinstance(r, WalletTransaction)]
    refused = [r for r in results if isinstance(r, services.InsufficientFunds)]
    assert len(succeeded) == 5, results
    assert len(refused) == 15, results
    customer.refresh_from_db()
    assert customer.balance == 0
    assert _ledger_sum(customer) == customer.balance
    balances = WalletTransaction.objects.filter(user=customer).values_list(
        "balance_after", flat=True
    )
    assert min(balances) >= 0


def _topup_receipt(user, amount=200_000):
    order = services.order_create_topup(user=user, amount=amount)
    return services.receipt_submit(
        order=order, image_name="r.jpg", image_bytes=b"\xff\xd8fake-jpeg", file_unique_id="u1"
    )


def test_approving_a_receipt_twice_credits_once(customer, staff_user):
    receipt = _topup_receipt(customer)
    services.receipt_approve(receipt_id=receipt.pk, reviewer=staff_user)
    with pytest.raises(services.ReceiptAlreadyReviewed):
        services.receipt_approve(receipt_id=receipt.pk, reviewer=staff_user)
    customer.refresh_from_db()
    assert customer.balance == 200_000
    assert WalletTransaction.objects.filter(user=customer).count() == 1
    assert Order.objects.get(pk=receipt.order_id).status == Order.Status.FULFILLED


@pytest.mark.django_db(transaction=True)
def test_two_operators_approving_at_once_credit_once(customer, staff_user):
    receipt = _topup_receipt(customer)
    results = _run_in_threads(
        2, lambda i: services.receipt_approve(receipt_id=receipt.pk, reviewer=staff_user)
    )
    assert sum(isinstance(r, Receipt) for r in results) == 1, results
    assert sum(isinstance(r, services.ReceiptAlreadyReviewed) for r in results) == 1, results
    customer.refresh_from_db()
    assert customer.balance == 200_000
    assert _ledger_sum(customer) == 200_000


def test_rejected_receipt_keeps_the_order_open_for_a_new_photo(customer, staff_user):
    receipt = _topup_receipt(customer)
    with pytest.raises(services.BillingError):
        services.receipt_reject(receipt_id=receipt.pk, reviewer=staff_user, reason="")
    services.receipt_reject(receipt_id=receipt.pk, reviewer=staff_user, reason="blurry photo")
    receipt.refresh_from_db()
    assert (receipt.status, receipt.reject_reason) == ("rejected", "blurry photo")
    with pytest.raises(services.ReceiptAlreadyReviewed):
        services.receipt_approve(receipt_id=receipt.pk, reviewer=staff_user)
    order = Order.objects.get(pk=receipt.order_id)
    assert order.status == Order.Status.AWAITING_RECEIPT
    second = services.receipt_submit(
        order=order, image_name="r2.jpg", image_bytes=b"another", file_unique_id="u2"
    )
    assert second.duplicate_of is None
    customer.refresh_from_db()
    assert customer.balance == 0


def test_a_reused_receipt_image_is_flagged(customer, staff_user):
    first = _topup_receipt(customer)
    other = services.order_create_topup(user=customer, amount=1_000)
    again = services.receipt_submit(
        order=other, image_name="r.jpg", image_bytes=b"\xff\xd8fake-jpeg", file_unique_id="zz"
    )
    assert again.duplicate_of_id == first.pk
    assert again.sha256 == first.sha256


def test_receipt_for_a_cancelled_order_is_refused(customer):
    order = services.order_create_topup(user=customer, amount=1_000)
    services.order_transition(order=order, to_status=Order.Status.CANCELLED)
    with pytest.raises(services.OrderNotPayable):
        services.receipt_submit(order=order, image_name="r.jpg", image_bytes=b"x")
    assert Receipt.objects.count() == 0


def test_illegal_transition_raises_and_changes_nothing(customer):
    order = services.order_create_topup(user=customer, amount=1_000)
    services.order_transition(order=order, to_status=Order.Status.PAID)
    services.order_transition(order=order, to_status=Order.Status.FULFILLED)
    with pytest.raises(IllegalTransition):
        services.order_transition(order=order, to_status=Order.Status.AWAITING_RECEIPT)
    assert Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED


def test_transition_from_a_stale_copy_is_refused(customer):
    order = services.order_create_topup(user=customer, amount=1_000)
    stale = Order.objects.get(pk=order.pk)
    services.order_transition(order=order, to_status=Order.Status.CANCELLED)
    with pytest.raises(IllegalTransition):
        services.order_transition(order=stale, to_status=Order.Status.PAID)
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED


def test_wallet_payment_pressed_twice_charges_once(customer):
    from billing.models import Plan

    plan = Plan.objects.create(name="1M", duration_days=30, traffic_gb=50, price=100_000)
    services.wallet_credit(user_id=customer.pk, amount=300_000, kind="topup", idempotency_key="k")
    order = Order.objects.create(user=customer, plan=plan, amount=plan.price)
    services.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)
    with pytest.raises(services.OrderNotPayable):
        services.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)
    customer.refresh_from_db()
    assert customer.balance == 200_000
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_refund_returns_the_amount_once(customer):
    from billing.models import Plan

    plan = Plan.objects.create(name="1M", duration_days=30, traffic_gb=50, price=100_000)
    services.wallet_credit(user_id=customer.pk, amount=100_000, kind="topup", idempotency_key="k")
    order = Order.objects.create(user=customer, plan=plan, amount=plan.price)
    services.order_pay_from_wallet(order_id=order.pk, user_id=customer.pk)
    services.order_refund(order_id=order.pk, note="panel down")
    with pytest.raises(IllegalTransition):
        services.order_refund(order_id=order.pk)
    customer.refresh_from_db()
    assert customer.balance == 100_000
    assert _ledger_sum(customer) == 100_000


def test_database_is_the_one_in_use():
    # A guard for CI: the MariaDB run must really be on MariaDB.
    import os

    expected = "mysql" if os.environ.get("DATABASE_URL", "").startswith("mysql") else "sqlite"
    assert connection.vendor == expected
