"""Staff REST API for billing: plans, orders, receipts, bank cards and the wallet ledger.

Views translate HTTP to billing.services and back; every rule lives in the services.
"""

import mimetypes

from django.core.validators import RegexValidator
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.models import (
    CARD_NUMBER_PATTERN,
    AddOn,
    BankCard,
    IllegalTransition,
    Order,
    Plan,
    Receipt,
    WalletTransaction,
    validate_card_number,
)
from billing.services import (
    BillingError,
    order_move,
    order_retry_problem,
    receipt_approve,
    receipt_reject,
)
from botapp.notify import provision_and_notify
from botapp.notify import receipt_follow_up as follow_up
from moonvpn.api import (
    Conflict,
    StaffModelSerializer,
    StaffModelViewSet,
    StaffReadOnlyViewSet,
    StrictCharField,
    StrictIntegerField,
    idempotent,
    no_input,
)
from panels.provisioning import Outcome, order_give_up

# --- serializers ---------------------------------------------------------------


class PlanSerializer(StaffModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "duration_days",
            "traffic_gb",
            "price",
            "max_devices",
            "is_active",
            "sort_order",
            "panels",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class AddOnSerializer(StaffModelSerializer):
    class Meta:
        model = AddOn
        fields = [
            "id",
            "name",
            "kind",
            "amount",
            "price",
            "is_active",
            "sort_order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"amount": {"min_value": 1}}


class OrderSerializer(StaffModelSerializer):
    account = serializers.PrimaryKeyRelatedField(
        source="created_account",
        read_only=True,
        allow_null=True,
        help_text=_("The account this order created."),
    )
    panel_cleanup = serializers.ChoiceField(
        choices=Order.PanelCleanup.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("What was undone on the panel after a refund (empty: nothing yet)."),
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "user",
            "kind",
            "status",
            "amount",
            "payment_method",
            "plan",
            "panel",
            "inbound",
            "renews",
            "account",
            "client_email",
            "attempts",
            "last_error",
            "panel_cleanup",
            "created_at",
            "updated_at",
            "paid_at",
            "fulfilled_at",
        ]
        read_only_fields = fields


class OrderRefundSerializer(serializers.Serializer):
    note = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=1000,
        help_text=_("Kept on the ledger row for audit."),
    )


class OrderMoveSerializer(serializers.Serializer):
    inbound = StrictIntegerField(
        min_value=1,
        max_value=2**63 - 1,
        help_text=_(
            "A sellable inbound on a working panel. The order keeps its payment; the next "
            "retry creates the client there."
        ),
    )


class OrderRetrySerializer(serializers.Serializer):
    """Retrying needs no input."""


class OrderRetryResultSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[outcome.value for outcome in Outcome],
        help_text=_(
            "delivered; pending (the panel failed again, the order stays paid); refunded "
            "(could not be delivered, the amount went to the wallet); busy (another "
            "process is provisioning it now)."
        ),
    )
    error = serializers.CharField(allow_blank=True, help_text=_("The panel's reason, if any."))
    order = OrderSerializer()


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


