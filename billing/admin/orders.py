"""Orders in the console: shown read-only, changed by actions that call services."""

import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.admin import toman
from billing.admin.common import _change_link
from billing.models import (
    IllegalTransition,
    Order,
)
from billing.selectors import order_search, sellable_inbounds
from billing.services import (
    BillingError,
    order_move,
)
from botapp.notify import provision_and_notify
from moonvpn.admin import ObjectActionsMixin, ReadOnlyAdmin
from panels.provisioning import Outcome, order_give_up

log = logging.getLogger(__name__)

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
class OrderAdmin(ObjectActionsMixin, ReadOnlyAdmin):
    """Orders move only through billing.services; the page shows them, actions act."""

    list_display = (
        "id",
        "user",
        "kind",
        "status",
        "amount_column",
        "plan",
        "panel",
        "created_at",
        "paid_at",
    )
    show_full_result_count = False
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
    search_help_text = _(
        "An order number or Telegram id; or the start of a username, @username, first "
        "name or client email."
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
    object_actions = ("retry_provisioning", "refund_to_wallet", "move_to_another_inbound")

    def get_search_results(self, request, queryset, search_term):
        return order_search(queryset, search_term), False

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
            "from_object": bool(request.POST.get("_from_object")),
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
