"""The console's growth pages: discount codes and free trials (issue 13).

Kept apart from billing/admin.py; billing.apps imports it so it is registered.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.models import DiscountCode, DiscountUse, TrialClaim
from moonvpn.admin import ReadOnlyAdmin


class DiscountUseInline(admin.TabularInline):
    model = DiscountUse
    fields = ("order", "user", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DiscountCode)
class DiscountCodeAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "percent_off",
        "amount_off",
        "uses_column",
        "max_uses_per_user",
        "valid_from",
        "valid_until",
        "is_active",
    )
    list_filter = ("is_active", "for_new", "for_renewal", "for_addon")
    search_fields = ("code",)
    filter_horizontal = ("plans",)
    readonly_fields = ("uses", "created_at")
    inlines = [DiscountUseInline]
    fieldsets = (
        (None, {"fields": ("code", "is_active", ("percent_off", "amount_off"))}),
        (_("Limits"), {"fields": (("max_uses", "uses"), "max_uses_per_user")}),
        (_("When"), {"fields": (("valid_from", "valid_until"),)}),
        (_("What"), {"fields": ("plans", ("for_new", "for_renewal", "for_addon"))}),
        (None, {"fields": ("created_at",)}),
    )

    @admin.display(description=_("uses"), ordering="uses")
    def uses_column(self, obj):
        return f"{obj.uses} / {obj.max_uses}" if obj.max_uses is not None else str(obj.uses)


@admin.register(TrialClaim)
class TrialClaimAdmin(ReadOnlyAdmin):
    """Who took the free trial, and the account it became."""

    list_display = ("user", "order", "account_status", "created_at")
    list_select_related = ("user", "order", "order__created_account")
    search_fields = ("user__username", "user__telegram_username", "user__telegram_id")

    @admin.display(description=_("account"))
    def account_status(self, obj):
        account = getattr(obj.order, "created_account", None)
        return account.get_status_display() if account else "—"
