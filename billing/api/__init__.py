"""Staff REST API for billing: plans, add-ons, orders, receipts, bank cards, the
wallet ledger and discount codes.

Views translate HTTP to billing.services and back; every rule lives in the services
(or the model). One module per resource; this package names them all.
"""

from billing.api.catalog import AddOnSerializer, AddOnViewSet, PlanSerializer, PlanViewSet
from billing.api.discounts import DiscountCodeSerializer, DiscountCodeViewSet
from billing.api.orders import OrderSerializer, OrderViewSet
from billing.api.receipts import ReceiptSerializer, ReceiptViewSet
from billing.api.wallet import (
    BankCardSerializer,
    BankCardViewSet,
    WalletTransactionSerializer,
    WalletTransactionViewSet,
)

__all__ = [
    "AddOnSerializer",
    "AddOnViewSet",
    "BankCardSerializer",
    "BankCardViewSet",
    "DiscountCodeSerializer",
    "DiscountCodeViewSet",
    "OrderSerializer",
    "OrderViewSet",
    "PlanSerializer",
    "PlanViewSet",
    "ReceiptSerializer",
    "ReceiptViewSet",
    "WalletTransactionSerializer",
    "WalletTransactionViewSet",
]
