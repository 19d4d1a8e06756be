"""A panel's health history on its console page: when it went down, why, when it came back.

The rows are written by panels.health (one per transition) and sent to the operators
by the bot; here they stay readable afterwards, so an operator who missed the alert,
or a customer's complaint about last night, can see what happened and for how long.
Shown as a read-only field of the panel's page, so whoever may see the panel sees it.
"""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from ops.console import console_datetime
from panels.models import Panel, PanelHealthEvent

HISTORY = timedelta(days=30)


class PanelHealthHistoryMixin:
    """Mixed into PanelAdmin: the ``health_history`` read-only field."""

    @admin.display(description=_("health in the last 30 days"))
    def health_history(self, panel: Panel):
        if panel is None or panel.pk is None:
            return "—"
        events = PanelHealthEvent.objects.filter(
            panel=panel, created_at__gte=timezone.now() - HISTORY
        ).order_by("-created_at", "-id")[:50]
        if not events:
            return _("No outage in the last 30 days.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    console_datetime(event.created_at),
                    event.get_kind_display(),
                    event.error or "—",
                    console_datetime(event.notified_at) if event.notified_at else "—",
                )
                for event in events
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("time"),
            _("what"),
            _("error"),
            _("operators told"),
            rows,
        )
