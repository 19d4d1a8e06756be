"""Broadcasts: queue one from the console, send it with ``manage.py send_broadcasts``.

Exactly one message per customer: each recipient is a BroadcastDelivery row, claimed
pending → sending by a committed compare-and-set before Telegram is called, so two
senders never send the same row, and a row a killed sender left "sending" is never
sent again. The rate is at most BROADCAST_RATE messages a second; a 429 waits the
``retry_after`` Telegram asks for; a 403 marks the customer as having blocked the bot.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from telebot import apihelper

from accounts.models import User
from botapp import telegram as tg
from botapp.models import Broadcast, BroadcastDelivery
from panels.models import ClientAccount

log = logging.getLogger(__name__)

BATCH = 200  # rows claimed at a time
STALE_CLAIM = timedelta(minutes=10)  # a "sending" row this old belonged to a dead sender
MAX_429 = 5


class BroadcastError(Exception):
    pass


def broadcast_queue(*, broadcast_id: int) -> Broadcast:
    """The console's Send: a draft is queued (only a draft, once)."""
    updated = Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.DRAFT).update(
        status=Broadcast.Status.QUEUED, queued_at=timezone.now()
    )
    if not updated:
        raise BroadcastError("only a draft can be sent")
    return Broadcast.objects.get(pk=broadcast_id)


def broadcast_cancel(*, broadcast_id: int) -> Broadcast:
    updated = Broadcast.objects.filter(
        pk=broadcast_id,
        status__in=(Broadcast.Status.DRAFT, Broadcast.Status.QUEUED, Broadcast.Status.SENDING),
    ).update(status=Broadcast.Status.CANCELLED, finished_at=timezone.now())
    if not updated:
        raise BroadcastError("this broadcast is already finished")
    return Broadcast.objects.get(pk=broadcast_id)


# send_broadcasts is working on these: they are cancelled, not edited or deleted.
IN_FLIGHT = (Broadcast.Status.QUEUED, Broadcast.Status.SENDING)


def broadcast_edit(*, broadcast_id: int, text: str, audience: str, expired_days: int):
    """A draft's text and audience changed (the console's and the API's edit).

    Only a draft: a queued or sent text is history. Checked and written in one
    statement, so a Send pressed meanwhile wins and the edit is refused.
    """
    updated = Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.DRAFT).update(
        text=text, audience=audience, expired_days=expired_days
    )
    if not updated:
        raise BroadcastError("only a draft can be edited")
    return Broadcast.objects.get(pk=broadcast_id)


def broadcast_delete(*, broadcast_id: int) -> None:
    """Delete a broadcast and its delivery rows, unless it is being sent (cancel first)."""
    deleted = Broadcast.objects.filter(pk=broadcast_id).exclude(status__in=IN_FLIGHT).delete()[1]
    if not deleted.get(Broadcast._meta.label):
        raise BroadcastError("a queued or sending broadcast is cancelled, not deleted")


def audience(broadcast: Broadcast, now=None):
    """The customers a broadcast goes to (reachable, not blocked by an operator)."""
    now = now or timezone.now()
    users = User.objects.filter(telegram_id__isnull=False, is_blocked=False, is_active=True)
    active = Exists(
        ClientAccount.objects.filter(user=OuterRef("pk"), status=ClientAccount.Status.ACTIVE)
    )
    kind = broadcast.audience
    if kind == Broadcast.Audience.ACTIVE:
        return users.filter(active)
    if kind == Broadcast.Audience.INACTIVE:
        return users.exclude(active)
    if kind == Broadcast.Audience.EXPIRED:
        since = now - timedelta(days=broadcast.expired_days)
        expired = Exists(
            ClientAccount.objects.filter(
                user=OuterRef("pk"), expires_at__gte=since, expires_at__lte=now
            )
        )
        return users.exclude(active).filter(expired)
    return users


def _start(broadcast: Broadcast) -> None:
    """queued → sending, with one delivery row per recipient (any sender may do it)."""
    rows = [
        BroadcastDelivery(
            broadcast=broadcast,
            user_id=user_id,
            chat_id=chat_id,
            # Known to have blocked the bot: recorded and skipped, never sent.
            status=BroadcastDelivery.Status.BLOCKED
            if blocked
            else BroadcastDelivery.Status.PENDING,
        )
        for user_id, chat_id, blocked in audience(broadcast).values_list(
            "pk", "telegram_id", "has_blocked_bot"
        )
    ]
    # Two senders starting at once insert the same rows: the unique pair keeps one.
    BroadcastDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.QUEUED).update(
        status=Broadcast.Status.SENDING,
        total=BroadcastDelivery.objects.filter(broadcast=broadcast).count(),
    )


