"""Customers' client accounts and their reminders in the console (read-only rows;
the actions in panels/admin_actions.py change the panel, then the row)."""

import datetime as dt
import mimetypes

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from moonvpn.admin import ObjectActionsMixin, ReadOnlyAdmin
from moonvpn.formatting import format_bytes
from panels.admin_actions import AccountEventInline, ClientAccountActionsMixin
from panels.models import AccountReminder, ClientAccount
from panels.selectors import account_search

# --- client accounts -----------------------------------------------------------------


class ExpiringFilter(admin.SimpleListFilter):
    title = _("expiring")
    parameter_name = "expiring"

    def lookups(self, request, model_admin):
        return (
            ("3", _("in the next 3 days")),
            ("7", _("in the next 7 days")),
            ("past", _("already expired")),
        )

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() in ("3", "7"):
            return queryset.filter(
                status=ClientAccount.Status.ACTIVE,
                expires_at__gte=now,
                expires_at__lt=now + dt.timedelta(days=int(self.value())),
            )
        if self.value() == "past":
            return queryset.filter(expires_at__lt=now)
        return queryset


@admin.register(ClientAccount)
class ClientAccountAdmin(ObjectActionsMixin, ClientAccountActionsMixin, admin.ModelAdmin):
    """Accounts are made by provisioning and mirror the panel: shown, not edited here."""

    # At 1400 px without sideways scrolling: who, where, whether it works, how much is
    # left. Plan, QR and creation time are on the account's page.
    list_display = (
        "email_column",
        "customer",
        "where",
        "status_column",
        "usage",
        "expires_at",
    )
    list_filter = (ExpiringFilter, "status", "panel_enabled", "panel", "plan")
    # No joins in the page's query: MariaDB would start from the small inbound table and
    # sort the whole 5-table join (1.7 s at 100,000); alone, client_accounts walks its
    # created_at index. The page's customers and inbounds (with their panel) come in
    # one query each (get_queryset).
    list_select_related = ()
    # What the search box matches (get_search_results does it with index-friendly
    # lookups): the account's email, uuid or sub id; the customer's first or last name,
    # username or @username (from their start), or Telegram id.
    search_fields = ("email", "uuid", "sub_id", "user__first_name", "user__telegram_id")
    search_help_text = _(
        "An email on the panel, uuid or sub id; or the customer's name, @username or Telegram id."
    )
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = (
        "user",
        "plan",
        "panel",
        "inbound",
        "order",
        "uuid",
        "email",
        "sub_id",
        "status",
        "panel_enabled",
        "usage",
        "traffic_limit_bytes",
        "used_bytes",
        "expires_at",
        "config_link",
        "subscription_link",
        "qr_code",
        "created_at",
        "updated_at",
        "last_synced_at",
    )
    fieldsets = (
        (None, {"fields": ("user", "plan", "order", "status", "expires_at", "usage")}),
        (
            _("On the panel"),
            {
                "fields": (
                    "panel",
                    "inbound",
                    "email",
                    "uuid",
                    "sub_id",
                    "panel_enabled",
                    "traffic_limit_bytes",
                    "used_bytes",
                    "last_synced_at",
                )
            },
        ),
        (
            _("What the customer received"),
            {"fields": ("config_link", "subscription_link", "qr_code")},
        ),
        (None, {"fields": ("created_at", "updated_at")}),
    )
    inlines = (AccountEventInline,)  # actions: ClientAccountActionsMixin

    def has_add_permission(self, request):
        # An account exists because provisioning created its client on a panel.
        return False

    def has_change_permission(self, request, obj=None):
        # Editing a row here would not change the panel; panel-side changes go through
        # panels.lifecycle.
        return False

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/qr/",
                self.admin_site.admin_view(self.qr_view),
                name="panels_clientaccount_qr",
            ),
        ]
        return custom + super().get_urls()

    def qr_view(self, request, object_id):
        # QR codes hold the customer's config: served only to who may view the
        # account, never from /media/.
        if not self.has_view_permission(request):
            raise PermissionDenied
        account = self.get_object(request, unquote(object_id))
        if account is None:
            raise Http404
        if not account.qr_code_path:
            raise Http404
        try:
            handle = account.qr_code_path.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise Http404 from exc
        content_type = mimetypes.guess_type(account.qr_code_path.name)[0] or "image/png"
        return FileResponse(handle, content_type=content_type)

    def _qr_url(self, account):
        return reverse("admin:panels_clientaccount_qr", args=[account.pk])

    @admin.display(description=_("QR"))
    def qr_thumbnail(self, account):
        if not account.qr_code_path:
            return "—"
        url = self._qr_url(account)
        return format_html(
            '<a href="{0}" target="_blank"><img src="{0}" width="48" height="48" alt="QR"></a>',
            url,
        )

    @admin.display(description=_("QR code"))
    def qr_code(self, account):
        if not account.qr_code_path:
            return "—"
        return format_html('<img src="{}" width="240" alt="QR">', self._qr_url(account))

    @admin.display(description=_("config link"))
    def config_link(self, account):
        if not account.config_url:
            return "—"
        return format_html(
            '<textarea readonly rows="3" cols="80" dir="ltr" onclick="this.select()">{}</textarea>',
            account.config_url,
        )

    @admin.display(description=_("subscription link"))
    def subscription_link(self, account):
        if not account.subscription_url:
            return "—"
        return format_html(
            '<a href="{0}" target="_blank" rel="noreferrer" dir="ltr">{0}</a>',
            account.subscription_url,
        )

    @admin.display(description=_("usage"), ordering="used_bytes")
    def usage(self, account):
        lang = get_language() or "fa"
        used = format_bytes(max(account.used_bytes, 0), lang)
        limit = (
            format_bytes(account.traffic_limit_bytes, lang) if account.traffic_limit_bytes else "∞"
        )
        # Isolated: in a right-to-left page "10.2 GB / 50 GB" must not read backwards.
        return format_html('<bdi dir="{}">{} / {}</bdi>', "rtl" if lang == "fa" else "ltr",
                           used, limit)  # fmt: skip

    @admin.display(description=_("email on the panel"), ordering="email")
    def email_column(self, account):
        return format_html('<bdi dir="ltr">{}</bdi>', account.email)

    @admin.display(description=_("customer"), ordering="user")
    def customer(self, account):
        return account.user

    @admin.display(description=_("panel / inbound"), ordering="inbound")
    def where(self, account):
        return f"{account.panel.name} · {account.inbound.label}"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("user", "panel", "inbound")

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, account):
        text = account.get_status_display()
        if account.status == ClientAccount.Status.ACTIVE and not account.panel_enabled:
            return format_html('{} <span class="console-warn">({})</span>', text,
                               _("off on the panel"))  # fmt: skip
        return text

    def get_search_results(self, request, queryset, search_term):
        return account_search(queryset, search_term), False


@admin.register(AccountReminder)
class AccountReminderAdmin(ReadOnlyAdmin):
    """Reminders and clean-up notices: each sent at most once per account and term."""

    list_display = ("account", "kind", "threshold", "outcome", "created_at")
    list_filter = ("kind", "outcome", "created_at")
    search_fields = ("account__email", "account__user__telegram_id")
    list_select_related = ("account__panel",)
