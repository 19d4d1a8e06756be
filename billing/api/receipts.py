"""Staff REST API for card-to-card receipts: read, view the photo, approve or reject."""

import mimetypes

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.models import (
    IllegalTransition,
    Receipt,
)
from billing.services import (
    BillingError,
    receipt_approve,
    receipt_reject,
)
from botapp.notify import receipt_follow_up as follow_up
from moonvpn.api import (
    Conflict,
    StaffModelSerializer,
    StaffReadOnlyViewSet,
    StrictCharField,
    idempotent,
    no_input,
)


class ReceiptSerializer(StaffModelSerializer):
    image_url = serializers.SerializerMethodField(
        help_text=_("The receipt photo; fetch it with the same token.")
    )
    order_kind = serializers.CharField(source="order.kind", read_only=True)
    order_status = serializers.CharField(source="order.status", read_only=True)
    user_balance = serializers.IntegerField(
        source="user.balance", read_only=True, help_text=_("The customer's wallet balance.")
    )

    class Meta:
        model = Receipt
        fields = [
            "id",
            "order",
            "order_kind",
            "order_status",
            "user",
            "user_balance",
            "amount",
            "status",
            "image_url",
            "sha256",
            "duplicate_of",
            "reviewed_by",
            "reviewed_at",
            "reject_reason",
            "created_at",
        ]
        read_only_fields = fields

    def get_image_url(self, receipt) -> str:
        url = reverse("receipt-image", args=[receipt.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ReceiptApproveSerializer(serializers.Serializer):
    """Approving needs no input: the reviewer is the user the token belongs to."""


class ReceiptRejectSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=1000, help_text=_("The customer reads this."))


class ReceiptViewSet(StaffReadOnlyViewSet):
    queryset = Receipt.objects.select_related("order", "user").order_by("-created_at", "-pk")
    serializer_class = ReceiptSerializer
    filter_params = {"status": "status", "user": "user", "order": "order"}

    def _answer(self, receipt_id):
        receipt = self.get_queryset().get(pk=receipt_id)
        return Response(ReceiptSerializer(receipt, context=self.get_serializer_context()).data)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=ReceiptApproveSerializer,
        response_serializer_class=ReceiptSerializer,
        required_perms=["billing.review_receipt"],
    )
    @idempotent
    def approve(self, request, pk=None):
        """Approve a pending receipt: a top-up credits the wallet, a purchase is paid and
        delivered (the customer is told in Telegram). The answer shows the order's status.

        A receipt already approved or rejected answers 409 and changes nothing.
        """
        no_input(request)
        receipt = self.get_object()
        try:
            receipt = receipt_approve(receipt_id=receipt.pk, reviewer=request.user)
        except (BillingError, IllegalTransition) as exc:
            raise Conflict(str(exc)) from exc
        follow_up(receipt)
        return self._answer(receipt.pk)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=ReceiptRejectSerializer,
        response_serializer_class=ReceiptSerializer,
        required_perms=["billing.review_receipt"],
    )
    @idempotent
    def reject(self, request, pk=None):
        """Reject a pending receipt with a reason; the order keeps awaiting a receipt."""
        receipt = self.get_object()
        data = ReceiptRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            receipt = receipt_reject(
                receipt_id=receipt.pk, reviewer=request.user, reason=data.validated_data["reason"]
            )
        except BillingError as exc:
            raise Conflict(str(exc)) from exc
        follow_up(receipt)
        return self._answer(receipt.pk)

    @action(
        detail=True,
        methods=["get"],
        binary_response="image/*",
        required_perms=["billing.view_receipt"],
    )
    def image(self, request, pk=None):
        """The receipt photo itself (receipts are private: never under a public URL)."""
        receipt = self.get_object()
        try:
            handle = receipt.image.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise exceptions.NotFound(_("The receipt image file is missing.")) from exc
        content_type = mimetypes.guess_type(receipt.image.name)[0] or "application/octet-stream"
        return FileResponse(handle, content_type=content_type)

    def perform_content_negotiation(self, request, force=False):
        # The image answers with the file whatever the client accepts (e.g. image/png);
        # errors still render as JSON.
        return super().perform_content_negotiation(request, force=force or self.action == "image")
