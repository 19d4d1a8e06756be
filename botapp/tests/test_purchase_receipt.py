"""Paying by card: the receipt photo, the operators' buttons, approval and rejection."""

import pytest

from billing.models import Order, Receipt
from botapp.tests.conftest import JOHN, OPERATOR, SARA, decode_qr, receipt_image
from moonvpn.formatting import persian_digits
from panels.models import ClientAccount

pytestmark = pytest.mark.django_db


def _order_by_card(bot, chat_id):
    bot.send(chat_id, "/start")
    bot.press_data(chat_id, "b")
    bot.press(chat_id, "1 Month")
    bot.press(chat_id, "Germany")
    bot.press(chat_id, "VLESS Reality")
    order = Order.objects.get(user__telegram_id=chat_id, status="pending")
    bot.press_data(chat_id, f"pr:{order.pk}")
    order.refresh_from_db()
    return order


def _operator_buttons(bot, tg):
    message = tg.photos_to(OPERATOR)[-1]
    return message, {
        button["callback_data"].split(":")[0]: button["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for button in row
    }


def test_persian_receipt_purchase_approved_in_telegram_delivers_once(
    bot, tg, plan, inbound, card, xui
):
    order = _order_by_card(bot, SARA)
    assert order.status == "awaiting_receipt"
    assert order.payment_method == "receipt"
    screen = bot.screen(SARA)
    assert "6037-9912-3456-7890" in screen and "۱۵۰٬۰۰۰ تومان" in screen
    assert "MoonVPN Co" in screen and "Melli" in screen

    bot.photo(SARA, receipt_image(1))
    receipt = Receipt.objects.get(order=order)
    assert receipt.status == "pending" and receipt.amount == 150_000
    assert len(receipt.sha256) == 64 and receipt.telegram_file_unique_id
    assert "در انتظار تأیید" in tg.texts_to(SARA)[-1]

    message, buttons = _operator_buttons(bot, tg)
    assert message["photo"] == receipt_image(1)  # the customer's photo, passed on
    assert "Sara" in message["plain_text"]
    assert persian_digits(f"#{order.pk}") in message["plain_text"]
    assert "۱۵۰٬۰۰۰ تومان" in message["plain_text"]
    assert "⚠️" not in message["plain_text"]

    bot.press_data(OPERATOR, buttons["ra"], message_id=message["message_id"])

    order.refresh_from_db()
    assert order.status == "fulfilled"
    receipt.refresh_from_db()
    assert receipt.status == "approved" and receipt.reviewed_by.telegram_id == OPERATOR
    account = ClientAccount.objects.get(order=order)
    delivery = tg.photos_to(SARA)[-1]
    assert decode_qr(delivery["photo"]) == account.config_url
    assert "سرویس شما آماده است" in delivery["plain_text"]
    # The operator's message now says who approved it, and has no buttons left.
    edited = tg.records(chat_id=OPERATOR, method="editMessageCaption")[-1]
    assert "تأیید شده توسط" in edited["plain_text"]
    assert not edited["reply_markup"]

    # A second press (another operator, or the same one twice) changes nothing.
    bot.press_data(OPERATOR, buttons["ra"], message_id=message["message_id"])
    assert ClientAccount.objects.filter(order=order).count() == 1
    assert len(tg.photos_to(SARA)) == 1
    assert len(xui.all_clients()) == 1


def test_english_receipt_rejected_with_a_reason_then_resent_and_approved(
    bot, tg, plan, inbound, card, xui
):
    order = _order_by_card(bot, JOHN)
    assert "transfer exactly 150,000 Toman" in bot.screen(JOHN)
    bot.photo(JOHN, receipt_image(2))
    message, buttons = _operator_buttons(bot, tg)

    bot.press_data(OPERATOR, buttons["rj"], message_id=message["message_id"])
    reasons = [
        button["callback_data"]
        for row in tg.chat_history(OPERATOR)[-1]["reply_markup"]["inline_keyboard"]
        for button in row
    ]
    assert f"rr:{Receipt.objects.get().pk}:amount" in reasons
    bot.press_data(
        OPERATOR, f"rr:{Receipt.objects.get().pk}:amount", message_id=message["message_id"]
    )

    receipt = Receipt.objects.get()
    assert receipt.status == "rejected"
    assert receipt.reject_reason == "The amount does not match the order."  # John reads English
    assert "Reason: The amount does not match the order." in tg.texts_to(JOHN)[-1]
    order.refresh_from_db()
    assert order.status == "awaiting_receipt"

    bot.photo(JOHN, receipt_image(3))
    assert Receipt.objects.filter(order=order).count() == 2
    message, buttons = _operator_buttons(bot, tg)
    bot.press_data(OPERATOR, buttons["ra"], message_id=message["message_id"])
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert "Your service is ready!" in tg.photos_to(JOHN)[-1]["plain_text"]


def test_image_sent_as_a_document_is_accepted_as_the_receipt(bot, tg, plan, inbound, card):
    order = _order_by_card(bot, JOHN)
    bot.document(JOHN, receipt_image(4), file_name="receipt.png", mime_type="image/png")
    receipt = Receipt.objects.get(order=order)
    assert receipt.image.read() == receipt_image(4)
    assert tg.photos_to(OPERATOR)[-1]["photo"] == receipt_image(4)


def test_reused_receipt_photo_is_flagged_to_the_operator(bot, tg, plan, inbound, card):
    first = _order_by_card(bot, JOHN)
    bot.photo(JOHN, receipt_image(5))
    _, buttons = _operator_buttons(bot, tg)
    bot.press_data(OPERATOR, buttons["ra"])
    assert Order.objects.get(pk=first.pk).status == "fulfilled"

    second = _order_by_card(bot, JOHN)
    bot.photo(JOHN, receipt_image(5))
    receipt = Receipt.objects.get(order=second)
    assert receipt.duplicate_of is not None
    message, _ = _operator_buttons(bot, tg)
    assert "⚠️" in message["plain_text"]
    assert f"#{receipt.duplicate_of.pk}" in message["plain_text"].translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
    )


