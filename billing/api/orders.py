"""Staff REST API for orders: read them; refund, retry or move one (billing.services)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.models import (
    IllegalTransition,
    Order,
)
from billing.services import (
    BillingError,
    order_move,
    order_retry_problem,
)
from botapp.notify import provision_and_notify
from moonvpn.api import (
    Conflict,
    StaffModelSerializer,
    StaffReadOnlyViewSet,
    StrictCharField,
    StrictIntegerField,
    idempotent,
    no_input,
)
from panels.provisioning import Outcome, order_give_up


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
