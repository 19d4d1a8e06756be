"""Billing's models, one module per subject; every model is importable from here.

``catalog`` (Plan, AddOn), ``orders`` (Order, IllegalTransition), ``receipts``,
``wallet`` (WalletTransaction), ``cards`` (BankCard and card number rules),
``growth`` (DiscountCode, DiscountUse, TrialClaim).
"""

from billing.models.cards import (
    CARD_NUMBER_PATTERN,
    BankCard,
    luhn_ok,
    normalize_card_number,
    validate_card_number,
)
from billing.models.catalog import (
    GB,
    AddOn,
    Plan,
)
from billing.models.growth import (
    DiscountCode,
    DiscountUse,
    TrialClaim,
)
from billing.models.orders import (
    IllegalTransition,
    Order,
)
from billing.models.receipts import (
    Receipt,
)
from billing.models.wallet import (
    AppendOnlyQuerySet,
    WalletTransaction,
)

__all__ = [
    "AddOn",
    "AppendOnlyQuerySet",
    "BankCard",
    "CARD_NUMBER_PATTERN",
    "DiscountCode",
    "DiscountUse",
    "GB",
    "IllegalTransition",
    "Order",
    "Plan",
    "Receipt",
    "TrialClaim",
    "WalletTransaction",
    "luhn_ok",
    "normalize_card_number",
    "validate_card_number",
]
