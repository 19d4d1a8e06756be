"""Broadcasts: console Send, send_broadcasts against the fake Telegram, exactly once."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from botapp.broadcasts import Pacer, audience, broadcasts_send
from botapp.models import Broadcast, BroadcastDelivery
from botapp.tests.conftest import JOHN, SARA
from panels.models import ClientAccount

pytestmark = pytest.mark.django_db


def test_the_console_refuses_what_telegram_would(admin_client):
    """One message is at most 4096 characters; the API has the same limits (its
    serializer comes from the same model fields)."""
    add = admin_client.post(
        reverse("admin:botapp_broadcast_add"),
        {"text": "x" * 4097, "audience": "expired", "expired_days": 3651},
    )
    assert add.status_code == 200  # the form again, with its errors
    errors = add.context["adminform"].form.errors
    assert set(errors) == {"text", "expired_days"}
    assert not Broadcast.objects.exists()


class FakeClock:
    """A pacer's clock that only moves when it sleeps: the rate is checked exactly."""

    def __init__(self):
        self.now = 0.0
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


def test_operator_sends_a_broadcast_from_the_console(bot, tg, admin_client, django_user_model):
    bot.send(SARA, "/start")
    bot.send(JOHN, "/start")
    bot.send(3003, "/start", first_name="Gone", language_code="en")
    bot.send(4004, "/start", first_name="Old", language_code="en")
    django_user_model.objects.filter(telegram_id=4004).update(has_blocked_bot=True)
    tg.block_chat(3003)  # blocked the bot since: Telegram answers 403

    add = admin_client.post(
        reverse("admin:botapp_broadcast_add"),
        {"text": "<b>New</b> locations & <i>prices</i>", "audience": "everyone", "expired_days": 7},
    )
    assert add.status_code == 302
    broadcast = Broadcast.objects.get()
    page = admin_client.get(reverse("admin:botapp_broadcast_change", args=[broadcast.pk]))
    assert "<b>New</b> locations &amp; <i>prices</i>" in page.content.decode()  # the preview
    admin_client.post(
        reverse("admin:botapp_broadcast_changelist"),
        {"action": "send_broadcast", "_selected_action": [broadcast.pk]},
    )
    broadcast.refresh_from_db()
    assert broadcast.status == "queued"

    call_command("send_broadcasts")

    broadcast.refresh_from_db()
    assert broadcast.status == "done"
    assert (broadcast.total, broadcast.sent, broadcast.failed, broadcast.blocked) == (4, 2, 0, 2)
    for chat_id in (SARA, JOHN):
        got = [m for m in tg.messages_to(chat_id) if "New locations" in m["plain_text"]]
        assert len(got) == 1
    assert django_user_model.objects.get(telegram_id=3003).has_blocked_bot
    # Running again sends nothing more.
    call_command("send_broadcasts")
    assert len([m for m in tg.messages_to(SARA) if "New locations" in m["plain_text"]]) == 1


def test_audiences(bot, tg, plan, inbound, django_user_model):
    from accounts.tests.samples import make_account

    for chat_id in (1, 2, 3):
        bot.send(chat_id, "/start", first_name="x", language_code="en")
    active, expired, never = (django_user_model.objects.get(telegram_id=i) for i in (1, 2, 3))
    make_account(active, plan, inbound, email="a")
    old = make_account(expired, plan, inbound, email="b")
    ClientAccount.objects.filter(pk=old.pk).update(
        status=ClientAccount.Status.EXPIRED, expires_at=timezone.now() - timedelta(days=3)
    )

    def who(kind, days=7):
        return set(audience(Broadcast(audience=kind, expired_days=days)))

    assert who("everyone") >= {active, expired, never}
    assert who("active") == {active}
    assert who("inactive") >= {expired, never} and active not in who("inactive")
    assert who("expired") == {expired}
    assert who("expired", days=2) == set()


def test_the_rate_cap_and_a_429(bot, tg, settings):
    for chat_id in range(1, 51):
        bot.send(chat_id, "/start", first_name="x", language_code="en")
    Broadcast.objects.create(text="hello", status="queued")
    tg.fail_next("sendMessage", error_code=429, retry_after=3)
    clock = FakeClock()
    totals = broadcasts_send(pacer=Pacer(rate=25, sleep=clock.sleep, clock=clock.clock))
    assert totals["sent"] == 50
    assert 3 in clock.slept  # waited what Telegram asked
    # 50 sends at 25/s take 49 gaps of 0.04 s, plus the 3 s wait: never faster.
    assert clock.now == pytest.approx(49 / 25 + 3, abs=0.05)
    hello = [r for r in tg.records(method="sendMessage") if r["plain_text"] == "hello"]
    assert len(hello) == 50 and len({r["chat_id"] for r in hello}) == 50


def test_a_row_a_killed_sender_left_is_never_sent_again(bot, tg):
    for chat_id in (1, 2, 3):
        bot.send(chat_id, "/start", first_name="x", language_code="en")
    broadcast = Broadcast.objects.create(text="once", status="queued")
    clock = FakeClock()
    broadcasts_send(max_seconds=0, pacer=Pacer(rate=1000, sleep=clock.sleep, clock=clock.clock))
    assert BroadcastDelivery.objects.filter(broadcast=broadcast).count() == 3
    # A sender claimed chat 1 and died (kill -9) before recording the outcome.
    BroadcastDelivery.objects.filter(chat_id=1).update(
        status="sending", claimed_by="dead", claimed_at=timezone.now()
    )
    broadcasts_send(pacer=Pacer(rate=1000, sleep=clock.sleep, clock=clock.clock))
    once = [r["chat_id"] for r in tg.records(method="sendMessage") if r["plain_text"] == "once"]
    assert sorted(once) == [2, 3]
    broadcast.refresh_from_db()
    assert broadcast.status == "sending"  # its claim is not yet stale
    BroadcastDelivery.objects.filter(chat_id=1).update(
        claimed_at=timezone.now() - timedelta(hours=1)
    )
    broadcasts_send(pacer=Pacer(rate=1000, sleep=clock.sleep, clock=clock.clock))
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.sent, broadcast.failed) == ("done", 2, 1)


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_customer_exactly_one(tg, django_user_model, settings):
    settings.BROADCAST_RATE = 10_000
    users = [
        django_user_model(username=f"u{n}", telegram_id=100_000 + n, first_name="x")
        for n in range(300)
    ]
    django_user_model.objects.bulk_create(users)
    for n in range(300):
        tg.register_user(100_000 + n, first_name="x")
    Broadcast.objects.create(text="both", status="queued")
    barrier = threading.Barrier(2)

    def sender():
        try:
            barrier.wait()
            broadcasts_send()
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    chats = [r["chat_id"] for r in tg.records(method="sendMessage") if r["plain_text"] == "both"]
    assert len(chats) == 300 and len(set(chats)) == 300
    broadcast = Broadcast.objects.get()
    assert (broadcast.status, broadcast.sent, broadcast.total) == ("done", 300, 300)
