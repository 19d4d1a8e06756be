"""Staff REST API for users (customers and staff) and their wallets."""

import hashlib

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.forms import MAX_ADJUSTMENT
from accounts.services import NotAllowed, user_set_blocked
from billing.api import WalletTransactionSerializer
from billing.services import BillingError, InsufficientFunds, wallet_adjust
from moonvpn.api import (
    EXTRA_COMPONENT_SCHEMA,
    Conflict,
    QueryParamFilter,
    StaffModelSerializer,
    StaffReadOnlyViewSet,
    StaffSearchFilter,
    StrictCharField,
    StrictIntegerField,
    idempotent,
    no_input,
)

User = get_user_model()


class UserSerializer(StaffModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "telegram_id",
            "telegram_username",
            "language",
            "balance",
            "is_blocked",
            "has_blocked_bot",
            "is_active",
            "is_staff",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields


class WalletAdjustSerializer(serializers.Serializer):
    amount = StrictIntegerField(
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text=_("Whole Toman: positive adds to the wallet, negative takes away."),
    )
    note = StrictCharField(max_length=1000, help_text=_("Why; kept on the ledger row."))

    def validate_amount(self, value):
        if value == 0:
            raise serializers.ValidationError(_("An adjustment cannot be zero."))
        return value


EXTRA_COMPONENT_SCHEMA["WalletAdjustRequest"] = {"properties": {"amount": {"not": {"const": 0}}}}


def _request_id(request) -> str:
    # Idempotency-Keys are per staff user; the ledger's key is per customer: mix both.
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return ""
    return "api-" + hashlib.sha256(f"{request.user.pk}:{key}".encode()).hexdigest()[:40]


class NoInputSerializer(serializers.Serializer):
    """The action needs no input."""


class UserViewSet(StaffReadOnlyViewSet):
    # AbstractUser has no default ordering; pagination needs a stable one.
    queryset = User.objects.order_by("id")
    serializer_class = UserSerializer
    filter_backends = [QueryParamFilter, StaffSearchFilter]
    filter_params = {
        "telegram_id": "telegram_id",
        "is_staff": "is_staff",
        "is_blocked": "is_blocked",
    }
    search_fields = ["username", "first_name", "last_name", "telegram_username"]

    @extend_schema(
        examples=[
            OpenApiExample(
                "Give back 50,000 Toman",
                value={"amount": 50000, "note": "double charge on order 812"},
                request_only=True,
            )
        ]
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="adjust-wallet",
        serializer_class=WalletAdjustSerializer,
        response_serializer_class=WalletTransactionSerializer,
        required_perms=["billing.adjust_wallet"],
    )
    @idempotent
    def adjust_wallet(self, request, pk=None):
        """Correct a wallet by hand; answers the new ledger row (balance_after).

        Taking more than the balance answers 409 and changes nothing.
        """
        user = self.get_object()
        data = WalletAdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = wallet_adjust(
                user_id=user.pk,
                amount=data.validated_data["amount"],
                note=data.validated_data["note"],
                created_by=request.user,
                request_id=_request_id(request),
            )
        except InsufficientFunds as exc:
            raise Conflict(str(exc)) from exc
        except BillingError as exc:
            raise serializers.ValidationError({"note": [str(exc)]}) from exc
        return Response(
            WalletTransactionSerializer(row, context=self.get_serializer_context()).data
        )

    def _set_blocked(self, request, blocked: bool):
        no_input(request)
        user = self.get_object()
        try:
            user_set_blocked(user=user, blocked=blocked, actor=request.user)
        except NotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(UserSerializer(user, context=self.get_serializer_context()).data)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=NoInputSerializer,
        response_serializer_class=UserSerializer,
        required_perms=["accounts.view_user", "accounts.change_user"],
    )
    def block(self, request, pk=None):
        """Block a customer: they can no longer buy or use the bot."""
        return self._set_blocked(request, True)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=NoInputSerializer,
        response_serializer_class=UserSerializer,
        required_perms=["accounts.view_user", "accounts.change_user"],
    )
    def unblock(self, request, pk=None):
        """Let a blocked customer buy and use the bot again."""
        return self._set_blocked(request, False)
