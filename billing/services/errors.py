"""The errors billing services raise; each message is for the customer or the operator."""


class BillingError(Exception):
    """A business rule refused the operation; the message is for the customer/operator."""


class InsufficientFunds(BillingError):
    pass


class ReceiptAlreadyReviewed(BillingError):
    pass


class OrderNotPayable(BillingError):
    pass


class OrderNotYours(OrderNotPayable):
    """The order belongs to another customer (a forged or foreign button)."""


class NoLongerForSale(BillingError):
    """What the order was priced on changed (plan, price, inbound, panel); nothing charged."""


class DiscountRejected(BillingError):
    """The typed code does not apply to this order; the message says why."""


class TrialAlreadyUsed(BillingError):
    pass
