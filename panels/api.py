"""Staff REST API for panels, their inbounds and customers' client accounts.

The actions call the same services as the console (panels.services, panels.lifecycle):
a panel that cannot be reached answers the panel's reason and changes nothing here.
"""

import mimetypes

from django.db.models import (
    BooleanField,
    Case,
    Count,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from botapp.notify import account_resend_config, send_new_link
from moonvpn.api import (
    EXTRA_COMPONENT_SCHEMA,
    Conflict,
    QueryParamFilter,
    StaffModelSerializer,
    StaffModelViewSet,
    StaffReadOnlyViewSet,
    StaffSearchFilter,
    StaffViewSetMixin,
    StrictCharField,
    StrictIntegerField,
    idempotent,
    no_input,
)
from panels import lifecycle
from panels.models import ApiGeneration, ClientAccount, Inbound, Panel
from panels.services import inbound_live_clients, panel_sync, panel_test_connection
from panels.xui import PanelError, error_summary

SECRET_FIELDS = ("username", "password", "api_token")
SECRET_HELP = _(
    "Write-only: never returned. Omit it to keep the stored value; "
    "send an empty string to clear it."
)


def _secret_field():
    # Never trim: a panel password may begin or end with a space.
    return StrictCharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=SECRET_HELP,
    )


def active_accounts_subquery():
    """Active client accounts per panel, as a subquery (no GROUP BY over the panel row)."""
    counts = (
        ClientAccount.objects.filter(panel=OuterRef("pk"), status=ClientAccount.Status.ACTIVE)
        .order_by()
        .values("panel")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def _is_set(name):
    # Compared on the raw column: an empty secret is stored as "" (not encrypted), so
    # this tells whether a secret exists without decrypting it.
    return Case(
        When(**{name: ""}, then=Value(False)), default=Value(True), output_field=BooleanField()
    )


class PanelSerializer(StaffModelSerializer):
    username = _secret_field()
    password = _secret_field()
    api_token = _secret_field()
    has_username = serializers.BooleanField(read_only=True)
    has_password = serializers.BooleanField(read_only=True)
    has_api_token = serializers.BooleanField(read_only=True)
    active_accounts = serializers.IntegerField(
        read_only=True, help_text=_("Active client accounts; compare with capacity.")
    )
    api_generation = serializers.ChoiceField(
        choices=ApiGeneration.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("The 3x-ui API the panel speaks (empty: not detected yet)."),
    )

    class Meta:
        model = Panel
        fields = [
            "id",
            "name",
            "location_name",
            "location_flag",
            "base_url",
            "username",
            "password",
            "api_token",
            "has_username",
            "has_password",
            "has_api_token",
            "verify_tls",
            "public_host",
            "sub_base_url",
            "capacity",
            "active_accounts",
            "is_active",
            "sort_order",
            "health",
            "last_error",
            "last_checked_at",
            "last_synced_at",
            "api_generation",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "health",
            "last_error",
            "last_checked_at",
            "last_synced_at",
            "api_generation",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs):
        panel = self.instance
        new_url = attrs.get("base_url")
        if panel is not None and new_url is not None and new_url != panel.base_url:
            # Stored credentials are never sent to a URL they were not entered for:
            # Panel.save clears every secret not sent again with the new URL.
            if not any(name in attrs for name in ("password", "api_token")):
                raise serializers.ValidationError(
                    {
                        "password": [
                            _(
                                "The panel URL changed: send the password (or the API "
                                "token) again. Stored credentials are never sent to a new URL."
                            )
                        ]
                    }
                )
        return attrs

    def update(self, instance, validated_data):
        instance.secrets_entered = {name for name in SECRET_FIELDS if name in validated_data}
        return super().update(instance, validated_data)


class InboundSerializer(StaffModelSerializer):
    class Meta:
        model = Inbound
        # settings/stream_settings stay out: they hold every client's id and keys such
        # as a Reality private key.
        fields = [
            "id",
            "panel",
            "remote_id",
            "remark",
            "protocol",
            "port",
            "listen",
            "network",
            "security",
            "status",
            "is_sellable",
            "display_name",
            "link_problem",
            "client_count",
            "last_synced_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in ("is_sellable", "display_name")]

    def validate(self, attrs):
        inbound = self.instance
        if attrs.get("is_sellable") and inbound is not None and inbound.link_problem:
            raise serializers.ValidationError(
                {
                    "is_sellable": [
                        _("This inbound cannot be sold: %(problem)s")
                        % {"problem": inbound.link_problem}
                    ]
                }
            )
        return attrs


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


class PanelSyncResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text=_("False: the panel could not be read (see error)."))
    error = serializers.CharField(allow_blank=True)
    inbounds = serializers.IntegerField(help_text=_("Inbounds on the panel."))
    created = serializers.IntegerField(help_text=_("Inbounds new since the last sync."))
    gone = serializers.IntegerField(help_text=_("Inbounds no longer on the panel."))
    accounts_updated = serializers.IntegerField()
    accounts_missing = serializers.IntegerField(help_text=_("Accounts whose client is gone."))
    problems = serializers.ListField(
        child=serializers.CharField(), help_text=_("Inbounds that cannot be sold, and why.")
    )


class PanelTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text=_("True: logged in with the stored credentials."))
    error = serializers.CharField(allow_blank=True)
    api_generation = serializers.CharField(allow_blank=True)


