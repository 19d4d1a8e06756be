"""The operator console at scale: every list, search and filter, its time and queries.

Target (issue 12): with 100,000 customers, orders and client accounts, each console
page <= 300 ms and <= 10 database queries. The fixture is made with bulk_create (a
minute or two on MariaDB) and kept between runs when it already has the size asked.

    python -m bench.admin_bench                        # SQLite, 100,000 customers
    python -m bench.admin_bench mysql://root@127.0.0.1:3306/moonvpn_bench [--customers N]

Prints one row per page (median of 3 timed requests after a warm-up) and exits
non-zero when a page misses the target.
"""

import argparse
import datetime as dt
import statistics
import sys
import time

from bench.common import setup_django

TIME_LIMIT_MS = 300
QUERY_LIMIT = 10
BATCH = 5000


def _recreate_mysql(url: str) -> None:
    """A fresh MariaDB database unless it already holds the fixture (kept for reruns)."""
    from urllib.parse import urlparse

    import MySQLdb

    parts = urlparse(url)
    conn = MySQLdb.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username or "root",
        passwd=parts.password or "",
    )  # fmt: skip
    name = parts.path.lstrip("/")
    cursor = conn.cursor()
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
    conn.close()


def build_fixture(customers: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User
    from billing.models import Order, Plan, Receipt, WalletTransaction
    from panels.models import ClientAccount, Inbound, Panel

    if User.objects.filter(telegram_id__isnull=False).count() >= customers:
        print(f"fixture: {customers:,} customers already there, kept", flush=True)
        return
    started = time.monotonic()
    now = timezone.now()
    panels = [
        Panel.objects.create(
            name=f"Panel-{i}", location_name="Germany", base_url=f"https://p{i}.example.com/x/",
            username="admin", password="bench-panel-secret", public_host=f"p{i}.example.com",
            health=Panel.Health.DOWN if i == 2 else Panel.Health.OK,
        )
        for i in range(3)
    ]  # fmt: skip
    inbounds = [
        Inbound.objects.create(
            panel=panel, remote_id=j + 1, remark=f"in-{j}", protocol="vless", port=443 + j,
            network="tcp", security="reality", client_count=customers // 9,
        )
        for panel in panels
        for j in range(3)
    ]  # fmt: skip
    plans = [
        Plan.objects.create(name=f"{m} month", duration_days=30 * m, traffic_gb=50 * m,
                            price=150_000 * m)
        for m in (1, 3)
    ]  # fmt: skip
    first_names = ["Sara", "Ali", "Reza", "Maryam", "Zahra", "Mohammad", "Neda", "Amir"]
    password = make_password(None)
    users = [
        User(
            username=f"tg{700_000_000 + i}", password=password, telegram_id=700_000_000 + i,
            first_name=f"{first_names[i % len(first_names)]}{i}",
            telegram_username=f"user{i}" if i % 3 else "",
            date_joined=now - dt.timedelta(seconds=(i * 45 * 86400) // customers),
        )
        for i in range(customers)
    ]  # fmt: skip
    User.objects.bulk_create(users, batch_size=BATCH)
    user_ids = list(
        User.objects.filter(telegram_id__isnull=False).order_by("pk").values_list("pk", flat=True)
    )
    orders = []
    for i, user_id in enumerate(user_ids):
        paid = now - dt.timedelta(seconds=(i * 60 * 86400) // customers)
        status = Order.Status.FULFILLED if i % 50 else Order.Status.PAID
        inbound = inbounds[i % len(inbounds)]
        orders.append(
            Order(
                user_id=user_id, kind=Order.Kind.NEW, plan=plans[i % 2], panel_id=inbound.panel_id,
                inbound=inbound, amount=plans[i % 2].price, status=status,
                payment_method=Order.PaymentMethod.RECEIPT, paid_at=paid,
                fulfilled_at=paid if status == Order.Status.FULFILLED else None,
                client_email=f"c{i}",
            )
        )  # fmt: skip
    Order.objects.bulk_create(orders, batch_size=BATCH)
    Order.objects.update(created_at=now - dt.timedelta(days=1))  # auto_now_add: one day back
    order_ids = list(Order.objects.order_by("pk").values_list("pk", "user_id", "inbound_id"))
    inbound_panel = {inbound.pk: inbound.panel_id for inbound in inbounds}
    accounts = []
    for i, (order_id, user_id, inbound_id) in enumerate(order_ids):
        accounts.append(
            ClientAccount(
                user_id=user_id, plan=plans[i % 2], panel_id=inbound_panel[inbound_id],
                inbound_id=inbound_id, order_id=order_id, uuid=f"00000000-0000-4000-8000-{i:012d}",
                email=f"c{i}", sub_id=f"sub{i}", traffic_limit_bytes=50 * 1024**3,
                used_bytes=(i % 50) * 1024**3,
                expires_at=now + dt.timedelta(hours=(i % 24 * 60) - 30),
                status=ClientAccount.Status.ACTIVE if i % 10 else ClientAccount.Status.EXPIRED,
                subscription_url=f"https://sub.example.com:2096/sub/sub{i}",
            )
        )  # fmt: skip
    ClientAccount.objects.bulk_create(accounts, batch_size=BATCH)
    # Receipts: one per order for the first 5%, the newest 200 waiting for review.
    receipts = []
    for i, (order_id, user_id, _inbound) in enumerate(order_ids[: customers // 20]):
        receipts.append(
            Receipt(
                order_id=order_id, user_id=user_id, image=f"receipts/bench/{i}.png",
                sha256=f"{i:064x}", amount=150_000,
                status=Receipt.Status.PENDING if i < 200 else Receipt.Status.APPROVED,
            )
        )  # fmt: skip
    Receipt.objects.bulk_create(receipts, batch_size=BATCH)
    WalletTransaction.objects.bulk_create(
        [
            WalletTransaction(
                user_id=user_id, amount=150_000, balance_after=150_000,
                kind=WalletTransaction.Kind.TOPUP,
                order_id=order_id, idempotency_key=f"bench-{order_id}",
            )
            for order_id, user_id, _inbound in order_ids[: customers // 10]
        ],
        batch_size=BATCH,
    )  # fmt: skip
    print(f"fixture: {customers:,} customers, orders and accounts in "
          f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip


def pages():
    """(label, url) for every console list, its search and its filters, and the queue."""
    from django.urls import reverse

    from billing.models import Receipt
    from panels.models import Inbound

    def cl(name):
        return reverse(f"admin:{name}_changelist")

    inbound = Inbound.objects.order_by("pk").first()
    pending = Receipt.objects.filter(status="pending").order_by("created_at").first()
    soon = "expiring=3"
    accounts = cl("panels_clientaccount")
    return [
        ("home (work queue)", reverse("admin:index")),
        ("users", cl("accounts_user")),
        ("users: search name", cl("accounts_user") + "?q=Sara4711"),
        ("users: search telegram id", cl("accounts_user") + "?q=700004711"),
        ("client accounts", cl("panels_clientaccount")),
        ("client accounts: search email", cl("panels_clientaccount") + "?q=c4711"),
        ("client accounts: search name", cl("panels_clientaccount") + "?q=Sara4711"),
        ("client accounts: active", cl("panels_clientaccount") + "?status__exact=active"),
        ("client accounts: expiring soon", cl("panels_clientaccount") + "?" + soon),
        ("client accounts: by panel", accounts + f"?panel__id__exact={inbound.panel_id}"),
        ("client accounts: by inbound", accounts + f"?inbound__id__exact={inbound.pk}"),
        ("orders", cl("billing_order")),
        ("orders: search", cl("billing_order") + "?q=700004711"),
        ("orders: paid", cl("billing_order") + "?status__exact=paid"),
        ("orders: by panel", cl("billing_order") + f"?panel__id__exact={inbound.panel_id}"),
        ("receipts", cl("billing_receipt")),
        ("receipts: pending", cl("billing_receipt") + "?status__exact=pending"),
        ("receipts: search", cl("billing_receipt") + "?q=700000042"),
        ("receipt review page", reverse("admin:billing_receipt_change", args=[pending.pk])),
        ("wallet ledger", cl("billing_wallettransaction")),
        ("wallet ledger: search", cl("billing_wallettransaction") + "?q=700000042"),
        ("panels", cl("panels_panel")),
        ("inbounds", cl("panels_inbound")),
        ("plans", cl("billing_plan")),
        ("account reminders", cl("panels_accountreminder")),
        ("notices", cl("botapp_notice")),
        ("scheduled jobs", cl("ops_jobrun")),
    ]  # fmt: skip


def measure(client, url) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up (and the status check)
    status = response.status_code
    times, queries = [], 0
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    return statistics.median(times), queries, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url", nargs="?", default=None)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    if args.database_url and args.database_url.startswith("mysql"):
        _recreate_mysql(args.database_url)
    import os

    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
    url = setup_django(args.database_url)
    build_fixture(args.customers)

    from django.test import Client

    from accounts.models import User

    operator, _ = User.objects.get_or_create(
        username="bench-operator", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="fa")
    client.force_login(operator)
    print(f"database: {url.split('@')[-1]}, {args.customers:,} customers")
    print(f"{'page':42} {'ms':>7} {'queries':>8}  status")
    failed = []
    for label, page_url in pages():
        ms, queries, status = measure(client, page_url)
        over = ms > TIME_LIMIT_MS or queries > QUERY_LIMIT or status != 200
        flag = "  OVER" if over else ""
        print(f"{label:42} {ms:7.0f} {queries:8d}  {status}{flag}", flush=True)
        if over:
            failed.append(label)
    if failed:
        print(f"over the target ({TIME_LIMIT_MS} ms, {QUERY_LIMIT} queries): {failed}")
        return 1
    print(f"every page within {TIME_LIMIT_MS} ms and {QUERY_LIMIT} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
