"""The staff REST API, mounted under /api/v1/ (token or session auth, staff only).

Every endpoint takes the Django model permission of what it does (moonvpn.api.
StaffModelPermissions); the root, the schema and the docs pages only list what exists.
"""

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import DefaultRouter

from accounts.api import UserViewSet
from billing.api import (
    AddOnViewSet,
    BankCardViewSet,
    DiscountCodeViewSet,
    OrderViewSet,
    PlanViewSet,
    ReceiptViewSet,
    WalletTransactionViewSet,
)
from botapp.api import BroadcastViewSet
from panels.api import ClientAccountViewSet, InboundViewSet, PanelViewSet
from panels.api_drift import PanelDriftViewSet

router = DefaultRouter()
router.register("panels", PanelViewSet, basename="panel")
router.register("inbounds", InboundViewSet, basename="inbound")
router.register("plans", PlanViewSet, basename="plan")
router.register("addons", AddOnViewSet, basename="addon")
router.register("users", UserViewSet, basename="user")
router.register("orders", OrderViewSet, basename="order")
router.register("accounts", ClientAccountViewSet, basename="clientaccount")
router.register("receipts", ReceiptViewSet, basename="receipt")
router.register("bank-cards", BankCardViewSet, basename="bankcard")
router.register("wallet-transactions", WalletTransactionViewSet, basename="wallettransaction")
router.register("panel-drift", PanelDriftViewSet, basename="paneldrift")
router.register("discount-codes", DiscountCodeViewSet, basename="discountcode")
router.register("broadcasts", BroadcastViewSet, basename="broadcast")

urlpatterns = [
    # OpenAPI 3.1 (JSON), and two readers of it served from drf-spectacular-sidecar.
    path("schema/", SpectacularJSONAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include(router.urls)),
]