class NoInputSerializer(serializers.Serializer):
    """The action needs no input."""


class PanelViewSet(StaffModelViewSet):
    # The secrets are deferred: listing panels never decrypts (or could leak) them.
    queryset = Panel.objects.defer(*SECRET_FIELDS).annotate(
        has_username=_is_set("username"),
        has_password=_is_set("password"),
        has_api_token=_is_set("api_token"),
        active_accounts=active_accounts_subquery(),
    )
    serializer_class = PanelSerializer
    filter_params = {"is_active": "is_active", "health": "health"}

    def _reload(self, serializer):
        # The answer needs the annotations (has_password, active_accounts).
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_create(self, serializer):
        serializer.save()
        self._reload(serializer)

    def perform_update(self, serializer):
        serializer.save()
        self._reload(serializer)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=NoInputSerializer,
        response_serializer_class=PanelSyncResultSerializer,
        required_perms=["panels.view_panel", "panels.sync_panel"],
    )
    @idempotent
    def sync(self, request, pk=None):
        """Read the panel's inbounds and clients now (what sync_panels does).

        A panel that cannot be read answers ok=false with its reason.
        """
        no_input(request)
        result = panel_sync(panel=self.get_object())
        data = {
            "ok": result.ok,
            "error": result.error,
            "inbounds": result.inbounds,
            "created": result.created,
            "gone": result.gone,
            "accounts_updated": result.accounts_updated,
            "accounts_missing": result.accounts_missing,
            "problems": [str(problem) for problem in result.problems],
        }
        return Response(PanelSyncResultSerializer(data).data)

    @action(
        detail=True,
        methods=["post"],
        url_path="test-connection",
        serializer_class=NoInputSerializer,
        response_serializer_class=PanelTestResultSerializer,
        required_perms=["panels.view_panel", "panels.test_panel"],
    )
    def test_connection(self, request, pk=None):
        """Log in to the panel with its stored credentials; records the panel's health."""
        no_input(request)
        panel = self.get_object()
        try:
            generation = panel_test_connection(panel=panel)
        except PanelError as exc:
            data = {"ok": False, "error": error_summary(exc), "api_generation": ""}
        else:
            data = {"ok": True, "error": "", "api_generation": str(generation)}
        return Response(PanelTestResultSerializer(data).data)


class LiveClientSerializer(serializers.Serializer):
    email = serializers.CharField()
    used_bytes = serializers.IntegerField()
    total_bytes = serializers.IntegerField(help_text=_("0 means unlimited."))
    expires_at = serializers.DateTimeField(allow_null=True, help_text=_("null: never."))
    starts_on_first_use = serializers.BooleanField()
    enabled = serializers.BooleanField()
    online = serializers.BooleanField(
        allow_null=True, help_text=_("null: not known (the panel was not reached).")
    )
    account = serializers.SerializerMethodField(help_text=_("Our client account, when it is one."))

    def get_account(self, row) -> int | None:
        return row.account.pk if row.account is not None else None


class LiveClientsSerializer(serializers.Serializer):
    live = serializers.BooleanField(
        help_text=_("False: the panel could not be read; the rows are the last sync's.")
    )
    error = serializers.CharField(allow_blank=True)
    clients = LiveClientSerializer(many=True)


class InboundViewSet(
    StaffViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Inbounds come from syncing the panel; only is_sellable and display_name change here."""

    queryset = Inbound.objects.select_related("panel").order_by("panel", "remote_id", "pk")
    serializer_class = InboundSerializer
    filter_params = {
        "panel": "panel",
        "is_sellable": "is_sellable",
        "status": "status",
        "protocol": "protocol",
    }

    @action(
        detail=True,
        methods=["get"],
        response_serializer_class=LiveClientsSerializer,
        required_perms=["panels.view_inbound", "panels.view_clientaccount"],
        pagination_class=None,
        filter_backends=[],
    )
    def clients(self, request, pk=None):
        """The inbound's clients as its panel has them now (usage, expiry, online)."""
        result = inbound_live_clients(inbound=self.get_object())
        return Response(LiveClientsSerializer(result).data)


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

    def _set_enable(self, request, enable: bool):
        account = self.get_object()
        data = AccountNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service = lifecycle.account_enable if enable else lifecycle.account_disable
        account = self._act(
            lambda: service(account=account, actor=request.user, note=data.validated_data["note"])
        )
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
        account = self.get_object()
        data = AccountNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = self._act(
            lambda: lifecycle.account_delete(
                account=account, actor=request.user, note=data.validated_data["note"]
            )
        )
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
        account = self.get_object()
        data = AccountNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = self._act(
            lambda: lifecycle.account_regenerate_link(
                account=account, actor=request.user, note=data.validated_data["note"]
            )
        )
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
        account = self.get_object()
        data = AccountNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent = self._act(
            lambda: account_resend_config(
                account=account, actor=request.user, note=data.validated_data["note"]
            )
        )
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
