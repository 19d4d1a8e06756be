"""The staff REST API, mounted under /api/v1/ (token or session auth, staff only).

Every endpoint takes the Django model permission of what it does (moonvpn.api.
StaffModelPermissions); the root and the schema only list what exists.
"""

from django.urls import include, path
from rest_framework.renderers import JSONOpenAPIRenderer
from rest_framework.routers import DefaultRouter
from rest_framework.schemas import get_schema_view

from accounts.api import UserViewSet
from billing.api import (
    BankCardViewSet,
    OrderViewSet,
    PlanViewSet,
    ReceiptViewSet,
    WalletTransactionViewSet,
)
from panels.api import ClientAccountViewSet, InboundViewSet, PanelViewSet
from panels.api_drift import PanelDriftViewSet

router = DefaultRouter()
router.register("panels", PanelViewSet, basename="panel")
router.register("inbounds", InboundViewSet, basename="inbound")
router.register("plans", PlanViewSet, basename="plan")
router.register("users", UserViewSet, basename="user")
router.register("orders", OrderViewSet, basename="order")
router.register("accounts", ClientAccountViewSet, basename="clientaccount")
router.register("receipts", ReceiptViewSet, basename="receipt")
router.register("bank-cards", BankCardViewSet, basename="bankcard")
router.register("wallet-transactions", WalletTransactionViewSet, basename="wallettransaction")
router.register("panel-drift", PanelDriftViewSet, basename="paneldrift")

schema_view = get_schema_view(
    title="MoonVPN staff API",
    description="Operator endpoints: panels, inbounds, plans, users, orders, receipts.",
    version="1",
    renderer_classes=[JSONOpenAPIRenderer],
)

urlpatterns = [
    path("schema/", schema_view, name="api-schema"),
    path("", include(router.urls)),
]
