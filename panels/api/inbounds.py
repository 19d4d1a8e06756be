"""Staff REST API for inbounds (filled by syncing their panel) and their live clients."""

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from moonvpn.api import (
    StaffModelSerializer,
    StaffViewSetMixin,
)
from panels.live import inbound_live_clients
from panels.models import Inbound


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
