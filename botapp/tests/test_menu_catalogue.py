"""The menu and the Buy list come from the catalogue kept in memory (billing/catalogue.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import catalogue
from billing.models import Order, Plan
from botapp.tests.conftest import JOHN

pytestmark = pytest.mark.django_db


def _labels(bot) -> list[str]:
    return [label for label, _ in bot.keyboard(JOHN)]


def test_a_menu_press_reads_only_the_customer_once_the_plans_are_in_memory(bot, plan):
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Buy")  # reads the plans
    with CaptureQueriesContext(connection) as captured:
        bot.press_data(JOHN, "m")
        bot.press_data(JOHN, "b")
    statements = [q["sql"] for q in captured]
    assert len(statements) == 2, statements  # the customer, once per press
    assert all("billing_plan" not in sql for sql in statements)
    assert any(plan.name in label for label in _labels(bot))


def test_a_plan_saved_in_this_process_shows_at_once(bot, plan):
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Buy")
    assert any("1 Month" in label for label in _labels(bot))
    Plan.objects.create(name="3 Months", duration_days=90, traffic_gb=150, price=400_000)
    plan.is_active = False
    plan.save()
    bot.press_data(JOHN, "b")
    labels = _labels(bot)
    assert any("3 Months" in label for label in labels)
    assert not any("1 Month" in label for label in labels)


def test_another_process_s_change_shows_within_catalogue_seconds_and_is_never_sold(
    bot, plan, inbound, settings, monkeypatch
):
    settings.CATALOGUE_SECONDS = 5
    clock = [1000.0]
    monkeypatch.setattr(catalogue, "_clock", lambda: clock[0])
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Buy")
    # The console of another web worker withdraws the plan: no signal reaches us.
    Plan.objects.filter(pk=plan.pk).update(is_active=False)
    clock[0] += 4
    bot.press_data(JOHN, "b")
    assert any("1 Month" in label for label in _labels(bot))  # still in memory...
    bot.press(JOHN, "1 Month")  # ...but choosing it reads the plan afresh
    shown = bot.last_keyboard_message(JOHN)
    assert "no longer sold" in shown["text"]
    assert not Order.objects.exists()
    # Finding it gone refreshed the copy: the list offered with the apology is right.
    assert not any("1 Month" in label for label in _labels(bot))
    bot.press_data(JOHN, "m")
    bot.press_data(JOHN, "b")
    assert not any("1 Month" in label for label in _labels(bot))


def test_the_copy_is_read_again_after_catalogue_seconds(bot, plan, settings, monkeypatch):
    settings.CATALOGUE_SECONDS = 5
    clock = [1000.0]
    monkeypatch.setattr(catalogue, "_clock", lambda: clock[0])
    bot.send(JOHN, "/start")
    bot.press(JOHN, "Buy")
    Plan.objects.filter(pk=plan.pk).update(price=175_000)  # another process's change
    clock[0] += 4.9
    bot.press_data(JOHN, "b")
    assert any("150,000" in label for label in _labels(bot))
    clock[0] += 0.1
    bot.press_data(JOHN, "b")
    assert any("175,000" in label for label in _labels(bot))
