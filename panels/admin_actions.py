"""The operator's account actions in the Django admin (services in panels.lifecycle).

Each action works account by account and reports each one: a panel that is down fails
that account with the panel's reason and leaves its row as it was, while the other
accounts of the same action are done. Extend and delete ask first on an intermediate
page (extend for its days, gigabytes and note).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from botapp.notify import account_resend_config, send_new_link
from moonvpn.formatting import format_bytes
from panels import lifecycle
from panels.models import AccountEvent, ClientAccount


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("days to add"), min_value=0, initial=0)
    traffic_gb = forms.IntegerField(label=gettext_lazy("GB to add"), min_value=0, initial=0)
    note = forms.CharField(
        label=gettext_lazy("note"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Why: kept with the account's history for audit."),
    )

    def clean(self):
        data = super().clean()
        if not data.get("days") and not data.get("traffic_gb"):
            raise forms.ValidationError(_("Give a number of days or gigabytes to add."))
        return data


class AccountEventInline(admin.TabularInline):
    model = AccountEvent
    fields = ("created_at", "action", "actor", "order", "note", "details")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")
    verbose_name_plural = gettext_lazy("history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _name(account: ClientAccount) -> str:
    return f"{account.email} @ {account.panel.name}"


class ClientAccountActionsMixin:
    """Mixed into ClientAccountAdmin; the actions change the panel, then the row."""

    object_actions = (
        "extend_accounts",
        "disable_accounts",
        "enable_accounts",
        "resend_configs",
        "regenerate_links",
        "delete_accounts",
    )
    actions = (
        "extend_accounts",
        "disable_accounts",
        "enable_accounts",
        "delete_accounts",
        "regenerate_links",
        "resend_configs",
    )

    # The admin itself is read-only for accounts (rows mirror the panel); each action
    # on the panel takes its own permission (panels.ClientAccount.Meta.permissions).

    def has_extend_permission(self, request):
        return request.user.has_perm("panels.extend_clientaccount")

    def has_disable_permission(self, request):
        return request.user.has_perm("panels.disable_clientaccount")

    def has_remove_permission(self, request):
        return request.user.has_perm("panels.remove_clientaccount")

    def has_regenerate_permission(self, request):
        return request.user.has_perm("panels.regenerate_clientaccount")

    def has_resend_permission(self, request):
        return request.user.has_perm("panels.resend_clientaccount")

    # --- no delete around the panel ----------------------------------------------------

    def has_delete_permission(self, request, obj=None):
        # The stock delete drops the row and leaves the client working on its panel
        # (and its order "fulfilled"). "Delete on the panel" is the one way to delete,
        # through panels.lifecycle; the row stays, marked deleted, for the audit.
        return False

    def delete_model(self, request, obj):
        lifecycle.account_delete(account=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        live = queryset.exclude(status=ClientAccount.Status.DELETED)
        for account in live.select_related("user", "panel", "inbound", "plan").order_by("pk"):
            lifecycle.account_delete(account=account, actor=request.user)

    # --- helpers ---------------------------------------------------------------------

    def _each(self, request, queryset, work):
        """Run ``work(account)`` per account; it returns the success text or raises."""
        for account in queryset.select_related("user", "panel", "inbound", "plan").order_by("pk"):
            try:
                text = work(account)
            except lifecycle.LifecycleError as exc:
                messages.warning(
                    request,
                    _("%(account)s: not done: %(reason)s")
                    % {"account": _name(account), "reason": exc},
                )
            else:
                messages.success(request, f"{_name(account)}: {text}")

    def _confirm(self, request, queryset, action, title, form=None):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset.select_related("panel", "user"),
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "from_object": bool(request.POST.get("_from_object")),
        }
        return TemplateResponse(
            request, "admin/panels/clientaccount/lifecycle_action.html", context
        )

    # --- the actions -----------------------------------------------------------------

    @admin.action(
        description=gettext_lazy("Extend (days and/or GB, free) …"), permissions=["extend"]
    )
    def extend_accounts(self, request, queryset):
        form = ExtendForm(request.POST if "apply" in request.POST else None)
        if "apply" not in request.POST or not form.is_valid():
            return self._confirm(
                request, queryset, "extend_accounts", _("Extend client accounts"), form
            )
        days, gb, note = (form.cleaned_data[k] for k in ("days", "traffic_gb", "note"))

        def work(account):
            account = lifecycle.account_extend(
                account=account, days=days, traffic_gb=gb, note=note, actor=request.user
            )
            return _("extended; expires %(date)s, traffic limit %(limit)s.") % {
                "date": _date(account.expires_at),
                "limit": _limit(account),
            }

        self._each(request, queryset, work)
        return None

    @admin.action(description=gettext_lazy("Disable on the panel"), permissions=["disable"])
    def disable_accounts(self, request, queryset):
        def work(account):
            lifecycle.account_disable(account=account, actor=request.user)
            return _("disabled on the panel.")

        self._each(request, queryset, work)

    @admin.action(description=gettext_lazy("Enable on the panel"), permissions=["disable"])
    def enable_accounts(self, request, queryset):
        def work(account):
            lifecycle.account_enable(account=account, actor=request.user)
            return _("enabled on the panel.")

        self._each(request, queryset, work)

    @admin.action(description=gettext_lazy("Delete on the panel …"), permissions=["remove"])
    def delete_accounts(self, request, queryset):
        if "apply" not in request.POST:
            return self._confirm(
                request, queryset, "delete_accounts", _("Delete client accounts on their panels")
            )

        def work(account):
            result = lifecycle.account_delete(account=account, actor=request.user)
            if result.disabled_instead:
                return _(
                    "the panel keeps the last client of an inbound, so it was disabled "
                    "instead; marked deleted."
                )
            if result.was_missing:
                return _("was no longer on the panel; marked deleted.")
            return _("deleted from the panel.")

        self._each(request, queryset, work)
        return None

    @admin.action(
        description=gettext_lazy("Regenerate the link (new key) and send it"),
        permissions=["regenerate"],
    )
    def regenerate_links(self, request, queryset):
        def work(account):
            account = lifecycle.account_regenerate_link(account=account, actor=request.user)
            if send_new_link(account):
                return _("new link made and sent to the customer.")
            return _("new link made; the customer could not be reached on Telegram.")

        self._each(request, queryset, work)

    @admin.action(
        description=gettext_lazy("Send the config to the customer again"), permissions=["resend"]
    )
    def resend_configs(self, request, queryset):
        def work(account):
            if not account_resend_config(account=account, actor=request.user):
                raise lifecycle.LifecycleError(_("the customer cannot be reached on Telegram."))
            return _("config sent.")

        self._each(request, queryset, work)


def _date(value) -> str:
    # Jalali date and Tehran time in Persian (ops.console), Django's format in English.
    from ops.console import console_datetime

    return console_datetime(value) if value else "∞"


def _limit(account: ClientAccount) -> str:
    if not account.traffic_limit_bytes:
        return "∞"
    return format_bytes(account.traffic_limit_bytes, get_language() or "fa")
