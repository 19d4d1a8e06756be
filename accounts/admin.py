"""The operator console for users: customers from Telegram and staff in one table.

The wallet balance is never edited here: the "adjust wallet" page books a ledger row
through billing.services.wallet_adjust, which changes the balance with it.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin

from accounts.admin_subscription import SubscriptionAdminMixin
from accounts.forms import WalletAdjustForm
from accounts.models import User
from billing.services import BillingError, wallet_adjust
from moonvpn.formatting import format_amount
from panels.models import ClientAccount

LEDGER_ROWS_SHOWN = 50


def toman(amount: int, signed: bool = False) -> str:
    text = format_amount(abs(amount) if signed else amount, get_language() or "fa")
    if signed:
        return f"{'+' if amount > 0 else '-'}{text}"
    return text


def ledger_url(user_id) -> str:
    return reverse("admin:billing_wallettransaction_changelist") + f"?user__id__exact={user_id}"


_DEFAULT_PERMISSIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission) -> str:
    """A permission as the operator reads it: in the console's language, not as stored.

    Django stores permission names in English ("Can add user"); the default four are
    rebuilt from the model's translated name, our own (Meta.permissions) translated by
    their msgid.
    """
    model = permission.content_type.model_class()
    action = permission.codename.split("_", 1)[0]
    if model is not None and permission.codename == f"{action}_{model._meta.model_name}":
        template = _DEFAULT_PERMISSIONS.get(action)
        if template is not None:
            name = template % {"model": model._meta.verbose_name}
            return f"{model._meta.app_config.verbose_name} | {name}"
    app = model._meta.app_config.verbose_name if model is not None else permission.content_type
    return f"{app} | {gettext(permission.name)}"


class ClientAccountInline(admin.TabularInline):
    model = ClientAccount
    fk_name = "user"
    fields = ("email", "panel", "inbound", "plan", "status", "expires_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(SubscriptionAdminMixin, DjangoUserAdmin):
    list_display = (
        "username",
        "full_name",
        "telegram_id",
        "telegram_username",
        "balance_column",
        "language",
        "is_staff",
        "is_blocked",
        "has_blocked_bot",
        "date_joined",
    )
    list_filter = (
        "is_staff",
        "is_superuser",
        "is_active",
        "is_blocked",
        "has_blocked_bot",
        "language",
    )
    search_fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "telegram_username",
        "telegram_id__exact",
    )
    ordering = ("-date_joined",)
    readonly_fields = (
        "wallet",
        "related",
        "subscription_link",
        "has_blocked_bot",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        DjangoUserAdmin.fieldsets[0],
        (_("Wallet"), {"fields": ("wallet", "related")}),
        (
            _("Telegram"),
            {
                "fields": (
                    "telegram_id",
                    "telegram_username",
                    "language",
                    "is_blocked",
                    "has_blocked_bot",
                    "subscription_link",
                )
            },
        ),
        *DjangoUserAdmin.fieldsets[1:],
    )
    inlines = [ClientAccountInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "user_permissions" and field is not None:
            field.label_from_instance = permission_label
            field.queryset = field.queryset.select_related("content_type")
        return field

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    # Who may grant permissions: only a superuser. Otherwise "change user" (which
    # support needs, to block a customer) would let anyone make themselves superuser.
    PRIVILEGE_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, *self.PRIVILEGE_FIELDS)

    def has_change_permission(self, request, obj=None):
        # Staff accounts are a superuser's to manage; the rest change customers.
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        # Setting another operator's password is taking over their account.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    @admin.display(description=_("name"))
    def full_name(self, user):
        return user.get_full_name()

    @admin.display(description=_("wallet balance"), ordering="balance")
    def balance_column(self, user):
        return toman(user.balance)

    @admin.display(description=_("wallet balance"))
    def wallet(self, user):
        if user.pk is None:
            return "—"
        return format_html(
            '<strong>{}</strong> &nbsp; <a class="button" href="{}">{}</a>'
            ' &nbsp; <a href="{}">{}</a>',
            toman(user.balance),
            reverse("admin:accounts_user_adjust_wallet", args=[user.pk]),
            _("Adjust wallet"),
            ledger_url(user.pk),
            _("Ledger rows"),
        )

    @admin.display(description=_("orders, receipts, accounts"))
    def related(self, user):
        """Links to this customer's rows in the other lists (each filtered to them)."""
        if user.pk is None:
            return "—"
        links = [
            ("billing_order", _("Orders"), user.orders.count()),
            ("billing_receipt", _("Receipts"), user.receipts.count()),
            ("panels_clientaccount", _("Client accounts"), user.client_accounts.count()),
        ]
        return format_html_join(
            " · ",
            '<a class="customer-link" href="{}?user__id__exact={}">{} ({})</a>',
            ((reverse(f"admin:{name}_changelist"), user.pk, label, n) for name, label, n in links),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_adjust_wallet": self.has_adjust_wallet_permission(request),
            "ledger_url": ledger_url(unquote(object_id)),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # --- the "adjust wallet" page ------------------------------------------------

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/adjust-wallet/",
                self.admin_site.admin_view(self.adjust_wallet_view),
                name="accounts_user_adjust_wallet",
            ),
        ]
        return custom + super().get_urls()

    def has_adjust_wallet_permission(self, request):
        return request.user.has_perm("billing.adjust_wallet")

    def adjust_wallet_view(self, request, object_id):
        # Checked before the lookup: without the permission, not even whether the
        # user exists is told.
        if not self.has_adjust_wallet_permission(request):
            raise PermissionDenied
        user = self.get_object(request, unquote(object_id))
        if user is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            form = WalletAdjustForm(request.POST)
            if form.is_valid():
                amount, note = form.cleaned_data["amount"], form.cleaned_data["note"]
                try:
                    row = wallet_adjust(
                        user_id=user.pk,
                        amount=amount,
                        note=note,
                        created_by=request.user,
                        request_id=form.cleaned_data["request_id"],
                    )
                except BillingError as exc:
                    self.message_user(
                        request,
                        _("The wallet was not changed: %(reason)s") % {"reason": exc},
                        messages.ERROR,
                    )
                else:
                    if not row.replayed:
                        # One history row per booked adjustment; a resubmitted form
                        # returned the first booking and adds nothing.
                        # Stored in English; the history page shows it in the
                        # reader's language (ops/templatetags/console.py).
                        with translation.override("en"):
                            amount = toman(row.amount, signed=True)
                            line = f"Wallet adjusted by {amount}: {row.note}"
                        self.log_change(request, user, line)
                    self.message_user(
                        request,
                        _("Wallet adjusted by %(amount)s; the balance is now %(balance)s.")
                        % {
                            "amount": toman(row.amount, signed=True),
                            "balance": toman(row.balance_after),
                        },
                        messages.SUCCESS,
                    )
                    # Redirect so a reload cannot book the adjustment twice.
                    return HttpResponseRedirect(request.path)
        else:
            form = WalletAdjustForm()
        user.refresh_from_db(fields=["balance"])
        rows = user.wallet_transactions.select_related("order", "receipt", "created_by")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust the wallet of %(user)s") % {"user": user},
            "opts": self.opts,
            "original": user,
            "form": form,
            "media": self.media + form.media,
            "balance": toman(user.balance),
            "ledger": [
                (row, toman(row.amount, signed=True), toman(row.balance_after))
                for row in rows[:LEDGER_ROWS_SHOWN]
            ],
            "ledger_count": rows.count(),
            "ledger_url": ledger_url(user.pk),
        }
        return TemplateResponse(request, "admin/accounts/user/adjust_wallet.html", context)


# DRF's token admin lists every API key in full; a key is a staff password, so the
# list shows only whose it is. `manage.py drf_create_token USER` prints a new key once.
TokenAdmin.list_display = ("user", "created")


class ConsoleGroupAdmin(GroupAdmin):
    """Django's group page with the permissions named in the console's language."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request=request, **kwargs)
        if db_field.name == "permissions" and field is not None:
            field.label_from_instance = permission_label
        return field


admin.site.unregister(Group)
admin.site.register(Group, ConsoleGroupAdmin)
