"""Staff REST API for customers' client accounts and what the console does to them.

The actions call the same services as the console (panels.lifecycle, botapp.notify).
"""

import mimetypes

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from botapp.notify import account_resend_config, send_new_link
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
)
from panels import lifecycle
from panels.models import ClientAccount


class ClientAccountSerializer(StaffModelSerializer):
    class Meta:
        model = ClientAccount
        fields = [
            "id",
            "user",
            "plan",
            "panel",
            "inbound",
            "order",
            "uuid",
            "email",
            "sub_id",
            "config_url",
            "subscription_url",
            "traffic_limit_bytes",
            "used_bytes",
            "expires_at",
            "status",
            "panel_enabled",
            "created_at",
            "updated_at",
            "last_synced_at",
        ]
        read_only_fields = fields


class AccountExtendSerializer(serializers.Serializer):
    days = StrictIntegerField(min_value=0, max_value=3650, default=0)
    traffic_gb = StrictIntegerField(min_value=0, max_value=100_000, default=0)
    note = StrictCharField(
        max_length=1000, help_text=_("Why: kept with the account's history for audit.")
    )

    def validate(self, attrs):
        if not attrs["days"] and not attrs["traffic_gb"]:
            raise serializers.ValidationError(_("Give a number of days or gigabytes to add."))
        return attrs


# At least one of days and traffic_gb is above zero (the schema says it too).
EXTRA_COMPONENT_SCHEMA["AccountExtendRequest"] = {
    "anyOf": [
        {"required": ["days"], "properties": {"days": {"minimum": 1}}},
        {"required": ["traffic_gb"], "properties": {"traffic_gb": {"minimum": 1}}},
    ]
}


class AccountNoteSerializer(serializers.Serializer):
    note = StrictCharField(
        max_length=1000, required=False, allow_blank=True, default="", help_text=_("Why.")
    )


class AccountDeleteResultSerializer(serializers.Serializer):
    account = ClientAccountSerializer()
    disabled_instead = serializers.BooleanField(
        help_text=_("The panel keeps an inbound's last client: it was disabled instead.")
    )
    was_missing = serializers.BooleanField(help_text=_("It was no longer on the panel."))


class AccountRegenerateResultSerializer(serializers.Serializer):
    account = ClientAccountSerializer()
    sent = serializers.BooleanField(help_text=_("The new link reached the customer on Telegram."))


class ClientAccountViewSet(StaffReadOnlyViewSet):
    queryset = ClientAccount.objects.select_related("user", "panel", "inbound", "plan").order_by(
        "-created_at", "-pk"
    )
    serializer_class = ClientAccountSerializer
    filter_backends = [QueryParamFilter, StaffSearchFilter]
    filter_params = {
        "user": "user",
        "panel": "panel",
        "inbound": "inbound",
        "plan": "plan",
        "order": "order",
        "status": "status",
    }
    search_fields = ["email", "uuid", "sub_id"]

    def _answer(self, account):
        return ClientAccountSerializer(account, context=self.get_serializer_context()).data

    def _act(self, work):
        try:
            return work()
        except lifecycle.LifecycleError as exc:
            raise Conflict(str(exc)) from exc

    @extend_schema(
        examples=[
            OpenApiExample(
                "A week and 10 GB",
                value={"days": 7, "traffic_gb": 10, "note": "outage on 3 May"},
                request_only=True,
            )
        ]
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=AccountExtendSerializer,
        response_serializer_class=ClientAccountSerializer,
        required_perms=["panels.view_clientaccount", "panels.extend_clientaccount"],
    )
    @idempotent
    def extend(self, request, pk=None):
        """Add days and/or gigabytes for free, on the panel and here (the note is kept)."""
        account = self.get_object()
        data = AccountExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        account = self._act(
            lambda: lifecycle.account_extend(account=account, actor=request.user, **fields)
        )
        return Response(self._answer(account))

    def _with_note(self, request, service):
        """This URL's account, and ``service(account, actor, note)`` run on it (409s)."""
        account = self.get_object()
        data = AccountNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = data.validated_data["note"]
        return account, self._act(lambda: service(account=account, actor=request.user, note=note))

    def _set_enable(self, request, enable: bool):
        service = lifecycle.account_enable if enable else lifecycle.account_disable
        _account, account = self._with_note(request, service)
        return Response(self._answer(account))

    @action(
        detail=True,
        methods=["post"],
        serializer_class=AccountNoteSerializer,
        response_serializer_class=ClientAccountSerializer,
        required_perms=["panels.view_clientaccount", "panels.disable_clientaccount"],
    )
    @idempotent
    def disable(self, request, pk=None):
        """Switch the client off on its panel (the config stops working)."""
        return self._set_enable(request, False)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=AccountNoteSerializer,
        response_serializer_class=ClientAccountSerializer,
        required_perms=["panels.view_clientaccount", "panels.disable_clientaccount"],
    )
    @idempotent
    def enable(self, request, pk=None):
        """Switch the client on again on its panel."""
        return self._set_enable(request, True)

    @action(
        detail=True,
        methods=["post"],
        url_path="delete-on-panel",
        serializer_class=AccountNoteSerializer,
        response_serializer_class=AccountDeleteResultSerializer,
        required_perms=["panels.view_clientaccount", "panels.remove_clientaccount"],
    )
    @idempotent
    def delete_on_panel(self, request, pk=None):
        """Delete the client from its panel; the account stays here, marked deleted."""
        _account, result = self._with_note(request, lifecycle.account_delete)
        return Response(
            {
                "account": self._answer(result.account),
                "disabled_instead": result.disabled_instead,
                "was_missing": result.was_missing,
            }
        )

    @action(
        detail=True,
        methods=["post"],
        url_path="regenerate-link",
        serializer_class=AccountNoteSerializer,
        response_serializer_class=AccountRegenerateResultSerializer,
        required_perms=["panels.view_clientaccount", "panels.regenerate_clientaccount"],
    )
    @idempotent
    def regenerate_link(self, request, pk=None):
        """Give the client a new key (the old link stops working) and send the new one."""
        _account, account = self._with_note(request, lifecycle.account_regenerate_link)
        return Response({"account": self._answer(account), "sent": send_new_link(account)})

    @action(
        detail=True,
        methods=["post"],
        url_path="resend-config",
        serializer_class=AccountNoteSerializer,
        response_serializer_class=ClientAccountSerializer,
        required_perms=["panels.view_clientaccount", "panels.resend_clientaccount"],
    )
    def resend_config(self, request, pk=None):
        """Send the customer their config and QR code again in Telegram.

        A customer who cannot be reached (no Telegram, or blocked the bot) answers 409.
        """
        account, sent = self._with_note(request, account_resend_config)
        if not sent:
            raise Conflict(_("The customer cannot be reached on Telegram."))
        return Response(self._answer(account))

    @action(
        detail=True,
        methods=["get"],
        binary_response="image/png",
        required_perms=["panels.view_clientaccount"],
    )
    def qr(self, request, pk=None):
        """The account's QR code (it holds the customer's config: never a public URL)."""
        account = self.get_object()
        if not account.qr_code_path:
            raise exceptions.NotFound(_("This account has no QR code."))
        try:
            handle = account.qr_code_path.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise exceptions.NotFound(_("The QR code file is missing.")) from exc
        content_type = mimetypes.guess_type(account.qr_code_path.name)[0] or "image/png"
        return FileResponse(handle, content_type=content_type)

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=force or self.action == "qr")
