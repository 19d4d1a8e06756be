"""Staff REST API for users (customers and staff) and their wallets."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.response import Response

from accounts.forms import MAX_ADJUSTMENT
from billing.api import WalletTransactionSerializer
from billing.services import BillingError, InsufficientFunds, wallet_adjust
from moonvpn.api import Conflict, QueryParamFilter, StaffReadOnlyViewSet

User = get_user_model()


class UserSerializer(serializers.ModelSerializer):
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
    amount = serializers.IntegerField(
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text=_("Whole Toman: positive adds to the wallet, negative takes away."),
    )
    note = serializers.CharField(max_length=1000, help_text=_("Why; kept on the ledger row."))

    def validate_amount(self, value):
        if value == 0:
            raise serializers.ValidationError(_("An adjustment cannot be zero."))
        return value


class UserViewSet(StaffReadOnlyViewSet):
    # AbstractUser has no default ordering; pagination needs a stable one.
    queryset = User.objects.order_by("id")
    serializer_class = UserSerializer
    filter_backends = [QueryParamFilter, SearchFilter]
    filter_params = {
        "telegram_id": "telegram_id",
        "is_staff": "is_staff",
        "is_blocked": "is_blocked",
    }
    search_fields = ["username", "first_name", "last_name", "telegram_username"]

    @action(
        detail=True,
        methods=["post"],
        url_path="adjust-wallet",
        serializer_class=WalletAdjustSerializer,
        response_serializer_class=WalletTransactionSerializer,
        required_perms=["billing.adjust_wallet"],
    )
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
                request_id=request.headers.get("Idempotency-Key", ""),
            )
        except InsufficientFunds as exc:
            raise Conflict(str(exc)) from exc
        except BillingError as exc:
            raise serializers.ValidationError({"note": [str(exc)]}) from exc
        return Response(
            WalletTransactionSerializer(row, context=self.get_serializer_context()).data
        )
