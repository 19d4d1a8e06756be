"""Panel operations in the admin: sync now, test connection, and each inbound's
client list read live from the panel (the page the old system's button never opened).
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from panels.health import panel_test_connection
from panels.live import LiveClient, inbound_live_clients
from panels.models import Inbound, Panel
from panels.sync import panel_sync
from panels.xui import PanelError, error_summary

CLIENTS_PER_PAGE = 100


def _matches(row: LiveClient, term: str) -> bool:
    account = row.account
    names = [row.email]
    if account is not None:
        user = account.user
        names += [user.first_name, user.last_name, user.telegram_username, str(user.telegram_id)]
    return any(term in (name or "").lower() for name in names)


def inbound_clients_view(request, inbound_id):
    # The list shows customers' clients: it takes both the inbound's and the accounts'
    # view permission (InboundLiveClientsMixin checks them before calling this).
    inbound = get_object_or_404(Inbound.objects.select_related("panel"), pk=inbound_id)
    clients = inbound_live_clients(inbound=inbound)
    rows, error = clients.clients, clients.error
    total = len(rows)
    term = request.GET.get("q", "").strip().lower()
    if term:
        rows = [row for row in rows if _matches(row, term)]
    page = Paginator(rows, CLIENTS_PER_PAGE).get_page(request.GET.get("p"))
    context = {
        **admin.site.each_context(request),
        "opts": Inbound._meta,
        "inbound": inbound,
        "rows": page.object_list,
        "page": page,
        "total": total,
        "found": len(rows),
        "q": request.GET.get("q", ""),
        "error": error,
        "live": clients.live,
        "on_panel": inbound.client_count,
        "now": timezone.now(),
        "title": _("Clients of %(inbound)s") % {"inbound": inbound},
    }
    return TemplateResponse(request, "admin/panels/inbound/clients.html", context)


# --- the admin mixins -----------------------------------------------------------------


def _report_sync(request, panel):
    result = panel_sync(panel=panel)
    if result.ok:
        messages.success(
            request,
            _(
                "%(panel)s: synced %(inbounds)s inbounds (%(new)s new, %(gone)s gone), "
                "%(accounts)s accounts updated, %(missing)s missing on the panel."
            )
            % {
                "panel": panel,
                "inbounds": result.inbounds,
                "new": result.created,
                "gone": result.gone,
                "accounts": result.accounts_updated,
                "missing": result.accounts_missing,
            },
        )
        for problem in result.problems:
            messages.warning(
                request,
                _("%(panel)s: not sellable: %(problem)s") % {"panel": panel, "problem": problem},
            )
    else:
        messages.error(
            request,
            _("%(panel)s: sync failed: %(error)s") % {"panel": panel, "error": result.error},
        )


def _report_test(request, panel):
    try:
        generation = panel_test_connection(panel=panel)
    except PanelError as exc:
        messages.error(
            request, _("%(panel)s: %(error)s") % {"panel": panel, "error": error_summary(exc)}
        )
    else:
        messages.success(
            request,
            _("%(panel)s: logged in; API generation %(generation)s.")
            % {"panel": panel, "generation": generation},
        )


class PanelOperationsMixin:
    """'Sync now' and 'Test connection', as list actions and as change-page buttons.

    Each takes its own permission (panels.sync_panel, panels.test_panel): both log in
    to the panel with its stored credentials.
    """

    actions = ["sync_now", "test_connection"]

    def has_sync_permission(self, request, obj=None):
        return request.user.has_perm("panels.sync_panel")

    def has_test_permission(self, request, obj=None):
        return request.user.has_perm("panels.test_panel")

    @admin.action(description=gettext_lazy("Sync now"), permissions=["sync"])
    def sync_now(self, request, queryset):
        for panel in queryset:
            _report_sync(request, panel)

    @admin.action(description=gettext_lazy("Test connection"), permissions=["test"])
    def test_connection(self, request, queryset):
        for panel in queryset:
            _report_test(request, panel)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/sync/",
                self.admin_site.admin_view(
                    self._panel_button(_report_sync, self.has_sync_permission)
                ),
                name="panels_panel_sync",
            ),
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(
                    self._panel_button(_report_test, self.has_test_permission)
                ),
                name="panels_panel_test",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_sync": self.has_sync_permission(request),
            "can_test": self.has_test_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _panel_button(self, operation, allowed):
        def view(request, object_id):
            if not allowed(request):
                raise PermissionDenied
            panel = get_object_or_404(Panel, pk=unquote(object_id))
            if request.method != "POST":
                # A bookmarked or typed button URL: back to the page, whose button posts.
                messages.info(request, _("Use the button on this page."))
                return HttpResponseRedirect(reverse("admin:panels_panel_change", args=[panel.pk]))
            operation(request, panel)
            return HttpResponseRedirect(reverse("admin:panels_panel_change", args=[panel.pk]))

        return view


class InboundLiveClientsMixin:
    """Adds each inbound's live client list: a page, a list column and a button."""

    def get_urls(self):
        return [
            path(
                "<path:inbound_id>/clients/",
                self.admin_site.admin_view(self.clients_view),
                name="panels_inbound_clients",
            ),
            *super().get_urls(),
        ]

    def has_clients_permission(self, request):
        return self.has_view_permission(request) and request.user.has_perm(
            "panels.view_clientaccount"
        )

    def clients_view(self, request, inbound_id):
        if not self.has_clients_permission(request):
            raise PermissionDenied
        return inbound_clients_view(request, unquote(inbound_id))

    def get_list_display(self, request):
        if not self.has_clients_permission(request):
            return super().get_list_display(request)
        return (*super().get_list_display(request), "clients_link")

    @admin.display(description=gettext_lazy("clients on the panel"))
    def clients_link(self, inbound):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:panels_inbound_clients", args=[inbound.pk]),
            _("clients (live)"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {})}
        if self.has_clients_permission(request):
            extra_context["clients_url"] = reverse(
                "admin:panels_inbound_clients", args=[unquote(object_id)]
            )
        return super().change_view(request, object_id, form_url, extra_context)
