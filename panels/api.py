"""Staff REST API for panels, their inbounds and customers' client accounts."""

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
from rest_framework import mixins, serializers, viewsets
from rest_framework.filters import SearchFilter

from moonvpn.api import QueryParamFilter, StaffModelViewSet, StaffReadOnlyViewSet, StaffViewSetMixin
from panels.models import ClientAccount, Inbound, Panel

SECRET_FIELDS = ("username", "password", "api_token")
SECRET_HELP = _(
    "Write-only: never returned. Omit it to keep the stored value; "
    "send an empty string to clear it."
)


def _secret_field():
    # Never trim: a panel password may begin or end with a space.
    return serializers.CharField(
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


class PanelSerializer(serializers.ModelSerializer):
    username = _secret_field()
    password = _secret_field()
    api_token = _secret_field()
    has_username = serializers.BooleanField(read_only=True)
    has_password = serializers.BooleanField(read_only=True)
    has_api_token = serializers.BooleanField(read_only=True)
    active_accounts = serializers.IntegerField(
        read_only=True, help_text=_("Active client accounts; compare with capacity.")
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


class InboundSerializer(serializers.ModelSerializer):
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


class ClientAccountSerializer(serializers.ModelSerializer):
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


class InboundViewSet(
    StaffViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Inbounds come from syncing the panel; only is_sellable and display_name change here."""

    queryset = Inbound.objects.all()
    serializer_class = InboundSerializer
    filter_params = {
        "panel": "panel",
        "is_sellable": "is_sellable",
        "status": "status",
        "protocol": "protocol",
    }


class ClientAccountViewSet(StaffReadOnlyViewSet):
    queryset = ClientAccount.objects.all()
    serializer_class = ClientAccountSerializer
    filter_backends = [QueryParamFilter, SearchFilter]
    filter_params = {
        "user": "user",
        "panel": "panel",
        "inbound": "inbound",
        "plan": "plan",
        "order": "order",
        "status": "status",
    }
    search_fields = ["email", "uuid", "sub_id"]