def test_only_operators_may_press_approve(bot, tg, plan, inbound, card):
    order = _order_by_card(bot, JOHN)
    bot.photo(JOHN, receipt_image(6))
    receipt = Receipt.objects.get(order=order)
    bot.press_data(JOHN, f"ra:{receipt.pk}")  # John forges the operator's button
    receipt.refresh_from_db()
    assert receipt.status == "pending"
    assert tg.callback_answers[-1]["text"] == "Only operators can review receipts."
    order.refresh_from_db()
    assert order.status == "awaiting_receipt"


def test_decision_in_the_django_admin_notifies_through_after_receipt_decision(
    bot, tg, plan, inbound, card, staff_user, xui
):
    from billing import services as billing
    from botapp.notify import after_receipt_decision

    order = _order_by_card(bot, SARA)
    bot.photo(SARA, receipt_image(7))
    receipt = billing.receipt_approve(receipt_id=Receipt.objects.get().pk, reviewer=staff_user)
    after_receipt_decision(receipt)
    after_receipt_decision(receipt)  # called twice (a double-submitted admin form): one delivery
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert len(tg.photos_to(SARA)) == 1
    assert "تأیید شد" in tg.texts_to(SARA)[-2]


def test_receipt_approved_after_the_customer_cancelled_goes_to_the_wallet(
    bot, tg, plan, inbound, card, django_user_model
):
    order = _order_by_card(bot, JOHN)
    bot.photo(JOHN, receipt_image(8))
    bot.press_data(JOHN, f"x:{order.pk}")  # cancels while the receipt is in review
    _, buttons = _operator_buttons(bot, tg)
    bot.press_data(OPERATOR, buttons["ra"])
    john = django_user_model.objects.get(telegram_id=JOHN)
    assert john.balance == 150_000  # the money arrived, so it is kept for them
    assert not ClientAccount.objects.exists()
    assert "was added to your wallet. Your balance is now 150,000 Toman" in tg.texts_to(JOHN)[-1]
