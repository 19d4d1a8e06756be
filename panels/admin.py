"""The operator console for panels, their inbounds and customers' client accounts.

The forms (write-only panel secrets, the inbound's sellable toggle) are in
panels/admin_forms.py; a panel's health history in panels/admin_health.py.

"Sync now", "Test connection" and each inbound's live client list come from the
mixins in panels/admin_views.py; the change pages' buttons live in
templates/admin/panels/<model>/change_form.html.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from panels.admin_drift import DriftAdminMixin
from panels.admin_forms import InboundAdminForm, PanelAdminForm
from panels.admin_health import PanelHealthHistoryMixin
from panels.admin_views import InboundLiveClientsMixin, PanelOperationsMixin
from panels.models import ClientAccount, Inbound, Panel

HEALTH_COLORS = {
    Panel.Health.OK: "#2e7d32",
    Panel.Health.DOWN: "#c62828",
    Panel.Health.AUTH_ERROR: "#ef6c00",
    Panel.Health.UNKNOWN: "#757575",
}


def changelist_url(model, **filters) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return f"{url}?{query}" if query else url


def _count_link(obj, annotation, related, model, lookup, label) -> str:
    """'N things' linking to their changelist; the count comes from the list's annotation."""
    if obj.pk is None:
        return "—"
    count = getattr(obj, annotation, None)
    if count is None:
        count = related.count()
    return format_html(
        '<a href="{}">{}</a>',
        changelist_url(model, **{lookup: obj.pk}),
        label(count) % {"count": count},
    )


def _count_per(model, fk: str, **filters):
    counts = (
        model.objects.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


# --- panels ------------------------------------------------------------------------


@admin.register(Panel)
class PanelAdmin(DriftAdminMixin, PanelOperationsMixin, PanelHealthHistoryMixin, admin.ModelAdmin):
    form = PanelAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "name",
        "location",
        "health_badge",
        "api_generation",
        "accounts_capacity",
        "last_synced_at",
        "is_active",
        "inbounds_link",
    )
    list_filter = ("is_active", "health", "api_generation", "location_name")
    search_fields = ("name", "location_name", "base_url", "public_host")
    readonly_fields = (
        "health",
        "last_error",
        "last_checked_at",
        "last_synced_at",
        "api_generation",
        "accounts_capacity",
        "inbounds_link",
        "health_history",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "location_name",
                    "location_flag",
                    "is_active",
                    "sort_order",
                    "capacity",
                )
            },
        ),
        (
            _("Connection"),
            {
                "fields": (
                    "base_url",
                    "username",
                    "password",
                    "clear_password",
                    "api_token",
                    "clear_api_token",
                    "verify_tls",
                )
            },
        ),
        (_("Customers' links"), {"fields": ("public_host", "sub_base_url")}),
        (
            _("State"),
            {
                "fields": (
                    "health",
                    "last_error",
                    "health_history",
                    "last_checked_at",
                    "last_synced_at",
                    "api_generation",
                    "accounts_capacity",
                    "inbounds_link",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_accounts=_count_per(
                    ClientAccount, "panel", status=ClientAccount.Status.ACTIVE
                ),
                inbound_count=_count_per(Inbound, "panel"),
            )
        )

    @admin.display(description=_("location"), ordering="location_name")
    def location(self, panel):
        return panel.location_label

    @admin.display(description=_("health"), ordering="health")
    def health_badge(self, panel):
        return format_html(
            '<span style="color: {}; font-weight: bold">● {}</span>',
            HEALTH_COLORS.get(panel.health, "#757575"),
            panel.get_health_display(),
        )

    @admin.display(description=_("accounts / capacity"), ordering="active_accounts")
    def accounts_capacity(self, panel):
        if panel.pk is None:
            return "—"
        active = getattr(panel, "active_accounts", None)
        if active is None:
            active = panel.client_accounts.filter(status=ClientAccount.Status.ACTIVE).count()
        if not panel.capacity:
            return f"{active} / ∞"
        full = active >= panel.capacity
        return format_html(
            '<span style="{}">{} / {}</span>',
            "color: #c62828; font-weight: bold" if full else "",
            active,
            panel.capacity,
        )

    @admin.display(description=_("inbounds"))
    def inbounds_link(self, panel):
        return _count_link(
            panel, "inbound_count", panel.inbounds, Inbound, "panel__id__exact",
            lambda n: ngettext("%(count)s inbound", "%(count)s inbounds", n),
        )  # fmt: skip

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "inbounds_url": changelist_url(Inbound, panel__id__exact=unquote(object_id)),
        }
        return super().change_view(request, object_id, form_url, extra_context)


# --- inbounds ----------------------------------------------------------------------


# What sync writes: shown on the inbound page, never edited there.
INBOUND_SYNCED_FIELDS = (
    "panel",
    "remote_id",
    "remark",
    "protocol",
    "port",
    "listen",
    "network",
    "security",
    "status",
    "link_problem",
    "client_count",
    "accounts_link",
    "last_synced_at",
    "created_at",
    "updated_at",
)


@admin.register(Inbound)
class InboundAdmin(InboundLiveClientsMixin, admin.ModelAdmin):
    form = InboundAdminForm
    # At 1400 px: which inbound, how it connects (one column), how full, whether sold.
    list_display = (
        "remark_column",
        "panel",
        "transport",
        "client_count",
        "status",
        "problem",
        "is_sellable",
        "display_name",
        "accounts_link",
    )
    list_display_links = ("remark_column",)
    list_editable = ("is_sellable", "display_name")
    list_filter = ("panel", "status", "is_sellable", "protocol", "network", "security")
    list_select_related = ("panel",)
    search_fields = ("remark", "display_name", "panel__name", "port__exact")
    readonly_fields = (*INBOUND_SYNCED_FIELDS, "settings", "stream_settings")
    fieldsets = (
        (None, {"fields": ("is_sellable", "display_name")}),
        (_("On the panel (from the last sync)"), {"fields": INBOUND_SYNCED_FIELDS}),
        (
            _("Raw settings"),
            {"classes": ("collapse",), "fields": ("settings", "stream_settings")},
        ),
    )

    def has_add_permission(self, request):
        # Inbounds are created on the panel and arrive here by syncing it.
        return False

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", InboundAdminForm)
        return super().get_changelist_form(request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(account_count=_count_per(ClientAccount, "inbound"))
        )

    @admin.display(description=_("remark"), ordering="remark")
    def remark_column(self, inbound):
        return format_html("{} <small>#{}</small>", inbound.remark or "—", inbound.remote_id)

    @admin.display(description=_("protocol · port · transport"), ordering="protocol")
    def transport(self, inbound):
        parts = [inbound.protocol, str(inbound.port), inbound.network, inbound.security]
        return format_html('<bdi dir="ltr">{}</bdi>', " · ".join(p for p in parts if p))

    @admin.display(description=_("link problem"), boolean=False)
    def problem(self, inbound):
        if not inbound.link_problem:
            return ""
        return format_html(
            '<span style="color: #c62828" title="{0}">⚠ {0}</span>', inbound.link_problem
        )

    @admin.display(description=_("accounts"), ordering="account_count")
    def accounts_link(self, inbound):
        return _count_link(
            inbound, "account_count", inbound.client_accounts, ClientAccount, "inbound__id__exact",
            lambda n: ngettext("%(count)s account", "%(count)s accounts", n),
        )  # fmt: skip


# The client accounts' pages (registered on import).
from panels import admin_accounts  # noqa: E402, F401
