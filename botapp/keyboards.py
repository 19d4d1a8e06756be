"""Inline keyboards; every button's data comes from the callbacks codec."""

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from billing.catalogue import catalogue
from botapp import texts
from botapp.callbacks import encode
from panels.models import ClientAccount


def _button(text, action: str, *args) -> InlineKeyboardButton:
    return InlineKeyboardButton(str(text), callback_data=encode(action, *args))


def _markup(rows) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    for row in rows:
        markup.row(*row)
    return markup


def menu() -> InlineKeyboardMarkup:
    rows = [[_button(texts.BTN_BUY, "buy")]]
    if catalogue().trial is not None:  # offered while a trial plan is active
        rows.append([_button(texts.BTN_TRIAL, "trial")])
    rows += [
        [_button(texts.BTN_SERVICES, "services"), _button(texts.BTN_WALLET, "wallet")],
        [_button(texts.BTN_INVITE, "invite")],
        [_button(texts.BTN_HELP, "help"), _button(texts.BTN_LANGUAGE, "language")],
    ]
    return _markup(rows)


def back_to_menu() -> InlineKeyboardMarkup:
    return _markup([[_button(texts.BTN_MENU, "menu")]])


def plans(plans) -> InlineKeyboardMarkup:
    rows = [[_button(texts.plan_button(plan), "plan", plan.pk)] for plan in plans]
    rows.append([_button(texts.BTN_MENU, "menu")])
    return _markup(rows)


def locations(plan, panels) -> InlineKeyboardMarkup:
    rows = [[_button(panel.location_label, "location", plan.pk, panel.pk)] for panel in panels]
    rows.append([_button(texts.BTN_BACK, "buy")])
    return _markup(rows)


def protocols(plan, inbounds) -> InlineKeyboardMarkup:
    rows = [[_button(inbound.label, "protocol", plan.pk, inbound.pk)] for inbound in inbounds]
    rows.append([_button(texts.BTN_BACK, "plan", plan.pk)])
    return _markup(rows)


def summary(order, *, can_pay_from_wallet: bool) -> InlineKeyboardMarkup:
    rows = []
    if can_pay_from_wallet:
        rows.append([_button(texts.BTN_PAY_WALLET, "pay_wallet", order.pk)])
    if order.amount > 0:
        rows.append([_button(texts.BTN_PAY_RECEIPT, "pay_receipt", order.pk)])
    if not can_pay_from_wallet:
        rows.append([_button(texts.BTN_TOPUP, "topup")])
    rows.append([_button(texts.BTN_DISCOUNT, "discount", order.pk)])
    rows.append([_button(texts.BTN_CANCEL, "cancel", order.pk)])
    return _markup(rows)


def back_to_order(order) -> InlineKeyboardMarkup:
    return _markup([[_button(texts.BTN_BACK, "order", order.pk)]])


def join_channel(url: str, then: str) -> InlineKeyboardMarkup:
    return _markup(
        [
            [InlineKeyboardButton(str(texts.BTN_JOIN), url=url)],
            [_button(texts.BTN_JOINED, "joined", then)],
            [_button(texts.BTN_MENU, "menu")],
        ]
    )


def awaiting_receipt(order) -> InlineKeyboardMarkup:
    return _markup([[_button(texts.BTN_CANCEL, "cancel", order.pk)]])


def wallet() -> InlineKeyboardMarkup:
    return _markup([[_button(texts.BTN_TOPUP, "topup")], [_button(texts.BTN_MENU, "menu")]])


def topup_amounts(amounts) -> InlineKeyboardMarkup:
    buttons = [_button(texts.money(amount), "topup_amount", amount) for amount in amounts]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button(texts.BTN_TOPUP_TYPE, "topup_type")])
    rows.append([_button(texts.BTN_BACK, "wallet")])
    return _markup(rows)


def services(accounts, *, subscription_shown: bool = False) -> InlineKeyboardMarkup:
    rows = [[_button(texts.account_button(account), "account", account.pk)] for account in accounts]
    if subscription_shown:
        rows.append([_button(texts.BTN_SUB_NEW, "sub_new")])
    rows.append([_button(texts.BTN_MENU, "menu")])
    return _markup(rows)


def account(account) -> InlineKeyboardMarkup:
    return _markup(
        [
            *account_rows(account),  # Renew, extra traffic or days
            [_button(texts.BTN_RESEND, "resend", account.pk)],
            [_button(texts.BTN_BACK, "services")],
        ]
    )


def languages() -> InlineKeyboardMarkup:
    return _markup(
        [
            [_button("فارسی", "set_language", "fa"), _button("English", "set_language", "en")],
            [_button(texts.BTN_MENU, "menu")],
        ]
    )


def review(receipt) -> InlineKeyboardMarkup:
    return _markup(
        [
            [
                _button(texts.BTN_APPROVE, "approve", receipt.pk),
                _button(texts.BTN_REJECT, "reject", receipt.pk),
            ]
        ]
    )


def reject_reasons(receipt) -> InlineKeyboardMarkup:
    rows = [
        [_button(text, "reject_reason", receipt.pk, code)]
        for code, text in texts.REJECT_REASONS.items()
    ]
    rows.append([_button(texts.BTN_BACK, "review", receipt.pk)])
    return _markup(rows)


# --- renewals and add-ons ----------------------------------------------------------------


def account_rows(account) -> list:
    """The Renew and add-on buttons for an account's page; none once it is deleted."""
    if account.status == ClientAccount.Status.DELETED:
        return []
    return [
        [_button(texts.BTN_RENEW, "renew", account.pk)],
        [_button(texts.BTN_ADDONS, "addons", account.pk)],
    ]


def renew(account) -> InlineKeyboardMarkup:
    """Under a reminder or clean-up notice: Renew, or look at the service."""
    return _markup(
        [
            [_button(texts.BTN_RENEW, "renew", account.pk)],
            [_button(texts.BTN_MY_SERVICE, "account", account.pk)],
        ]
    )


def my_service(account) -> InlineKeyboardMarkup:
    return _markup([[_button(texts.BTN_MY_SERVICE, "account", account.pk)]])
