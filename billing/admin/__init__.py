"""The operator console for money: plans, orders, receipts, bank cards, the wallet ledger.

Orders, receipts and the ledger are history: shown read-only, changed only by the
actions here, which call billing.services (the one place that changes money).
Each part lives in its own module; importing this package registers them all.
"""

from billing.admin.catalog import AddOnAdmin, BankCardAdmin, PlanAdmin, WalletTransactionAdmin
from billing.admin.orders import OrderAdmin
from billing.admin.receipts import ReceiptAdmin
from billing.admin.review import approval_outcome, follow_up

__all__ = [
    "AddOnAdmin",
    "BankCardAdmin",
    "OrderAdmin",
    "PlanAdmin",
    "ReceiptAdmin",
    "WalletTransactionAdmin",
    "approval_outcome",
    "follow_up",
]
