"""Staff REST API for broadcasts: write a draft, queue it for sending, cancel it.

The same services as the console's Send and Cancel actions (botapp.broadcasts), with
the same permissions: the console's actions take ``change_broadcast`` (no role has
it: superusers only, until a group is given it). ``manage.py send_broadcasts`` sends
what is queued.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from botapp.broadcasts import (
    BroadcastError,
    broadcast_cancel,
    broadcast_delete,
    broadcast_edit,
    broadcast_queue,
)
from botapp.models import Broadcast
from moonvpn.api import (
    Conflict,
    QueryParamFilter,
    StaffModelSerializer,
    StaffSearchFilter,
    StaffViewSetMixin,
    idempotent,
    no_input,
)


class BroadcastSerializer(StaffModelSerializer):
    """A broadcast: its text (Telegram HTML), who it goes to, and how far sending got."""

    class Meta:
        model = Broadcast
        fields = [
            "id",
            "text",
            "audience",
            "expired_days",
            "status",
            "total",
            "sent",
            "failed",
            "blocked",
            "created_by",
            "created_at",
            "queued_at",
            "finished_at",
        ]
        read_only_fields = [
            "status",
            "total",
            "sent",
            "failed",
            "blocked",
            "created_by",
            "created_at",
            "queued_at",
            "finished_at",
        ]


class NoInputSerializer(serializers.Serializer):
    """The action needs no input."""


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "To customers whose service expired this week",
                value={
                    "text": "<b>We miss you!</b> Renew today for 10% off: code BACK10",
                    "audience": "expired",
                    "expired_days": 7,
                },
                request_only=True,
            )
        ]
    )
)
class BroadcastViewSet(
    StaffViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A broadcast is created as a draft; queue sends it (once), cancel stops it.

    Only a draft is edited (409 otherwise); a queued or sending one is cancelled, not
    deleted (409). total/sent/failed/blocked show the progress while send_broadcasts
    works.
    """

    update_conflicts = True  # the schema documents 409 on PUT and PATCH

    queryset = Broadcast.objects.order_by("-created_at", "-pk")
    serializer_class = BroadcastSerializer
    filter_backends = [QueryParamFilter, StaffSearchFilter]
    filter_params = {"status": "status", "audience": "audience"}
    search_fields = ["text"]

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)

    def perform_update(self, serializer):
        broadcast, data = serializer.instance, serializer.validated_data
        try:
            serializer.instance = broadcast_edit(
                broadcast_id=broadcast.pk,
                text=data.get("text", broadcast.text),
                audience=data.get("audience", broadcast.audience),
                expired_days=data.get("expired_days", broadcast.expired_days),
            )
        except BroadcastError as exc:
            raise Conflict(
                _("%(b)s is not a draft: only a draft can be edited.") % {"b": broadcast}
            ) from exc

    def perform_destroy(self, instance):
        try:
            broadcast_delete(broadcast_id=instance.pk)
        except BroadcastError as exc:
            raise Conflict(_("%(b)s is being sent: cancel it first.") % {"b": instance}) from exc

    def _answer(self, broadcast):
        return Response(BroadcastSerializer(broadcast, context=self.get_serializer_context()).data)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=NoInputSerializer,
        response_serializer_class=BroadcastSerializer,
        required_perms=["botapp.view_broadcast", "botapp.change_broadcast"],
    )
    @idempotent
    def queue(self, request, pk=None):
        """Send a draft to its audience (the console's Send): it becomes queued.

        Only a draft can be sent, once: anything else answers 409.
        """
        no_input(request)
        broadcast = self.get_object()
        try:
            broadcast = broadcast_queue(broadcast_id=broadcast.pk)
        except BroadcastError as exc:
            raise Conflict(
                _("%(b)s is not a draft: only a draft can be sent.") % {"b": broadcast}
            ) from exc
        return self._answer(broadcast)

    @action(
        detail=True,
        methods=["post"],
        serializer_class=NoInputSerializer,
        response_serializer_class=BroadcastSerializer,
        required_perms=["botapp.view_broadcast", "botapp.change_broadcast"],
    )
    def cancel(self, request, pk=None):
        """Stop a draft, queued or sending broadcast (the console's Cancel).

        Messages already sent stay sent. A finished one answers 409.
        """
        no_input(request)
        broadcast = self.get_object()
        try:
            broadcast = broadcast_cancel(broadcast_id=broadcast.pk)
        except BroadcastError as exc:
            raise Conflict(_("%(b)s is already finished.") % {"b": broadcast}) from exc
        return self._answer(broadcast)
