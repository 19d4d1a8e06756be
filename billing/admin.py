"""The operator console for money: plans, orders, receipts, bank cards, the wallet ledger.

Orders, receipts and the ledger are history: shown read-only, changed only by the
actions here, which call billing.services (the one place that changes money).
"""

import logging
import mimetypes

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.admin import ledger_url, toman
from billing.models import (
    AddOn,
    BankCard,
    IllegalTransition,
    Order,
    Plan,
    Receipt,
    WalletTransaction,
)
from billing.selectors import sellable_inbounds
from billing.services import (
    BillingError,
    ReceiptAlreadyReviewed,
    order_move,
    receipt_approve,
    receipt_reject,
)
from botapp.notify import provision_and_notify
from botapp.notify import receipt_follow_up as follow_up
from moonvpn.admin import ReadOnlyAdmin
from panels.provisioning import Outcome, ProvisionResult, order_give_up

log = logging.getLogger(__name__)

STATUS_COLORS = {
    Receipt.Status.PENDING: "#ef6c00",
    Receipt.Status.APPROVED: "#2e7d32",
    Receipt.Status.REJECTED: "#c62828",
}


def _change_link(obj, text=None):
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


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
        return f"{plan.traffic_gb} GB" if plan.traffic_gb else "∞"

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


# --- orders ------------------------------------------------------------------------------


