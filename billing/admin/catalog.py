"""Plans, add-ons, bank cards and the wallet ledger in the console."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.admin import toman
from billing.admin.common import _change_link
from billing.models import (
    AddOn,
    BankCard,
    Plan,
    WalletTransaction,
)
from moonvpn.admin import ReadOnlyAdmin
from moonvpn.formatting import GIB, format_bytes

# --- plans and bank cards --------------------------------------------------------------


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "duration_days",
        "traffic",
        "price_column",
        "max_devices",
        "sold_on",
        "is_active",
        "sort_order",
    )
    list_editable = ("is_active", "sort_order")
    list_filter = ("is_active", "panels")
    search_fields = ("name",)
    filter_horizontal = ("panels",)
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("panels")

    @admin.display(description=_("traffic"), ordering="traffic_gb")
    def traffic(self, plan):
        if not plan.traffic_gb:
            return "∞"
        # One unit per language: "50 GB" / "۵۰ گیگابایت".
        return format_bytes(plan.traffic_gb * GIB, get_language() or "fa")

    @admin.display(description=_("price"), ordering="price")
    def price_column(self, plan):
        return toman(plan.price)

    @admin.display(description=_("sold on"))
    def sold_on(self, plan):
        panels = list(plan.panels.all())
        if not panels:
            return _("every panel")
        return ", ".join(panel.name for panel in panels)


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin):
    """Extra traffic or days sold for an existing account (from its page in the bot)."""

    list_display = ("name", "kind", "amount", "price_column", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description=_("price"), ordering="price")
    def price_column(self, addon):
        return toman(addon.price)


@admin.register(BankCard)
class BankCardAdmin(admin.ModelAdmin):
    list_display = (
        "bank_name",
        "card",
        "holder_name",
        "is_active",
        "sort_order",
        "updated_at",
    )
    list_display_links = ("bank_name", "card")
    list_editable = ("is_active", "sort_order")
    list_filter = ("is_active", "bank_name")
    search_fields = ("card_number", "holder_name", "bank_name")
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description=_("card number"), ordering="card_number")
    def card(self, card):
        return format_html('<span dir="ltr">{}</span>', card.formatted_number)


# --- the wallet ledger -------------------------------------------------------------------


@admin.register(WalletTransaction)
class WalletTransactionAdmin(ReadOnlyAdmin):
    """Append-only: nobody adds, changes or deletes a row here, superusers included."""

    list_display = (
        "id",
        "created_at",
        "user",
        "kind",
        "amount_column",
        "balance_column",
        "order_link",
        "receipt_link",
        "note",
        "created_by",
    )
    list_filter = ("kind", "created_at", ("created_by", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "order", "receipt", "created_by")
    search_fields = (
        "user__username",
        "user__telegram_username",
        "user__telegram_id__exact",
        "note",
        "idempotency_key",
    )
    fields = (
        "user",
        "kind",
        "amount_column",
        "balance_column",
        "order_link",
        "receipt_link",
        "note",
        "created_by",
        "created_at",
        "idempotency_key",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, row):
        return format_html(
            '<span dir="ltr" style="color: {}">{}</span>',
            "#2e7d32" if row.amount > 0 else "#c62828",
            toman(row.amount, signed=True),
        )

    @admin.display(description=_("balance after"), ordering="balance_after")
    def balance_column(self, row):
        return toman(row.balance_after)

    @admin.display(description=_("order"), ordering="order")
    def order_link(self, row):
        return _change_link(row.order, f"#{row.order_id}") if row.order_id else "—"

    @admin.display(description=_("receipt"), ordering="receipt")
    def receipt_link(self, row):
        return _change_link(row.receipt, f"#{row.receipt_id}") if row.receipt_id else "—"
