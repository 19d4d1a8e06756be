"""Discount codes on the order summary, end to end, and their limits under a race."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from billing import services as billing
from billing.models import DiscountCode, DiscountUse, Order, Plan, WalletTransaction
from botapp.models import PendingInput
from botapp.tests.conftest import JOHN, SARA
from panels.models import ClientAccount

pytestmark = pytest.mark.django_db


def _fund(user, amount, key="f"):
    billing.wallet_credit(
        user_id=user.pk, amount=amount, kind=WalletTransaction.Kind.TOPUP, idempotency_key=key
    )


def _to_summary(bot, chat_id, buy="🛒"):
    bot.send(chat_id, "/start")
    bot.press(chat_id, buy)
    bot.press(chat_id, "1 Month")
    bot.press(chat_id, "Germany")
    bot.press(chat_id, "VLESS Reality")
    return Order.objects.filter(user__telegram_id=chat_id).latest("pk")


def test_persian_customer_types_a_code_and_pays_the_lower_price(
    bot, tg, django_user_model, plan, inbound, xui
):
    code = DiscountCode.objects.create(code="Save20", percent_off=20, max_uses=5)
    assert code.code == "SAVE20"
    order = _to_summary(bot, SARA)
    sara = order.user
    _fund(sara, 200_000)

    bot.press(SARA, "🏷")
    assert "کد تخفیف خود را بنویسید" in bot.screen(SARA)
    assert PendingInput.objects.get(user=sara).order == order  # the ask is a row
    bot.send(SARA, "  save20 ")  # any case, spaces around

    summary = bot.screen(SARA)
    assert "کد تخفیف اعمال شد" in summary
    assert "۱۵۰٬۰۰۰ تومان" in summary and "۱۲۰٬۰۰۰ تومان" in summary  # old and new
    order.refresh_from_db()
    assert (order.amount, order.discount_amount, order.discount_code) == (120_000, 30_000, code)
    code.refresh_from_db()
    assert code.uses == 0  # counted only when paid

    bot.press(SARA, "کیف پول")
    order.refresh_from_db()
    assert order.status == "fulfilled"
    sara.refresh_from_db()
    assert sara.balance == 80_000
    code.refresh_from_db()
    assert code.uses == 1 and DiscountUse.objects.get(order=order).user == sara
    assert ClientAccount.objects.filter(order=order).exists()


def test_a_refunded_order_gives_its_use_back(plan, inbound, django_user_model):
    code = DiscountCode.objects.create(code="ONE", amount_off=30_000, max_uses=1)
    user = django_user_model.objects.create(username="u", telegram_id=5)
    _fund(user, 200_000)
    order = billing.order_create_new(user=user, plan=plan, inbound=inbound)
    billing.order_apply_discount(order_id=order.pk, user_id=user.pk, code="one")
    billing.order_pay_from_wallet(order_id=order.pk, user_id=user.pk)  # paid, not delivered
    code.refresh_from_db()
    assert code.uses == 1
    billing.order_refund(order_id=order.pk)
    code.refresh_from_db()
    user.refresh_from_db()
    assert (code.uses, DiscountUse.objects.count(), user.balance) == (0, 0, 200_000)
    # The use is free again: someone else can take the last one.
    other = django_user_model.objects.create(username="o", telegram_id=6)
    _fund(other, 200_000, key="o")
    again = billing.order_create_new(user=other, plan=plan, inbound=inbound)
    billing.order_apply_discount(order_id=again.pk, user_id=other.pk, code="one")
    assert billing.order_pay_from_wallet(order_id=again.pk, user_id=other.pk).status == "paid"


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ({"code": "OTHER", "percent_off": 10}, "There is no such discount code."),
        (
            {"valid_until": timezone.now() - timedelta(days=1)},
            "This discount code has expired.",
        ),
        (
            {"valid_from": timezone.now() + timedelta(days=1)},
            "This discount code is not valid yet.",
        ),
        ({"is_active": False}, "This discount code is not active."),
        ({"for_new": False}, "does not apply to this kind of order"),
        ({"max_uses": 0}, "This discount code has been used up."),
    ],
)
def test_english_customer_reads_why_a_code_does_not_apply(bot, tg, plan, inbound, setup, reason):
    fields = {"code": "WELCOME", "amount_off": 50_000, **setup}
    if "percent_off" in fields:
        fields.pop("amount_off")
    DiscountCode.objects.create(**fields)
    order = _to_summary(bot, JOHN, buy="Buy")
    bot.press(JOHN, "Discount code")
    bot.send(JOHN, "welcome")
    summary = bot.screen(JOHN)
    assert reason in summary
    assert "Price: 150,000 Toman" in summary  # unchanged, and the summary is back
    order.refresh_from_db()
    assert (order.amount, order.discount_code) == (150_000, None)


def test_a_code_for_other_plans_and_one_use_per_customer(bot, tg, plan, inbound, xui):
    other = Plan.objects.create(name="1 Year", duration_days=365, traffic_gb=0, price=900_000)
    only_other = DiscountCode.objects.create(code="YEAR", amount_off=100_000)
    only_other.plans.add(other)
    DiscountCode.objects.create(code="ONCE", amount_off=50_000, max_uses_per_user=1)
    order = _to_summary(bot, JOHN, buy="Buy")
    _fund(order.user, 1_000_000)
    bot.press(JOHN, "Discount code")
    bot.send(JOHN, "year")
    assert "This discount code does not apply to this plan." in bot.screen(JOHN)

    bot.press(JOHN, "Discount code")
    bot.send(JOHN, "once")
    assert "Price: 150,000 Toman 100,000 Toman" in bot.screen(JOHN)  # struck-out old price
    bot.press(JOHN, "Pay from wallet")
    order.refresh_from_db()
    assert order.status == "fulfilled"

    second = _to_summary(bot, JOHN, buy="Buy")
    bot.press(JOHN, "Discount code")
    bot.send(JOHN, "ONCE")
    assert "You have already used this discount code." in bot.screen(JOHN)
    second.refresh_from_db()
    assert second.amount == 150_000


def test_a_100_percent_code_pays_without_a_wallet_debit(bot, tg, plan, inbound, xui):
    DiscountCode.objects.create(code="FREE", percent_off=100)
    order = _to_summary(bot, JOHN, buy="Buy")
    bot.press(JOHN, "Discount code")
    bot.send(JOHN, "free")
    assert "Price: 150,000 Toman 0 Toman" in bot.screen(JOHN)
    labels = [label for label, _ in bot.keyboard(JOHN)]
    assert not any("card" in label for label in labels)  # nothing to transfer
    bot.press(JOHN, "Pay from wallet")
    order.refresh_from_db()
    assert (order.status, order.amount, order.payment_method) == ("fulfilled", 0, "free")
    assert not WalletTransaction.objects.filter(user=order.user).exists()
    assert "costs nothing" in " ".join(bot.texts(JOHN))


def test_an_amount_off_above_the_price_makes_it_free_not_negative(plan, inbound, django_user_model):
    user = django_user_model.objects.create(username="u", telegram_id=5)
    DiscountCode.objects.create(code="BIG", amount_off=10_000_000)
    order = billing.order_create_new(user=user, plan=plan, inbound=inbound)
    order = billing.order_apply_discount(order_id=order.pk, user_id=user.pk, code="big")
    assert (order.amount, order.discount_amount) == (0, 150_000)
    # The price check at pay time uses the list price (amount + discount), not the amount.
    assert billing.order_sale_problem(order) is None


# --- the race: 50 customers paying at once ------------------------------------------------------

CUSTOMERS = 50


def _race(orders, users):
    barrier = threading.Barrier(len(orders))
    outcomes = []

    def pay(order, user):
        try:
            barrier.wait()
            billing.order_pay_from_wallet(order_id=order.pk, user_id=user.pk)
            outcomes.append("paid")
        except billing.NoLongerForSale as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=pair) for pair in zip(orders, users, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    close_old_connections()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_fifty_customers_paying_at_once_never_exceed_max_uses(plan, inbound, django_user_model):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one writer at a time: no two payments can interleave")
    code = DiscountCode.objects.create(code="TEN", percent_off=50, max_uses=10)
    orders, users = [], []
    for n in range(CUSTOMERS):
        user = django_user_model.objects.create(username=f"c{n}", telegram_id=10_000 + n)
        _fund(user, 1_000_000, key=f"f{n}")
        order = billing.order_create_new(user=user, plan=plan, inbound=inbound)
        billing.order_apply_discount(order_id=order.pk, user_id=user.pk, code="ten")
        orders.append(order)
        users.append(user)

    outcomes = _race(orders, users)

    assert outcomes.count("paid") == 10, outcomes
    used_up = str(billing.DiscountRejected(billing.discount_used_up_text()))
    assert outcomes.count(used_up) == CUSTOMERS - 10, outcomes
    code.refresh_from_db()
    assert code.uses == 10 == DiscountUse.objects.filter(code=code).count()
    assert Order.objects.filter(status="paid", discount_code=code).count() == 10
    debits = WalletTransaction.objects.filter(kind="purchase")
    assert debits.count() == 10  # nobody refused was charged


@pytest.mark.django_db(transaction=True)
def test_one_customer_paying_many_orders_at_once_never_exceeds_max_uses_per_user(
    plan, inbound, django_user_model
):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one writer at a time: no two payments can interleave")
    code = DiscountCode.objects.create(code="TWICE", amount_off=10_000, max_uses_per_user=2)
    user = django_user_model.objects.create(username="one", telegram_id=4242)
    _fund(user, 10_000_000)
    orders = []
    for _n in range(8):
        order = billing.order_create_new(user=user, plan=plan, inbound=inbound)
        orders.append(
            billing.order_apply_discount(order_id=order.pk, user_id=user.pk, code="twice")
        )

    outcomes = _race(orders, [user] * len(orders))

    assert outcomes.count("paid") == 2, outcomes
    code.refresh_from_db()
    assert code.uses == 2 == DiscountUse.objects.filter(user=user).count()


def test_a_code_on_a_card_payment_is_counted_when_the_receipt_is_approved(
    plan, inbound, django_user_model
):
    from accounts.tests.samples import png_bytes

    code = DiscountCode.objects.create(code="CARD", amount_off=50_000, max_uses=1)
    staff = django_user_model.objects.create(username="staff", is_staff=True)
    orders = []
    for n in (1, 2):
        user = django_user_model.objects.create(username=f"u{n}", telegram_id=n)
        order = billing.order_create_new(user=user, plan=plan, inbound=inbound)
        billing.order_apply_discount(order_id=order.pk, user_id=user.pk, code="card")
        billing.order_await_receipt(order_id=order.pk, user_id=user.pk)
        order.refresh_from_db()
        receipt = billing.receipt_submit(
            order=order, image_name="r.png", image_bytes=png_bytes(("red", "blue")[n - 1])
        )
        assert receipt.amount == 100_000  # the discounted price is what they transfer
        orders.append((order, receipt))

    billing.receipt_approve(receipt_id=orders[0][1].pk, reviewer=staff)
    billing.receipt_approve(receipt_id=orders[1][1].pk, reviewer=staff)

    first, second = (Order.objects.get(pk=o.pk) for o, _r in orders)
    assert first.status == "paid"
    # The code ran out while the second receipt waited: the money goes to the wallet.
    assert second.status == "cancelled"
    assert second.user.balance == 100_000
    code.refresh_from_db()
    assert code.uses == 1