class OrderMoveForm(forms.Form):
    inbound = forms.ModelChoiceField(
        label=_("New inbound"),
        queryset=sellable_inbounds().filter(panel__is_active=True).select_related("panel"),
        help_text=_(
            "A sellable inbound on a working panel. The order keeps its payment; the next "
            "retry creates the client there."
        ),
    )


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders move only through billing.services; the page shows them, actions act."""

    list_display = (
        "id",
        "user",
        "kind",
        "status",
        "amount_column",
        "payment_method",
        "plan",
        "panel",
        "created_at",
        "paid_at",
        "fulfilled_at",
    )
    list_filter = (
        "status",
        "kind",
        "payment_method",
        "panel",
        "plan",
        "created_at",
        "paid_at",
    )
    list_select_related = ("user", "plan", "panel")
    search_fields = (
        "id__exact",
        "user__username",
        "user__telegram_username",
        "user__telegram_id__exact",
        "client_email",
    )
    fieldsets = (
        (None, {"fields": ("user", "kind", "status", "amount_column", "payment_method")}),
        (
            _("What was bought"),
            {"fields": ("plan", "addon", "panel", "inbound", "renews", "account")},
        ),
        (
            _("Provisioning"),
            {
                "fields": (
                    "client_uuid",
                    "client_email",
                    "client_sub_id",
                    "attempts",
                    "last_error",
                    "panel_cleanup",
                )
            },
        ),
        (_("Money"), {"fields": ("receipts", "ledger_rows")}),
        (None, {"fields": ("created_at", "updated_at", "paid_at", "fulfilled_at")}),
    )
    readonly_fields = (
        "user",
        "kind",
        "status",
        "amount_column",
        "payment_method",
        "plan",
        "addon",
        "panel",
        "inbound",
        "renews",
        "account",
        "client_uuid",
        "client_email",
        "client_sub_id",
        "attempts",
        "last_error",
        "panel_cleanup",
        "receipts",
        "ledger_rows",
        "created_at",
        "updated_at",
        "paid_at",
        "fulfilled_at",
    )
    actions = ["refund_to_wallet", "retry_provisioning", "move_to_another_inbound"]

    def has_refund_permission(self, request):
        return request.user.has_perm("billing.refund_order")

    def has_retry_permission(self, request):
        return request.user.has_perm("billing.retry_order")

    def has_move_permission(self, request):
        return request.user.has_perm("billing.move_order")

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, order):
        return toman(order.amount)

    @admin.display(description=_("account"))
    def account(self, order):
        account = getattr(order, "created_account", None)
        return _change_link(account) if account else "—"

    @admin.display(description=_("receipts"))
    def receipts(self, order):
        rows = order.receipts.order_by("created_at")
        if not rows:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">#{}</a> {} {}',
            (
                (
                    reverse("admin:billing_receipt_change", args=[r.pk]),
                    r.pk,
                    r.get_status_display(),
                    toman(r.amount),
                )
                for r in rows
            ),
        )

    @admin.display(description=_("wallet ledger"))
    def ledger_rows(self, order):
        rows = order.wallet_transactions.order_by("created_at", "id")
        if not rows:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">#{}</a> {} <span dir="ltr">{}</span>',
            (
                (
                    reverse("admin:billing_wallettransaction_change", args=[row.pk]),
                    row.pk,
                    row.get_kind_display(),
                    toman(row.amount, signed=True),
                )
                for row in rows
            ),
        )

    @admin.action(description=_("Refund to wallet"), permissions=["refund"])
    def refund_to_wallet(self, request, queryset):
        for order in queryset.order_by("pk"):
            try:
                order = order_give_up(
                    order_id=order.pk,
                    note=f"refunded in the admin by {request.user}",
                    created_by=request.user,
                )
            except IllegalTransition:
                order.refresh_from_db(fields=["status"])
                self.message_user(
                    request,
                    _("Order #%(id)s is %(status)s: only paid or failed orders can be refunded.")
                    % {"id": order.pk, "status": order.get_status_display()},
                    messages.WARNING,
                )
            except BillingError as exc:
                self.message_user(
                    request,
                    _("Order #%(id)s was not refunded: %(reason)s")
                    % {"id": order.pk, "reason": exc},
                    messages.ERROR,
                )
            else:
                order.user.refresh_from_db(fields=["balance"])
                self.message_user(
                    request,
                    _(
                        "Order #%(id)s refunded: %(amount)s back to %(user)s's wallet "
                        "(balance %(balance)s)."
                    )
                    % {
                        "id": order.pk,
                        "amount": toman(order.amount),
                        "user": order.user,
                        "balance": toman(order.user.balance),
                    },
                    messages.SUCCESS,
                )

    @admin.action(description=_("Move to another panel…"), permissions=["move"])
    def move_to_another_inbound(self, request, queryset):
        # First POST (from the changelist) shows the choice of inbound; its POST moves.
        form = OrderMoveForm(request.POST if "move_order_form" in request.POST else None)
        if form.is_valid():
            inbound = form.cleaned_data["inbound"]
            for order_id in queryset.order_by("pk").values_list("pk", flat=True):
                try:
                    order_move(order_id=order_id, inbound_id=inbound.pk)
                except BillingError as exc:
                    self.message_user(
                        request,
                        _("Order #%(id)s was not moved: %(reason)s")
                        % {"id": order_id, "reason": exc},
                        messages.ERROR,
                    )
                    continue
                self.message_user(
                    request,
                    _("Order #%(id)s now goes to %(inbound)s; retry it to deliver it there.")
                    % {"id": order_id, "inbound": inbound},
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Move orders to another panel"),
            "opts": self.opts,
            "form": form,
            "orders": queryset.select_related("user", "panel", "inbound"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/billing/order/move.html", context)

    @admin.action(description=_("Retry provisioning now"), permissions=["retry"])
    def retry_provisioning(self, request, queryset):
        # What retry_provisioning does from cron, for the orders an operator picked:
        # the lease in order_provision keeps it from racing the cron job.
        for order in queryset.order_by("pk"):
            if order.status != Order.Status.PAID or order.kind == Order.Kind.TOPUP:
                self.message_user(
                    request,
                    _(
                        "Order #%(id)s is %(status)s: only paid orders not yet delivered "
                        "are retried."
                    )
                    % {"id": order.pk, "status": order.get_status_display()},
                    messages.WARNING,
                )
                continue
            try:
                result = provision_and_notify(order.pk)
            except Exception:
                log.exception("retrying order %s from the admin failed", order.pk)
                self.message_user(
                    request,
                    _("Order #%(id)s: the retry failed (see the log).") % {"id": order.pk},
                    messages.ERROR,
                )
                continue
            level, text = {
                Outcome.DELIVERED: (messages.SUCCESS, _("Order #%(id)s delivered.")),
                Outcome.PENDING: (
                    messages.WARNING,
                    _("Order #%(id)s: the panel failed again (%(error)s); it stays paid."),
                ),
                Outcome.REFUNDED: (
                    messages.WARNING,
                    _("Order #%(id)s could not be delivered and was refunded to the wallet."),
                ),
                Outcome.BUSY: (
                    messages.INFO,
                    _("Order #%(id)s is being provisioned right now by another process."),
                ),
                Outcome.NOT_PAID: (messages.INFO, _("Order #%(id)s needs nothing.")),
            }[result.outcome]
            self.message_user(request, text % {"id": order.pk, "error": result.error}, level)


# --- receipts ----------------------------------------------------------------------------


class ReceiptRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("The customer reads this."),
    )


class DuplicateImageFilter(admin.SimpleListFilter):
    title = _("image")
    parameter_name = "duplicate"

    def lookups(self, request, model_admin):
        return (("yes", _("same image as an earlier receipt")), ("no", _("new image")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(duplicate_of__isnull=False)
        if self.value() == "no":
            return queryset.filter(duplicate_of__isnull=True)
        return queryset


def approval_outcome(receipt: Receipt, result: ProvisionResult | None = None) -> str:
    """What approving this receipt did, in words for the operator."""
    order = Order.objects.select_related("user").get(pk=receipt.order_id)
    credit = receipt.wallet_transactions.order_by("id").first()
    values = {
        "id": receipt.pk,
        "order": order.pk,
        "status": order.get_status_display(),
        "user": order.user,
        "amount": toman(credit.amount if credit else order.amount),
        "balance": toman(credit.balance_after if credit else order.user.balance),
    }
    if credit is None:
        outcome = result.outcome if result is not None else None
        if outcome == Outcome.DELIVERED and result.account is not None:
            return _(
                "Receipt #%(id)s approved: order #%(order)s delivered as %(email)s on %(panel)s."
            ) % {**values, "email": result.account.email, "panel": result.account.panel.name}
        if outcome == Outcome.PENDING:
            return _(
                "Receipt #%(id)s approved: order #%(order)s is paid, but its panel failed "
                "(%(error)s); delivery will be retried."
            ) % {**values, "error": result.error}
        if outcome == Outcome.REFUNDED:
            return (
                _(
                    "Receipt #%(id)s approved, but order #%(order)s could not be delivered: "
                    "%(amount)s went back to %(user)s's wallet (balance %(balance)s)."
                )
                % values
            )
        return _("Receipt #%(id)s approved: order #%(order)s is now %(status)s.") % values
    if order.kind == Order.Kind.TOPUP:
        return (
            _(
                "Receipt #%(id)s approved: %(amount)s credited to %(user)s's wallet; "
                "the balance is now %(balance)s."
            )
            % values
        )
    return (
        _(
            "Receipt #%(id)s approved, but order #%(order)s is %(status)s, so %(amount)s "
            "went to %(user)s's wallet instead (balance %(balance)s)."
        )
        % values
    )


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    """Receipts are reviewed here: approve or reject, never edited."""

    list_display = (
        "id",
        "thumbnail",
        "status_badge",
        "duplicate_flag",
        "user",
        "order_link",
        "amount_column",
        "created_at",
        "reviewed_by",
        "reviewed_at",
    )
    list_display_links = ("id", "thumbnail")
    list_filter = (
        "status",
        DuplicateImageFilter,
        "order__kind",
        "created_at",
        ("reviewed_by", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("user", "order", "reviewed_by")
    search_fields = (
        "id__exact",
        "order__id__exact",
        "user__username",
        "user__telegram_username",
        "user__telegram_id__exact",
        "sha256",
    )
    fieldsets = (
        (None, {"fields": ("duplicate_flag", "image_full")}),
        (
            None,
            {"fields": ("status", "amount_column", "order_link", "user_link", "user_balance")},
        ),
        (_("Review"), {"fields": ("reviewed_by", "reviewed_at", "reject_reason")}),
        (
            _("Image"),
            {"fields": ("sha256", "telegram_file_unique_id", "duplicate_of", "created_at")},
        ),
    )
    readonly_fields = (
        "duplicate_flag",
        "image_full",
        "status",
        "amount_column",
        "order_link",
        "user_link",
        "user_balance",
        "reviewed_by",
        "reviewed_at",
        "reject_reason",
        "sha256",
        "telegram_file_unique_id",
        "duplicate_of",
        "created_at",
    )
    actions = ["approve_receipts", "reject_receipts"]

    def has_review_permission(self, request):
        return request.user.has_perm("billing.review_receipt")

    def get_ordering(self, request):
        # Pending receipts first: they are the operator's work queue.
        pending_first = Case(
            When(status=Receipt.Status.PENDING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return [pending_first.asc(), "-created_at"]

    # --- columns ---------------------------------------------------------------------

    def _image_url(self, receipt):
        return reverse("admin:billing_receipt_image", args=[receipt.pk])

    @admin.display(description=_("image"))
    def thumbnail(self, receipt):
        if not receipt.image:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" style="max-height: 64px; max-width: 96px">',
            self._image_url(receipt),
            _("receipt #%(id)s") % {"id": receipt.pk},
        )

    @admin.display(description=_("image"))
    def image_full(self, receipt):
        if not receipt.image:
            return "—"
        return format_html(
            '<a href="{0}" target="_blank"><img src="{0}" alt="{1}" '
            'style="max-width: 100%; max-height: 80vh"></a>',
            self._image_url(receipt),
            _("receipt #%(id)s") % {"id": receipt.pk},
        )

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, receipt):
        return format_html(
            '<strong style="color: {}">{}</strong>',
            STATUS_COLORS.get(receipt.status, "inherit"),
            receipt.get_status_display(),
        )

    @admin.display(description=_("same image as"))
    def duplicate_flag(self, receipt):
        if not receipt.duplicate_of_id:
            return "—"
        return format_html(
            '<a href="{}" class="receipt-duplicate" style="color: #c62828; font-weight: bold">'
            "⚠ {}</a>",
            reverse("admin:billing_receipt_change", args=[receipt.duplicate_of_id]),
            _("same image as receipt #%(id)s") % {"id": receipt.duplicate_of_id},
        )

    @admin.display(description=_("order"), ordering="order")
    def order_link(self, receipt):
        order = receipt.order
        return _change_link(order, f"#{order.pk} {order.get_kind_display()}")

    @admin.display(description=_("user"))
    def user_link(self, receipt):
        return _change_link(receipt.user)

    @admin.display(description=_("wallet balance"))
    def user_balance(self, receipt):
        return format_html(
            '{} &nbsp; <a href="{}">{}</a>',
            toman(receipt.user.balance),
            ledger_url(receipt.user_id),
            _("Ledger rows"),
        )

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, receipt):
        return toman(receipt.amount)

    # --- reviewing -------------------------------------------------------------------

    def _approve(self, request, receipt_id) -> None:
        try:
            receipt = receipt_approve(receipt_id=receipt_id, reviewer=request.user)
        except ReceiptAlreadyReviewed:
            current = Receipt.objects.get(pk=receipt_id)
            self.message_user(
                request,
                _("Receipt #%(id)s was already reviewed (%(status)s); nothing changed.")
                % {"id": receipt_id, "status": current.get_status_display()},
                messages.WARNING,
            )
        except (BillingError, IllegalTransition) as exc:
            self.message_user(
                request,
                _("Receipt #%(id)s was not approved: %(reason)s")
                % {"id": receipt_id, "reason": exc},
                messages.ERROR,
            )
        else:
            self.log_change(request, receipt, "Approved the receipt.")
            result, failed = follow_up(receipt)
            self._report_follow_up_failure(request, receipt, failed)
            self.message_user(request, approval_outcome(receipt, result), messages.SUCCESS)

    def _report_follow_up_failure(self, request, receipt, failed: bool) -> None:
        if failed:
            self.message_user(
                request,
                _(
                    "Receipt #%(id)s: telling the customer or delivering the order failed "
                    "(see the log); the decision stands."
                )
                % {"id": receipt.pk},
                messages.WARNING,
            )

    def _reject(self, request, receipt_id, reason: str) -> None:
        try:
            receipt = receipt_reject(receipt_id=receipt_id, reviewer=request.user, reason=reason)
        except ReceiptAlreadyReviewed:
            current = Receipt.objects.get(pk=receipt_id)
            self.message_user(
                request,
                _("Receipt #%(id)s was already reviewed (%(status)s); nothing changed.")
                % {"id": receipt_id, "status": current.get_status_display()},
                messages.WARNING,
            )
        except BillingError as exc:
            self.message_user(
                request,
                _("Receipt #%(id)s was not rejected: %(reason)s")
                % {"id": receipt_id, "reason": exc},
                messages.ERROR,
            )
        else:
            self.log_change(request, receipt, f"Rejected the receipt: {receipt.reject_reason}")
            _result, failed = follow_up(receipt)
            self._report_follow_up_failure(request, receipt, failed)
            self.message_user(
                request,
                _("Receipt #%(id)s rejected; the customer will read: %(reason)s")
                % {"id": receipt_id, "reason": receipt.reject_reason},
                messages.SUCCESS,
            )

    @admin.action(description=_("Approve selected receipts"), permissions=["review"])
    def approve_receipts(self, request, queryset):
        for receipt_id in queryset.order_by("created_at", "pk").values_list("pk", flat=True):
            self._approve(request, receipt_id)

    @admin.action(description=_("Reject selected receipts…"), permissions=["review"])
    def reject_receipts(self, request, queryset):
        # First POST (from the changelist) shows the reason form; its POST rejects.
        form = ReceiptRejectForm(request.POST if "reject_reason_form" in request.POST else None)
        if form.is_valid():
            for receipt_id in queryset.order_by("created_at", "pk").values_list("pk", flat=True):
                self._reject(request, receipt_id, form.cleaned_data["reason"])
            return None
        return self._reject_page(request, queryset, form, action_mode=True)

    def _reject_page(self, request, queryset, form, *, action_mode, original=None):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject receipts"),
            "opts": self.opts,
            "form": form,
            "receipts": [
                (receipt, self._image_url(receipt), toman(receipt.amount))
                for receipt in queryset.select_related("user", "order")
            ],
            "action_mode": action_mode,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "original": original,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/billing/receipt/reject.html", context)

    # --- the change page's buttons and the image -------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path(
                "<path:object_id>/approve/",
                view(require_POST(self.approve_view)),
                name="billing_receipt_approve",
            ),
            path(
                "<path:object_id>/reject/",
                view(self.reject_view),
                name="billing_receipt_reject",
            ),
            path(
                "<path:object_id>/image/",
                view(self.image_view),
                name="billing_receipt_image",
            ),
        ]
        return custom + super().get_urls()

    def _get_receipt(self, request, object_id):
        receipt = self.get_object(request, unquote(object_id))
        if receipt is None:
            raise Http404(_("No receipt with id %(id)s.") % {"id": object_id})
        return receipt

    def _change_url(self, receipt):
        return reverse("admin:billing_receipt_change", args=[receipt.pk])

    def approve_view(self, request, object_id):
        if not self.has_review_permission(request):
            raise PermissionDenied
        receipt = self._get_receipt(request, object_id)
        self._approve(request, receipt.pk)
        return HttpResponseRedirect(self._change_url(receipt))

    def reject_view(self, request, object_id):
        if not self.has_review_permission(request):
            raise PermissionDenied
        receipt = self._get_receipt(request, object_id)
        if receipt.status != Receipt.Status.PENDING:
            self.message_user(
                request,
                _("Receipt #%(id)s was already reviewed (%(status)s); nothing changed.")
                % {"id": receipt.pk, "status": receipt.get_status_display()},
                messages.WARNING,
            )
            return HttpResponseRedirect(self._change_url(receipt))
        form = ReceiptRejectForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            self._reject(request, receipt.pk, form.cleaned_data["reason"])
            return HttpResponseRedirect(self._change_url(receipt))
        queryset = Receipt.objects.filter(pk=receipt.pk)
        return self._reject_page(request, queryset, form, action_mode=False, original=receipt)

    def image_view(self, request, object_id):
        # Receipts show bank details: served only to who may view the receipt, never
        # from /media/.
        if not self.has_view_permission(request):
            raise PermissionDenied
        receipt = self._get_receipt(request, object_id)
        if not receipt.image:
            raise Http404
        try:
            handle = receipt.image.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise Http404(_("The receipt image file is missing.")) from exc
        content_type = mimetypes.guess_type(receipt.image.name)[0] or "application/octet-stream"
        return FileResponse(handle, content_type=content_type)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        receipt = self.get_object(request, unquote(object_id))
        extra_context = {**(extra_context or {})}
        if receipt is not None:
            extra_context.update(
                {
                    "can_review": self.has_review_permission(request)
                    and receipt.status == Receipt.Status.PENDING,
                    "approve_url": reverse("admin:billing_receipt_approve", args=[receipt.pk]),
                    "reject_url": reverse("admin:billing_receipt_reject", args=[receipt.pk]),
                    "duplicate_of_id": receipt.duplicate_of_id,
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)
