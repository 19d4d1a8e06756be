"""send_reminders: expiry and usage reminders, each sent once, also across overlapping runs."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from botapp.callbacks import decode
from botapp.management.commands.send_reminders import send_due_reminders
from panels import reminders
from panels.models import AccountReminder, ClientAccount
from panels.provisioning import order_provision
from panels.tests.lifecycle_helpers import (
    GB,
    make_plan,
    paid_renewal,
    sellable_inbound,
    sold_account,
)

SARA = 1001


@pytest.fixture
def plan(db):
    return make_plan()


@pytest.fixture
def account(customer, plan, xui_panel, fake_xui):
    inbound = sellable_inbound(xui_panel, fake_xui, protocol="vless")
    return sold_account(customer, plan, xui_panel, inbound)


def reminders_to(tg, chat_id):
    return [m for m in tg.messages_to(chat_id) if m["method"] == "sendMessage"]


def buttons(message):
    return [b for row in message["reply_markup"]["inline_keyboard"] for b in row]


@pytest.mark.django_db
def test_expiry_reminder_is_sent_once_with_a_renew_button(tg, account):
    later = account.expires_at - timedelta(days=2, hours=12)  # 2.5 days left

    first = send_due_reminders(now=later)
    again = send_due_reminders(now=later + timedelta(hours=1))

    assert (first["sent"], again["sent"]) == (1, 0)
    [message] = reminders_to(tg, SARA)
    assert "۳ روز" in message["plain_text"]  # Persian, with Persian digits
    renew = decode(buttons(message)[0]["callback_data"])
    assert (renew.action, renew.args) == ("renew", (account.pk,))
    row = AccountReminder.objects.get()
    assert (row.kind, row.threshold, row.outcome) == ("expiry", 3, "sent")
    assert row.period == int(account.expires_at.timestamp())


@pytest.mark.django_db
def test_the_one_day_reminder_follows_the_three_day_one_and_never_the_reverse(tg, account):
    expires = account.expires_at
    send_due_reminders(now=expires - timedelta(hours=60))
    send_due_reminders(now=expires - timedelta(hours=20))
    send_due_reminders(now=expires - timedelta(hours=10))
    thresholds = list(AccountReminder.objects.order_by("id").values_list("threshold", flat=True))
    assert thresholds == [3, 1]
    assert len(reminders_to(tg, SARA)) == 2


@pytest.mark.django_db
def test_a_late_first_run_sends_only_the_most_urgent(tg, account):
    send_due_reminders(now=account.expires_at - timedelta(hours=5))
    send_due_reminders(now=account.expires_at - timedelta(hours=4))
    assert list(AccountReminder.objects.values_list("threshold", flat=True)) == [1]
    assert len(reminders_to(tg, SARA)) == 1


@pytest.mark.django_db
def test_usage_reminders_at_80_then_95_percent(tg, account):
    ClientAccount.objects.filter(pk=account.pk).update(used_bytes=41 * GB)  # 82 % of 50
    send_due_reminders()
    send_due_reminders()
    ClientAccount.objects.filter(pk=account.pk).update(used_bytes=48 * GB)  # 96 %
    send_due_reminders()
    send_due_reminders()
    rows = AccountReminder.objects.order_by("id").values_list("kind", "threshold")
    assert list(rows) == [("usage", 80), ("usage", 95)]
    assert len(reminders_to(tg, SARA)) == 2
    assert "۸۰" in reminders_to(tg, SARA)[0]["plain_text"]  # Persian digits


@pytest.mark.django_db
def test_a_renewal_starts_a_new_period(tg, customer, plan, account, fake_xui):
    send_due_reminders(now=account.expires_at - timedelta(hours=20))
    assert len(reminders_to(tg, SARA)) == 1
    order = paid_renewal(customer, account, plan)
    order_provision(order_id=order.pk)
    account.refresh_from_db()

    send_due_reminders(now=account.expires_at - timedelta(hours=20))

    assert len(reminders_to(tg, SARA)) == 2
    periods = set(AccountReminder.objects.values_list("period", flat=True))
    assert len(periods) == 2


@pytest.mark.django_db
def test_english_customers_read_english(tg, django_user_model, plan, xui_panel, fake_xui):
    john = django_user_model.objects.create_user(
        username="tg_2002", telegram_id=2002, first_name="John", language="en"
    )
    inbound = sellable_inbound(xui_panel, fake_xui, protocol="trojan")
    account = sold_account(john, plan, xui_panel, inbound)
    send_due_reminders(now=account.expires_at - timedelta(days=1, hours=1))
    [message] = reminders_to(tg, 2002)
    assert "expires in less than 3 days" in message["plain_text"]
    assert buttons(message)[0]["text"] == "🔄 Renew"


@pytest.mark.django_db
def test_a_customer_who_blocked_the_bot_is_marked_and_skipped(tg, customer, account):
    tg.block_chat(SARA)
    ClientAccount.objects.filter(pk=account.pk).update(used_bytes=41 * GB)

    counts = send_due_reminders(now=account.expires_at - timedelta(hours=20))

    assert counts["blocked"] == 2  # the expiry and the usage reminder
    customer.refresh_from_db()
    assert customer.has_blocked_bot
    assert set(AccountReminder.objects.values_list("outcome", flat=True)) == {"blocked"}
    tg.clear()
    ClientAccount.objects.filter(pk=account.pk).update(used_bytes=49 * GB)
    assert send_due_reminders(now=account.expires_at - timedelta(hours=2)) == {}
    assert tg.calls == []


@pytest.mark.django_db
def test_accounts_not_active_get_no_reminder(tg, account):
    for status in ("expired", "disabled", "deleted"):
        ClientAccount.objects.filter(pk=account.pk).update(status=status)
        assert reminders.reminders_due(now=account.expires_at - timedelta(hours=5)) == []


@pytest.mark.django_db
def test_the_command_reports_counts(tg, account):
    ClientAccount.objects.filter(pk=account.pk).update(
        expires_at=timezone.now() + timedelta(hours=30)
    )
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "sent 1," in out.getvalue()
    out = StringIO()
    call_command("send_reminders", stdout=out)
    assert "sent 0," in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_send_each_reminder_once(tg, monkeypatch, plan, django_user_model):
    from panels.sessions import panel_clients_reset
    from panels.tests.lifecycle_helpers import make_panel
    from standins.xui import FakeXuiPanel

    with FakeXuiPanel(profile="v2") as fake:
        try:
            panel = make_panel(fake)
            inbound = sellable_inbound(panel, fake, protocol="vless")
            chats = []
            for i in range(5):
                user = django_user_model.objects.create_user(
                    username=f"tg_{3000 + i}", telegram_id=3000 + i, language="en"
                )
                sold_account(user, plan, panel, inbound)
                chats.append(3000 + i)
        finally:
            panel_clients_reset()
    ClientAccount.objects.update(
        expires_at=timezone.now() + timedelta(hours=30), used_bytes=45 * GB
    )

    # Both runs compute the same due list before either claims anything.
    barrier = threading.Barrier(2, timeout=10)
    real_due = reminders.reminders_due

    def due_then_wait(now=None):
        due = real_due(now)
        barrier.wait()
        return due

    monkeypatch.setattr("botapp.management.commands.send_reminders.reminders_due", due_then_wait)
    results, errors = [], []

    def run():
        try:
            results.append(send_due_reminders())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors, errors
    assert sum(r["sent"] for r in results) == 10  # 5 accounts × (expiry + usage)
    assert sum(r["taken"] for r in results) == 10  # the other run lost every claim
    for chat in chats:
        assert len(reminders_to(tg, chat)) == 2
    assert AccountReminder.objects.count() == 10
