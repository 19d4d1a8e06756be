"""Reviewing receipts: the reject form, the duplicate filter, what a decision did."""

import logging

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.admin import toman
from billing.models import (
    Order,
    Receipt,
)
from billing.selectors import customer_history, next_waiting_and_count
from botapp.notify import receipt_follow_up as follow_up
from botapp.texts import REJECT_REASONS
from panels.provisioning import Outcome, ProvisionResult

__all__ = [
    "DuplicateImageFilter",
    "ReceiptRejectForm",
    "approval_outcome",
    "follow_up",
    "review_context",
]

log = logging.getLogger(__name__)

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


def review_context(receipt: Receipt) -> dict:
    """What the review page shows beside the image: amounts, history, next receipt."""
    order = receipt.order
    previous_receipts, orders = customer_history(receipt)
    # The preset reasons in the customer's language: the customer reads them.
    with translation.override(getattr(receipt.user, "language", None) or "fa"):
        reasons = [(code, str(text)) for code, text in REJECT_REASONS.items()]
    upcoming, waiting = next_waiting_and_count(receipt)
    return {
        "review_receipt": receipt,
        "review_order": order,
        "review_amount": toman(receipt.amount),
        "review_order_amount": toman(order.amount),
        "review_amount_mismatch": receipt.amount != order.amount,
        "review_previous_receipts": previous_receipts,
        "review_orders": orders,
        "review_reasons": reasons,
        "review_image_url": reverse("admin:billing_receipt_image", args=[receipt.pk]),
        "review_next": upcoming,
        "review_waiting": waiting,
    }