def _progress(broadcast_id: int, *, finish: bool = False) -> None:
    counts = dict(
        BroadcastDelivery.objects.filter(broadcast_id=broadcast_id)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    S = BroadcastDelivery.Status
    fields = {
        "sent": counts.get(S.SENT, 0),
        "failed": counts.get(S.FAILED, 0),
        "blocked": counts.get(S.BLOCKED, 0),
        "total": sum(counts.values()),
    }
    qs = Broadcast.objects.filter(pk=broadcast_id)
    if finish:
        qs.filter(status=Broadcast.Status.SENDING).update(
            status=Broadcast.Status.DONE, finished_at=timezone.now(), **fields
        )
    qs.update(**fields)


def _claim(broadcast_id: int, token: str) -> list[BroadcastDelivery]:
    ids = list(
        BroadcastDelivery.objects.filter(
            broadcast_id=broadcast_id, status=BroadcastDelivery.Status.PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    if not ids:
        return []
    # The compare-and-set: a row another sender took in the meantime is not ours.
    BroadcastDelivery.objects.filter(pk__in=ids, status=BroadcastDelivery.Status.PENDING).update(
        status=BroadcastDelivery.Status.SENDING, claimed_by=token, claimed_at=timezone.now()
    )
    return list(
        BroadcastDelivery.objects.filter(pk__in=ids, claimed_by=token)
        .only("pk", "chat_id", "user_id")
        .order_by("pk")
    )


@dataclass
class Pacer:
    """At most ``rate`` sends a second, evenly spaced; ``sleep`` is swappable for tests."""

    rate: float
    sleep: callable = time.sleep
    clock: callable = time.monotonic
    _next: float = 0.0

    def wait(self) -> None:
        now = self.clock()
        if self._next > now:
            self.sleep(self._next - now)
            now = self._next
        self._next = max(now, self._next) + 1.0 / self.rate


def _send_one(bot, chat_id: int, text: str, pacer: Pacer) -> str:
    S = BroadcastDelivery.Status
    for _attempt in range(MAX_429 + 1):
        pacer.wait()
        try:
            bot.send_message(chat_id, text, parse_mode="HTML")
            return S.SENT
        except apihelper.ApiTelegramException as exc:
            if exc.error_code == 429:
                wait = tg._retry_after(exc)
                log.info("broadcast: Telegram asked to wait %ss", wait)
                pacer.sleep(wait)
                continue
            if exc.error_code == 403:
                return S.BLOCKED
            log.warning("broadcast to %s refused: %s", chat_id, exc.description)
            return S.FAILED
        except Exception as exc:  # the network: this one failed, the rest go on
            log.warning("broadcast to %s failed: %s", chat_id, exc)
            return S.FAILED
    return S.FAILED


def broadcasts_send(*, max_seconds: float = 50, pacer: Pacer | None = None) -> dict:
    """Send queued and unfinished broadcasts for at most ``max_seconds``; resumable."""
    bot = tg.get_bot()
    pacer = pacer or Pacer(rate=settings.BROADCAST_RATE)
    token = uuid.uuid4().hex
    deadline = time.monotonic() + max_seconds
    totals = {"sent": 0, "failed": 0, "blocked": 0}
    # A row a dead sender left "sending" long ago: never sent again, counted failed.
    BroadcastDelivery.objects.filter(
        status=BroadcastDelivery.Status.SENDING, claimed_at__lt=timezone.now() - STALE_CLAIM
    ).update(status=BroadcastDelivery.Status.FAILED)
    for broadcast in Broadcast.objects.filter(
        status__in=(Broadcast.Status.QUEUED, Broadcast.Status.SENDING)
    ).order_by("pk"):
        if broadcast.status == Broadcast.Status.QUEUED:
            _start(broadcast)
        while time.monotonic() < deadline:
            if Broadcast.objects.filter(
                pk=broadcast.pk, status=Broadcast.Status.CANCELLED
            ).exists():
                break
            rows = _claim(broadcast.pk, token)
            if not rows:
                break
            for n, row in enumerate(rows):
                if time.monotonic() >= deadline:
                    # Give back what this run will not get to; nothing was sent for them.
                    BroadcastDelivery.objects.filter(
                        pk__in=[r.pk for r in rows[n:]], claimed_by=token
                    ).update(status=BroadcastDelivery.Status.PENDING, claimed_by="")
                    break
                outcome = _send_one(bot, row.chat_id, broadcast.text, pacer)
                BroadcastDelivery.objects.filter(pk=row.pk).update(status=outcome)
                if outcome == BroadcastDelivery.Status.BLOCKED:
                    User.objects.filter(pk=row.user_id).update(has_blocked_bot=True)
                totals[outcome] += 1
            _progress(broadcast.pk)
        unfinished = BroadcastDelivery.objects.filter(broadcast=broadcast).filter(
            Q(status=BroadcastDelivery.Status.PENDING) | Q(status=BroadcastDelivery.Status.SENDING)
        )
        _progress(broadcast.pk, finish=not unfinished.exists())
        if time.monotonic() >= deadline:
            break
    return totals
