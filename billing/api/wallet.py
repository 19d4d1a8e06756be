"""Staff REST API for the bank cards customers pay to and the wallet ledger."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from billing.models import (
    CARD_NUMBER_PATTERN,
    BankCard,
    WalletTransaction,
    validate_card_number,
)
from moonvpn.api import (
    StaffModelSerializer,
    StaffModelViewSet,
    StaffReadOnlyViewSet,
)


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
