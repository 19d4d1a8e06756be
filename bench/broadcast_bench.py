"""Broadcasts: the achieved send rate against BROADCAST_RATE, and queries per message.

Sends one broadcast to N customers (default 10,000) through the fake Telegram over
HTTP with the real sender (botapp.broadcasts), on a throwaway SQLite database (or
DATABASE_URL given as the second argument). Targets: the rate stays at or under the
cap and within 5 % of it; at most 2 database queries per message.

    python -m bench.broadcast_bench [N] [DATABASE_URL]
"""

import os
import sys
import time

from bench.common import setup_django


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    setup_django(sys.argv[2] if len(sys.argv) > 2 else None)
    from django.conf import settings
    from django.db import connection

    from accounts.models import User
    from botapp.broadcasts import broadcasts_send
    from botapp.models import Broadcast, BroadcastDelivery
    from standins.telegram import FakeTelegram

    rate = float(os.environ.get("BROADCAST_RATE", settings.BROADCAST_RATE))
    with FakeTelegram() as tg:
        tg.configure_telebot()
        settings.TELEGRAM_BOT_TOKEN = tg.token
        settings.TELEGRAM_API_URL = tg.base_url
        User.objects.bulk_create(
            [
                User(username=f"tg_{n}", telegram_id=500_000 + n, first_name="x")
                for n in range(count)
            ],
            batch_size=1000,
        )
        for n in range(count):
            tg.register_user(500_000 + n, first_name="x")
        broadcast = Broadcast.objects.create(
            text="<b>MoonVPN</b>: new locations!", status=Broadcast.Status.QUEUED
        )
        queries = 0

        def counted(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.monotonic()
        with connection.execute_wrapper(counted):
            totals = broadcasts_send(max_seconds=count / rate * 2 + 60)
        elapsed = time.monotonic() - started
    broadcast.refresh_from_db()
    sent = totals["sent"]
    delivered = BroadcastDelivery.objects.filter(broadcast=broadcast, status="sent").count()
    achieved = sent / elapsed
    print(
        f"recipients: {count}, sent: {sent} (rows marked sent: {delivered}), "
        f"status: {broadcast.status}"
    )
    print(
        f"achieved rate: {achieved:.2f} msgs/s against BROADCAST_RATE {rate:g} "
        f"({achieved / rate * 100:.1f} % of the cap; target <= 100 % and >= 95 %)"
    )
    print(
        f"database queries: {queries} in all, "
        f"{queries / max(sent, 1):.2f} per message (target <= 2)"
    )
    print(f"elapsed: {elapsed:.1f} s")


if __name__ == "__main__":
    main()
