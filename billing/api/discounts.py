"""Staff REST API for discount codes (what the console's Discount codes page does).

The rule "a percent off or an amount off, not both" is the model's own
(``DiscountCode.clean``, which the console's form runs too); the serializer calls it.
In the schema it is said with ``anyOf`` on the request bodies, so a client (and the
fuzzer) can tell a valid body from the schema alone. A create or a PUT sends both
``percent_off`` and ``amount_off``, one of them null; in a PATCH, giving one of the
two clears the other: ``{"amount_off": 5000}`` turns a percent code into an amount code.
"""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers

from billing.models import DiscountCode
from moonvpn.api import (
    EXTRA_COMPONENT_SCHEMA,
    QueryParamFilter,
    StaffModelSerializer,
    StaffModelViewSet,
    StaffSearchFilter,
    StrictCharField,
)

KINDS = ("percent_off", "amount_off")


class DiscountCodeField(StrictCharField):
    """Codes are stored upper-case (the bot upper-cases what the customer types)."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


class DiscountCodeSerializer(StaffModelSerializer):
    """A discount code. It gives ``percent_off`` (1 to 100) or ``amount_off`` (Toman):
    the other one is null. Creating or replacing one sends both (one null); in a PATCH,
    giving one clears the other.
    """

    code = DiscountCodeField(
        max_length=32, help_text=_("What the customer types; case does not matter.")
    )

    class Meta:
        model = DiscountCode
        fields = [
            "id",
            "code",
            "percent_off",
            "amount_off",
            "max_uses",
            "max_uses_per_user",
            "uses",
            "valid_from",
            "valid_until",
            "plans",
            "for_new",
            "for_renewal",
            "for_addon",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["uses", "created_at"]
        extra_kwargs = {
            "percent_off": {
                "required": True,
                "min_value": 1,
                "max_value": 100,
                "help_text": _("1 to 100; null when the code gives an amount off."),
            },
            "amount_off": {
                "required": True,
                "min_value": 1,
                "help_text": _("Whole Toman; null when the code gives a percent off."),
            },
            "max_uses": {"min_value": 1},
            "valid_from": {"help_text": _("Null: from now. A date-time from 2000 to 9000.")},
            "valid_until": {"help_text": _("Null: never ends. A date-time from 2000 to 9000.")},
        }

    def validate_code(self, value):
        # The unique check compares the stored (upper-case) codes.
        taken = DiscountCode.objects.filter(code=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("A discount code with this code already exists."))
        return value

    def validate(self, attrs):
        # Giving one kind of discount replaces the other (PUT and PATCH alike).
        for kind, other in (KINDS, KINDS[::-1]):
            if attrs.get(kind) is not None and attrs.get(other) is None:
                attrs[other] = None
        code = copy.copy(self.instance) if self.instance is not None else DiscountCode()
        for name, value in attrs.items():
            if name != "plans":
                setattr(code, name, value)
        try:
            code.clean()  # the console's rule (DiscountCode.clean), not a copy of it
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"non_field_errors": exc.messages}) from exc
        return attrs


def _one_kind(kind: str, other: str) -> dict:
    return {"properties": {kind: {"type": "integer"}, other: {"type": "null"}}}


_EITHER = [_one_kind(*KINDS), _one_kind(*KINDS[::-1])]
# Create and replace: both are sent (required), exactly one of them a number.
EXTRA_COMPONENT_SCHEMA["DiscountCodeRequest"] = {"anyOf": _EITHER}
# Patch: the same over the keys sent (both sent: one is a number). A lone null that
# would leave the code with neither is refused (400) by the model's rule.
EXTRA_COMPONENT_SCHEMA["PatchedDiscountCodeRequest"] = {"anyOf": _EITHER}


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "10% off the first purchase",
                value={
                    "code": "WELCOME10",
                    "percent_off": 10,
                    "amount_off": None,
                    "for_renewal": False,
                },
                request_only=True,
            ),
            OpenApiExample(
                "50,000 Toman off, 100 uses",
                value={
                    "code": "NOWRUZ",
                    "percent_off": None,
                    "amount_off": 50000,
                    "max_uses": 100,
                },
                request_only=True,
            ),
        ]
    )
)
class DiscountCodeViewSet(StaffModelViewSet):
    """Discount codes customers type on the order summary (Finance manages them).

    A code that was used cannot be deleted (409): deactivate it (is_active=false).
    """

    queryset = DiscountCode.objects.prefetch_related("plans").order_by("-created_at", "-pk")
    serializer_class = DiscountCodeSerializer
    filter_backends = [QueryParamFilter, StaffSearchFilter]
    filter_params = {
        "is_active": "is_active",
        "for_new": "for_new",
        "for_renewal": "for_renewal",
        "for_addon": "for_addon",
    }
    search_fields = ["code"]
