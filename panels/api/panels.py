"""Staff REST API for panels: CRUD (the secrets write-only), sync and test connection.

The actions call the same services as the console (panels.sync, panels.health): a panel that
cannot be reached answers the panel's reason and changes nothing here.
"""

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
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from moonvpn.api import (
    StaffModelSerializer,
    StaffModelViewSet,
    StrictCharField,
    idempotent,
    no_input,
)
from panels.health import panel_test_connection
from panels.models import ApiGeneration, ClientAccount, Panel
from panels.sync import panel_sync
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
