"""Paying by card: card details, the receipt photo, and what the customer hears after review."""

from html import escape

from django.utils.translation import gettext as _

from botapp.texts.common import lines, money, order_ref

# --- paying by card --------------------------------------------------------------------


def card_details(card) -> str:
    return lines(
        f"<code>{escape(card.formatted_number)}</code>",
        f"{escape(card.holder_name)} — {escape(card.bank_name)}",
    )


def pay_by_card(order, card) -> str:
    return lines(
        _("💳 To pay order %(order)s, transfer exactly <b>%(amount)s</b> to this card:")
        % {"order": order_ref(order), "amount": money(order.amount)},
        "",
        card_details(card),
        "",
        _("Then send a photo of the receipt here."),
    )


def topup_by_card(order, card) -> str:
    return lines(
        _("💳 To add %(amount)s to your wallet, transfer exactly <b>%(amount)s</b> to this card:")
        % {"amount": money(order.amount)},
        "",
        card_details(card),
        "",
        _("Then send a photo of the receipt here (order %(order)s).") % {"order": order_ref(order)},
    )


def no_card() -> str:
    return _("Card payment is not available right now. Please try again later.")


def receipt_received(order) -> str:
    return _(
        "📨 Your receipt for order %(order)s was received and awaits approval. "
        "We will tell you here as soon as it is checked."
    ) % {"order": order_ref(order)}


def send_a_photo() -> str:
    return _("Please send the receipt as a photo (or an image file), not as text or a PDF.")


def unreadable_image() -> str:
    return _("This image could not be read. Please send a clear photo of the receipt.")


def no_order_awaits_receipt() -> str:
    return _(
        "No order is waiting for a receipt. To buy a service choose Buy; "
        "to top up your wallet choose Wallet."
    )


def receipt_refused(order, reason) -> str:
    return _("A receipt for order %(order)s cannot be accepted: %(reason)s") % {
        "order": order_ref(order),
        "reason": escape(str(reason)),
    }


def receipt_for_cancelled(order) -> str:
    return _(
        "Order %(order)s was cancelled, so it takes no receipt. Please start again from the menu."
    ) % {"order": order_ref(order)}


def receipt_for_paid(order) -> str:
    return _("Order %(order)s is already paid; it needs no receipt.") % {"order": order_ref(order)}


def receipt_approved(order) -> str:
    return _("✅ Your receipt for order %(order)s was approved.") % {"order": order_ref(order)}


def receipt_approved_to_wallet(order, amount: int, balance: int) -> str:
    return _(
        "✅ Your receipt for order %(order)s was approved. The order had been closed, so "
        "%(amount)s was added to your wallet. Your balance is now %(balance)s."
    ) % {"order": order_ref(order), "amount": money(amount), "balance": money(balance)}


def receipt_rejected(order, reason: str) -> str:
    return lines(
        _("❌ Your receipt for order %(order)s was rejected.") % {"order": order_ref(order)},
        _("Reason: %(reason)s") % {"reason": escape(reason)},
        "",
        _("You can send a new photo of the receipt for the same order."),
    )


def topup_approved(amount: int, balance: int) -> str:
    return _(
        "✅ Your top-up of %(amount)s was approved. Your wallet balance is now %(balance)s."
    ) % {"amount": money(amount), "balance": money(balance)}
