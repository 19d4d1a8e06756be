"""The console's home page: the operator's work queue, today's sales and two charts.

Rendered by Django's own admin index (the app list stays, below the queue) with the
queue in its context; the charts are inline SVG drawn here, so no chart library, CDN
or JavaScript is involved.
"""

from django.contrib import admin
from django.core.cache import cache
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from accounts.admin import toman
from accounts.selectors import new_customers_per_day, new_customers_today
from billing import selectors as billing_selectors
from moonvpn.formatting import format_date, format_number, from_jalali, to_jalali
from ops.console import console_datetime, is_persian
from panels import selectors as panel_selectors

QUEUE_ROWS = 15
CHART_CACHE_SECONDS = 3600


def bar_chart(points, *, color: str, label, title: str) -> str:
    """An inline SVG bar chart of (date, value) points, each bar with a tooltip."""
    width, height, top, bottom = 620, 170, 18, 22
    lang = "fa" if is_persian() else "en"
    peak = max((value for _day, value in points), default=0) or 1
    step = width / max(len(points), 1)
    plot = height - top - bottom
    bars = []
    for i, (day, value) in enumerate(points):
        h = round(plot * value / peak, 1)
        x = round(i * step + 1, 1)
        y = round(top + plot - h, 1)
        bars.append(
            (
                x,
                y,
                round(step - 2, 1),
                max(h, 0.5),
                color,
                f"{format_date(day, lang)}: {label(value)}",
            )
        )
    body = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        bars,
    )
    first = format_date(points[0][0], lang) if points else ""
    last = format_date(points[-1][0], lang) if points else ""
    return format_html(
        '<svg class="console-chart" role="img" aria-label="{title}" viewBox="0 0 {w} {h}" '
        'width="100%" preserveAspectRatio="none" style="max-width: {w}px; direction: ltr">'
        '<text x="0" y="12" font-size="11" fill="currentColor">{peak}</text>'
        '<line x1="0" y1="{base}" x2="{w}" y2="{base}" stroke="#999" stroke-width="1"/>'
        "{body}"
        '<text x="0" y="{h_1}" font-size="11" fill="currentColor">{first}</text>'
        '<text x="{w}" y="{h_1}" font-size="11" fill="currentColor" text-anchor="end">{last}'
        "</text></svg>",
        title=title,
        w=width,
        h=height,
        peak=label(peak if peak != 1 or any(v for _d, v in points) else 0),
        base=top + plot,
        body=body,
        h_1=height - 6,
        first=first,
        last=last,
    )


def _finished_days(name: str, compute) -> list:
    """A chart's finished days: they change no more, so kept until the day ends."""
    today = timezone.localdate()
    key = f"console-chart:{name}:{today.isoformat()}"
    points = cache.get(key)
    if points is None:
        points = compute()
        cache.set(key, points, CHART_CACHE_SECONDS)
    return points


def work_queue(request) -> dict:
    """What the home page shows, each part only to who may open the pages it links to."""
    user = request.user
    lang = "fa" if is_persian() else "en"
    today = timezone.localdate()
    context = {"console_home": True}
    if user.has_perm("billing.view_receipt"):
        rows, count = billing_selectors.receipts_waiting(QUEUE_ROWS)
        context["receipts_waiting"], context["receipts_waiting_count"] = rows, count
    if user.has_perm("billing.view_order"):
        rows, count = billing_selectors.paid_not_delivered(QUEUE_ROWS)
        context["undelivered"], context["undelivered_count"] = rows, count
        sold = billing_selectors.sales_today_and_since(
            billing_selectors.local_midnight(today),
            billing_selectors.local_midnight(_month_start(today)),
        )
        context["sales"] = {
            "today": toman(sold["today_total"]),
            "today_orders": format_number(sold["today_n"], lang),
            "month": toman(sold["month_total"]),
            "month_orders": format_number(sold["month_n"], lang),
        }
        past = _finished_days(
            "sales", lambda: billing_selectors.sales_per_day(30, before_today=True)[:-1]
        )
        context["sales_chart"] = bar_chart(
            [*past, (today, sold["today_total"])],
            color="#2e7d32",
            label=toman,
            title=_("Sales over the last 30 days"),
        )
    if user.has_perm("panels.view_panel"):
        context["panels_down"] = list(panel_selectors.panels_down())
    if user.has_perm("panels.view_clientaccount"):
        rows, count = panel_selectors.expiring_soon(3, QUEUE_ROWS)
        context["expiring"], context["expiring_count"] = rows, count
    if user.has_perm("accounts.view_user"):
        past = _finished_days(
            "customers", lambda: new_customers_per_day(30, before_today=True)[:-1]
        )
        context["customers_chart"] = bar_chart(
            [*past, (today, new_customers_today())],
            color="#1565c0",
            label=lambda n: format_number(n, lang),
            title=_("New customers over the last 30 days"),
        )
    context["now_label"] = console_datetime(timezone.now())
    return context


def _month_start(today):
    """The first day of the current month: the Jalali month in Persian, else Gregorian."""
    if is_persian():
        y, m, _d = to_jalali(today)
        return from_jalali(y, m, 1)
    return today.replace(day=1)


def home(request):
    return admin.site.index(request, extra_context=work_queue(request))


home_view = admin.site.admin_view(home)
