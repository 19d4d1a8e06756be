"""sync_panels: 20 panels at 200 ms a request against one alone, and a 10,000-client panel.

Targets (issue 3): syncing 20 slow panels takes at most 1.5x one panel; a panel with
10,000 clients syncs in at most 3 s, with a number of queries that does not grow with
the clients.

    python -m bench.sync_bench
"""

import io
import time

from bench.common import setup_django

LATENCY = 0.2
PANELS = 20


def _panel(fake, name, **extra):
    from panels.models import Panel

    return Panel.objects.create(
        name=name,
        location_name=name,
        base_url=fake.url,
        username="admin",
        password="secret",
        public_host=f"{name}.example",
        api_generation="v2",
        **extra,
    )


def _timed_sync(*panel_ids):
    from django.core.management import call_command

    args = [arg for pk in panel_ids for arg in ("--panel", str(pk))]
    started = time.perf_counter()
    try:
        call_command("sync_panels", *args, stdout=io.StringIO())
    except SystemExit as exc:
        raise RuntimeError("a panel failed to sync") from exc
    return time.perf_counter() - started


def bench_many_slow_panels():
    from standins.xui import FakeXuiPanel

    fakes = [FakeXuiPanel(profile="v2", latency=LATENCY).start() for _ in range(PANELS)]
    try:
        panels = []
        for i, fake in enumerate(fakes):
            for protocol in ("vless", "vmess", "trojan"):
                fake.add_inbound(protocol=protocol)
            panels.append(_panel(fake, f"slow-{i}"))
        _timed_sync(*[p.pk for p in panels])  # log every panel in once, like a warm cron
        one = min(_timed_sync(panels[0].pk) for _ in range(3))
        many = min(_timed_sync(*[p.pk for p in panels]) for _ in range(3))
    finally:
        for fake in fakes:
            fake.stop()
    print(f"one panel at {LATENCY * 1000:.0f} ms/request: {one:.2f} s")
    print(f"{PANELS} panels at {LATENCY * 1000:.0f} ms/request: {many:.2f} s")
    print(f"ratio: {many / one:.2f}x (target <= 1.5x)")


def bench_big_panel(clients):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.models import Plan
    from panels.models import ClientAccount, Inbound
    from panels.sync import panel_sync
    from standins.xui import FakeXuiPanel

    with FakeXuiPanel(profile="v2") as fake:
        remote = fake.add_inbound(protocol="vless")
        emails = fake.populate(remote, clients)
        panel = _panel(fake, f"big-{clients}")
        panel_sync(panel=panel)
        inbound = Inbound.objects.get(panel=panel, remote_id=remote)
        from accounts.models import User

        user = User.objects.create(username=f"bench-{clients}")
        plan = Plan.objects.create(name="b", duration_days=30, traffic_gb=10, price=1)
        ClientAccount.objects.bulk_create(
            [
                ClientAccount(
                    user=user, plan=plan, panel=panel, inbound=inbound, uuid="x", email=email
                )
                for email in emails
            ],
            batch_size=1000,
        )
        for email in emails:
            fake.set_traffic(email, 1024, 2048)
        with CaptureQueriesContext(connection) as changed:
            started = time.perf_counter()
            result = panel_sync(panel=panel)
            first = time.perf_counter() - started
        assert result.ok, result.error
        with CaptureQueriesContext(connection) as quiet:
            started = time.perf_counter()
            panel_sync(panel=panel)
            second = time.perf_counter() - started
    print(
        f"{clients:>6} clients: sync with every account changed {first:.2f} s, "
        f"{len(changed.captured_queries)} queries; unchanged {second:.2f} s, "
        f"{len(quiet.captured_queries)} queries"
    )


def main():
    setup_django()
    bench_many_slow_panels()
    for clients in (1_000, 10_000):
        bench_big_panel(clients)
    print("target for 10,000 clients: <= 3 s")


if __name__ == "__main__":
    main()
