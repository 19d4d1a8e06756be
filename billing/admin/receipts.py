"""Receipts in the console: reviewed here (approve or reject), never edited."""

import mimetypes

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import ledger_url, toman
from billing.admin.common import STATUS_COLORS, _change_link
from billing.admin.review import (
    DuplicateImageFilter,
    ReceiptRejectForm,
    approval_outcome,
    follow_up,
    review_context,
)
from billing.admin.thumbnails import thumbnail_response
from billing.models import (
    IllegalTransition,
    Receipt,
)
from billing.selectors import next_waiting_receipt
from billing.services import (
    BillingError,
    ReceiptAlreadyReviewed,
    receipt_approve,
    receipt_reject,
)
from moonvpn.admin import ReadOnlyAdmin


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
    )
    show_full_result_count = False
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
        (None, {"fields": ("duplicate_flag",)}),
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

    def get_object(self, request, object_id, from_field=None):
        # The review page shows the customer, the order and who reviewed: one query.
        queryset = self.get_queryset(request).select_related(
            "user", "order", "reviewed_by", "duplicate_of"
        )
        try:
            return queryset.get(pk=object_id)
        except (Receipt.DoesNotExist, ValidationError, ValueError, TypeError):
            return None

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
        # A small cached file (billing/admin/thumbnails.py), loaded as it scrolls into view.
        if not receipt.image:
            return "—"
        return format_html(
            '<img class="receipt-thumb" src="{}?thumb=1" alt="{}" loading="lazy" '
            'width="64" height="48" style="object-fit: cover">',
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
        return format_html("<bdi>{}</bdi>", toman(receipt.amount))

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
                view(self.approve_view),
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

    def _after_review(self, request, receipt):
        """Where a decision leads: the next waiting receipt when reviewing the queue."""
        if request.POST.get("queue"):
            upcoming = next_waiting_receipt(after=receipt.pk)
            if upcoming is None:
                self.message_user(request, _("No more receipts are waiting."), messages.INFO)
                return HttpResponseRedirect(reverse("admin:index"))
            return HttpResponseRedirect(self._change_url(upcoming))
        return HttpResponseRedirect(self._change_url(receipt))

    def approve_view(self, request, object_id):
        if not self.has_review_permission(request):
            raise PermissionDenied
        receipt = self._get_receipt(request, object_id)
        if request.method != "POST":
            # A typed or bookmarked URL approves nothing: back to the receipt's page.
            self.message_user(request, _("Use the Approve button on this page."), messages.INFO)
            return HttpResponseRedirect(self._change_url(receipt))
        self._approve(request, receipt.pk)
        return self._after_review(request, receipt)

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
            return self._after_review(request, receipt)
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
        if request.GET.get("thumb"):
            return thumbnail_response(receipt)
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
                    **review_context(receipt),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)
