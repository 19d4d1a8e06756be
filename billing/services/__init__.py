"""The only code that changes money, orders and receipts.

One module per subject; callers keep reading them as ``billing.services.X``:

- ``errors``: the typed errors (``BillingError`` and its kinds);
- ``sale``: what is for sale, and whether an order still sells as priced;
- ``wallet``: the wallet ledger (``_wallet_apply``), ``user_lock``;
- ``orders``: the lock order (User, then Order, then Receipt), ``order_lock``,
  ``order_transition``, creating, paying, moving, cancelling and refunding orders;
- ``receipts``: card-to-card receipts submitted, approved, rejected;
- ``discounts``: discount codes;
- ``trials`` and ``referrals``: the free trial and referral rewards.
"""

from billing.selectors import plans_for_sale, wallet_history
from billing.services.discounts import (
    discount_problem,
    discount_use_claim,
    discount_use_release,
    discount_used_up_text,
    order_apply_discount,
    order_list_price,
)
from billing.services.errors import (
    BillingError,
    DiscountRejected,
    InsufficientFunds,
    NoLongerForSale,
    OrderNotPayable,
    OrderNotYours,
    ReceiptAlreadyReviewed,
    TrialAlreadyUsed,
)
from billing.services.orders import (
    order_await_receipt,
    order_cancel,
    order_create_addon,
    order_create_new,
    order_create_renewal,
    order_create_topup,
    order_lock,
    order_move,
    order_pay_from_wallet,
    order_refund,
    order_retry_problem,
    order_transition,
)
from billing.services.receipts import receipt_approve, receipt_reject, receipt_submit
from billing.services.referrals import referral_reward
from billing.services.sale import (
    bank_card_for_payment,
    inbounds_for_sale,
    order_sale_problem,
    panels_for_sale,
)
from billing.services.trials import trial_claim, trial_used
from billing.services.wallet import user_lock, wallet_adjust, wallet_credit, wallet_debit

__all__ = [
    "BillingError",
    "DiscountRejected",
    "InsufficientFunds",
    "NoLongerForSale",
    "OrderNotPayable",
    "OrderNotYours",
    "ReceiptAlreadyReviewed",
    "TrialAlreadyUsed",
    "bank_card_for_payment",
    "discount_problem",
    "discount_use_claim",
    "discount_use_release",
    "discount_used_up_text",
    "inbounds_for_sale",
    "order_apply_discount",
    "order_await_receipt",
    "order_cancel",
    "order_create_addon",
    "order_create_new",
    "order_create_renewal",
    "order_create_topup",
    "order_list_price",
    "order_lock",
    "order_move",
    "order_pay_from_wallet",
    "order_refund",
    "order_retry_problem",
    "order_sale_problem",
    "order_transition",
    "panels_for_sale",
    "plans_for_sale",
    "receipt_approve",
    "receipt_reject",
    "receipt_submit",
    "referral_reward",
    "trial_claim",
    "trial_used",
    "user_lock",
    "wallet_adjust",
    "wallet_credit",
    "wallet_debit",
    "wallet_history",
]