class BankCardSerializer(StaffModelSerializer):
    class Meta:
        model = BankCard
        fields = [
            "id",
            "card_number",
            "formatted_number",
            "holder_name",
            "bank_name",
            "is_active",
            "sort_order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["formatted_number", "created_at", "updated_at"]
        extra_kwargs = {
            "card_number": {
                "validators": [
                    RegexValidator(
                        CARD_NUMBER_PATTERN,
                        _("A card number is made of digits, spaces and dashes."),
                    ),
                    validate_card_number,
                ]
            }
        }


class WalletTransactionSerializer(StaffModelSerializer):
    class Meta:
        model = WalletTransaction
        fields = [
            "id",
            "user",
            "amount",
            "balance_after",
            "kind",
            "order",
            "receipt",
            "note",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


# --- viewsets --------------------------------------------------------------------


class PlanViewSet(StaffModelViewSet):
    queryset = Plan.objects.prefetch_related("panels").order_by("sort_order", "price", "pk")
    serializer_class = PlanSerializer
    filter_params = {"is_active": "is_active"}


class AddOnViewSet(StaffModelViewSet):
    """Extra traffic or days that customers buy for an account they have."""

    queryset = AddOn.objects.order_by("sort_order", "price", "pk")
    serializer_class = AddOnSerializer
    filter_params = {"is_active": "is_active", "kind": "kind"}


class OrderViewSet(StaffReadOnlyViewSet):
    queryset = Order.objects.select_related("created_account").order_by("-created_at", "-pk")
    serializer_class = OrderSerializer
    filter_params = {
        "status": "status",
        "user": "user",
        "kind": "kind",
        "payment_method": "payment_method",
        "plan": "plan",
        "panel": "panel",
    }

    @action(
        detail=True,
        methods=["post"],
        serializer_class=OrderRefundSerializer,
        response_serializer_class=OrderSerializer,
        required_perms=["billing.refund_order"],
    )
    @idempotent
    def refund(self, request, pk=None):
        """Give a paid (or failed) order's amount back to the customer's wallet."""
        order = self.get_object()
        data = OrderRefundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = data.validated_data["note"].strip() or f"refunded through the API by {request.user}"
        try:
            order_give_up(order_id=order.pk, note=note, created_by=request.user)
        except IllegalTransition as exc:
            order.refresh_from_db(fields=["status"])
            raise Conflict(
                _("Order #%(id)s is %(status)s: only paid or failed orders can be refunded.")
                % {"id": order.pk, "status": order.get_status_display()}
            ) from exc
        except BillingError as exc:
            raise Conflict(str(exc)) from exc
        return self._answer(order.pk)

    def _answer(self, order_id):
        order = self.get_queryset().get(pk=order_id)
        return Response(OrderSerializer(order, context=self.get_serializer_context()).data)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=OrderRetrySerializer,
        response_serializer_class=OrderRetryResultSerializer,
        required_perms=["billing.retry_order"],
    )
    @idempotent
    def retry(self, request, pk=None):
        """Deliver a paid order now (what the retry job does), and tell the customer.

        An order that is not paid (or already delivered) answers 409.
        """
        no_input(request)
        order = self.get_object()
        problem = order_retry_problem(order)
        if problem is None:
            result = provision_and_notify(order.pk)
            if result.outcome == Outcome.NOT_PAID:  # it changed meanwhile
                order.refresh_from_db()
                problem = order_retry_problem(order)
        if problem is not None:
            raise Conflict(problem)
        order = self.get_queryset().get(pk=order.pk)
        data = {"outcome": result.outcome.value, "error": result.error or "", "order": order}
        return Response(
            OrderRetryResultSerializer(data, context=self.get_serializer_context()).data
        )

    @extend_schema(
        examples=[OpenApiExample("Move to inbound 7", value={"inbound": 7}, request_only=True)]
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=OrderMoveSerializer,
        response_serializer_class=OrderSerializer,
        required_perms=["billing.move_order"],
    )
    @idempotent
    def move(self, request, pk=None):
        """Point a paid, undelivered new-account order at another inbound (then retry it).

        An inbound that is not for sale, or an order that cannot move, answers 409.
        """
        order = self.get_object()
        data = OrderMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            order_move(order_id=order.pk, inbound_id=data.validated_data["inbound"])
        except BillingError as exc:
            raise Conflict(str(exc)) from exc
        return self._answer(order.pk)


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


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "A card",
                value={
                    "card_number": "6037-9912-3456-7893",
                    "holder_name": "MoonVPN",
                    "bank_name": "Melli",
                },
                request_only=True,
            )
        ]
    )
)
class BankCardViewSet(StaffModelViewSet):
    queryset = BankCard.objects.order_by("sort_order", "-updated_at", "pk")
    serializer_class = BankCardSerializer
    filter_params = {"is_active": "is_active"}


class WalletTransactionViewSet(StaffReadOnlyViewSet):
    queryset = WalletTransaction.objects.order_by("-created_at", "-pk")
    serializer_class = WalletTransactionSerializer
    filter_params = {"user": "user", "kind": "kind", "order": "order", "receipt": "receipt"}
