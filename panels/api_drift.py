"""The drift view in the staff API: ``/api/v1/panel-drift/<panel>/report/`` and ``fix/``.

GET report compares the panel with the database (panels.drift); POST fix applies one
fix (``push``, ``accept``, ``recreate`` with ``account``; ``delete`` with ``email``;
``adopt`` with ``email``, ``telegram_id`` and ``plan``) or a bulk one (``all-push``,
``all-accept``, ``all-recreate``). Both take "change panel", like the console page.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from billing.models import Plan
from moonvpn.api import Conflict, StaffViewSetMixin
from panels import drift
from panels.lifecycle import LifecycleError
from panels.models import ClientAccount, Panel

FIXES = ("push", "accept", "recreate", "delete", "adopt", "all-push", "all-accept", "all-recreate")


class DriftFixSerializer(serializers.Serializer):
    fix = serializers.ChoiceField(choices=FIXES)
    account = serializers.IntegerField(required=False, help_text=_("push, accept, recreate"))
    email = serializers.CharField(required=False, help_text=_("delete, adopt"))
    telegram_id = serializers.IntegerField(required=False, help_text=_("adopt"))
    plan = serializers.IntegerField(required=False, help_text=_("adopt"))


class DriftReportSerializer(serializers.Serializer):
    """What differs between the panel and the database (panels.drift.Drift.as_dict)."""

    panel = serializers.IntegerField()
    orphans = serializers.ListField(
        child=serializers.DictField(), help_text=_("Clients on the panel with no account")
    )
    missing = serializers.ListField(
        child=serializers.DictField(), help_text=_("Accounts whose client is missing")
    )
    differs = serializers.ListField(
        child=serializers.DictField(), help_text=_("Fields that differ")
    )


class DriftFixResultSerializer(serializers.Serializer):
    fixed = serializers.IntegerField()  # how many rows were fixed
    account = serializers.IntegerField(required=False)


class DriftPanelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Panel
        fields = ["id", "name", "location_name", "health"]


class PanelDriftViewSet(StaffViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The panels whose drift can be read (``list``: no panel is called)."""

    queryset = Panel.objects.defer(*Panel.SECRET_FIELDS).order_by("pk")
    serializer_class = DriftPanelSerializer

    def get_serializer_class(self):
        return DriftFixSerializer if self.action == "fix" else DriftPanelSerializer

    @action(
        detail=True,
        methods=["get"],
        required_perms=["panels.change_panel"],
        response_serializer_class=DriftReportSerializer,
        reads_a_panel=True,
    )
    def report(self, request, pk=None):
        panel = Panel.objects.get(pk=self.get_object().pk)
        try:
            return Response(drift.panel_drift(panel=panel).as_dict())
        except LifecycleError as exc:
            raise Conflict(str(exc)) from exc

    @action(
        detail=True,
        methods=["post"],
        required_perms=["panels.change_panel"],
        response_serializer_class=DriftFixResultSerializer,
    )
    def fix(self, request, pk=None):
        panel = Panel.objects.get(pk=self.get_object().pk)
        data = DriftFixSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fix, values = data.validated_data["fix"], data.validated_data
        try:
            if fix.startswith("all-"):
                done = drift.drift_fix_all(
                    panel=panel, kind=fix.removeprefix("all-"), actor=request.user
                )
                return Response({"fixed": done})
            if fix in ("push", "accept", "recreate"):
                account = _account(panel, values.get("account"))
                getattr(drift, f"drift_{fix}")(account=account, actor=request.user)
                return Response({"fixed": 1, "account": account.pk})
            email = values.get("email") or ""
            if not email:
                raise serializers.ValidationError({"email": _("This field is required.")})
            if fix == "delete":
                drift.drift_delete_orphan(panel=panel, email=email, actor=request.user)
                return Response({"fixed": 1})
            user = User.objects.filter(telegram_id=values.get("telegram_id")).first()
            plan = Plan.objects.filter(pk=values.get("plan")).first()
            if user is None or plan is None:
                raise serializers.ValidationError(
                    {"telegram_id": _("Give the customer's Telegram id and a plan.")}
                )
            account = drift.drift_adopt(
                panel=panel, email=email, user=user, plan=plan, actor=request.user
            )
            return Response({"fixed": 1, "account": account.pk})
        except LifecycleError as exc:
            raise Conflict(str(exc)) from exc


def _account(panel, account_id) -> ClientAccount:
    account = (
        ClientAccount.objects.select_related("plan", "inbound", "panel", "user")
        .filter(pk=account_id, panel=panel)
        .first()
    )
    if account is None:
        raise serializers.ValidationError({"account": _("No such account on this panel.")})
    return account
