"""Staff REST API for what is sold: plans and add-ons."""

from billing.models import (
    AddOn,
    Plan,
)
from moonvpn.api import (
    StaffModelSerializer,
    StaffModelViewSet,
)


class PlanSerializer(StaffModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "duration_days",
            "traffic_gb",
            "price",
            "max_devices",
            "is_active",
            "sort_order",
            "panels",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class AddOnSerializer(StaffModelSerializer):
    class Meta:
        model = AddOn
        fields = [
            "id",
            "name",
            "kind",
            "amount",
            "price",
            "is_active",
            "sort_order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"amount": {"min_value": 1}}


class PlanViewSet(StaffModelViewSet):
    queryset = Plan.objects.prefetch_related("panels").order_by("sort_order", "price", "pk")
    serializer_class = PlanSerializer
    filter_params = {"is_active": "is_active"}


class AddOnViewSet(StaffModelViewSet):
    """Extra traffic or days that customers buy for an account they have."""

    queryset = AddOn.objects.order_by("sort_order", "price", "pk")
    serializer_class = AddOnSerializer
    filter_params = {"is_active": "is_active", "kind": "kind"}
