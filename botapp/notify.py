"""Telling customers and operators what happened to their money and their service.

Called by the bot's handlers, the retry_provisioning job and the admin/API after a
receipt decision. Every message that must not be sent twice (a delivery, a refund, a
receipt verdict) is claimed first with a ``Notice`` row; whoever inserts the row sends.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation

from accounts.models import User
from billing import services as billing
from billing.models import Order, Receipt, WalletTransaction
from botapp import keyboards, renewal, texts
from botapp import telegram as tg
from botapp.models import Notice
from panels.health import health_event_claim, health_events_unsent, waiting_orders
from panels.lifecycle import record_event, require_live
from panels.models import AccountEvent, ClientAccount, PanelHealthEvent
from panels.orders import orders_to_retry
from panels.provisioning import Outcome, ProvisionResult, order_provision
from panels.qr import qr_png_bytes

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024  # Telegram's limit on a photo caption, in UTF-16 units of plain text


def claim(key: str, *, order: Order | None = None) -> bool:
    """True exactly once per key, across processes."""
    try:
        if transaction.get_connection().in_atomic_block:
            # A savepoint, so that losing the race leaves the caller's transaction usable.
            with transaction.atomic():
                Notice.objects.create(key=key, order=order)
        else:
            # In autocommit the INSERT is its own transaction: no BEGIN/COMMIT round trips.
            Notice.objects.create(key=key, order=order)
        return True
    except IntegrityError:
        return False


def _reachable(user: User) -> bool:
    return bool(user.telegram_id)


# --- deliveries ------------------------------------------------------------------------


def _qr_bytes(account: ClientAccount) -> bytes:
    if account.qr_code_path:
        try:
            with account.qr_code_path.open("rb") as f:
                return f.read()
        except OSError:
            log.warning("QR file of account %s is missing; drawing it again", account.pk)
    return qr_png_bytes(account.config_url)


def _plain_length(html_text: str) -> int:
    import html
    import re

    plain = html.unescape(re.sub(r"<[^>]+>", "", html_text))
    return len(plain.encode("utf-16-le")) // 2


def send_account(account: ClientAccount) -> None:
    """The service as one message: the QR photo with the details and links as caption.

    Long links (vmess, reality) can push the caption over Telegram's 1024 limit; then
    the details go as a text message and the QR follows with a short caption.
    """
    user = account.user
    with translation.override(user.language):
        text = texts.delivery(account)
        photo = _qr_bytes(account)
        if _plain_length(text) <= CAPTION_LIMIT:
            tg.send_photo(user.telegram_id, photo, caption=text, markup=keyboards.back_to_menu())
        else:
            tg.send_message(user.telegram_id, text)
            tg.send_photo(
                user.telegram_id,
                photo,
                caption=texts.qr_caption(),
                markup=keyboards.back_to_menu(),
            )


def after_provision(result: ProvisionResult) -> None:
    """Tell the customer what provisioning came to, once per order and outcome."""
    order = result.order
    # order_provision loaded the order with its user; only a refund needs a fresh balance.
    user = order.user if Order.user.is_cached(order) else User.objects.get(pk=order.user_id)
    if not _reachable(user):
        return
    if result.outcome == Outcome.DELIVERED and result.account is not None:
        if order.kind in (Order.Kind.RENEW, Order.Kind.ADDON):
            after_apply(result)  # the link is unchanged: say what was added
        elif claim(f"order:{order.pk}:delivered", order=order):
            account = result.account
            if not all(
                getattr(ClientAccount, name).is_cached(account)
                for name in ("user", "plan", "panel", "inbound")
            ):
                account = ClientAccount.objects.select_related(
                    "user", "plan", "panel", "inbound"
                ).get(pk=account.pk)
            send_account(account)
    elif result.outcome == Outcome.PENDING:
        if claim(f"order:{order.pk}:pending", order=order):
            with translation.override(user.language):
                tg.send_message(user.telegram_id, texts.being_set_up(order))
    elif result.outcome == Outcome.REFUNDED:
        if claim(f"order:{order.pk}:refunded", order=order):
            user.refresh_from_db(fields=["balance"])
            with translation.override(user.language):
                tg.send_message(
                    user.telegram_id,
                    texts.refunded(order, user.balance),
                    keyboards.back_to_menu(),
                )


def provision_and_notify(order_id: int) -> ProvisionResult:
    """Provision a paid order (outside any transaction) and tell the customer."""
    result = order_provision(order_id=order_id)
    after_provision(result)
    if result.outcome == Outcome.DELIVERED:
        referral_rewarded(result.order)
    return result


def referral_rewarded(order: Order) -> None:
    """Pay the inviter their share of a fulfilled order (once) and tell them (once)."""
    if Order.user.is_cached(order) and order.user.referred_by_id is None:
        return  # not an invited customer: no query spent on it
    reward = billing.referral_reward(order_id=order.pk)
    if reward is None or not claim(f"referral:{order.pk}", order=order):
        return
    inviter = User.objects.get(pk=reward.user_id)
    if _reachable(inviter):
        with translation.override(inviter.language):
            tg.send_message(
                inviter.telegram_id,
                texts.referral_rewarded(reward.amount, reward.balance_after),
                keyboards.back_to_menu(),
            )


# --- renewals, add-ons and a new link ------------------------------------------------------


def after_apply(result) -> None:
    """Tell the customer a renewal or add-on was applied (once per order)."""
    order, account = result.order, result.account
    user = account.user
    if not user.telegram_id or not claim(f"order:{order.pk}:delivered", order=order):
        return
    account = ClientAccount.objects.select_related("user", "panel", "inbound").get(pk=account.pk)
    with translation.override(user.language):
        tg.send_message(
            user.telegram_id, renewal.applied(account, order), keyboards.my_service(account)
        )


def send_new_link(account: ClientAccount) -> bool:
    """After a regenerated link: a short note, then the config and QR as on delivery."""
    user = account.user
    if not user.telegram_id or user.has_blocked_bot:
        return False
    with translation.override(user.language):
        if tg.send_message(user.telegram_id, renewal.new_link_text()) is None:
            return False
    send_account(account)
    return True


# --- receipts ---------------------------------------------------------------------------


def _operator_language(chat_id: int) -> str:
    user = User.objects.filter(telegram_id=chat_id).only("language").first()
    return user.language if user else settings.LANGUAGE_CODE


def receipt_to_operators(receipt: Receipt, *, photo) -> None:
    """Send a new receipt to every operator chat with Approve / Reject buttons.

    ``photo`` is the customer's Telegram file_id (no re-upload) or the image bytes.
    """
    receipt = Receipt.objects.select_related(
        "order__plan", "order__panel", "order__inbound", "user", "duplicate_of"
    ).get(pk=receipt.pk)
    for chat_id in settings.ADMIN_TELEGRAM_IDS:
        with translation.override(_operator_language(chat_id)):
            tg.send_photo(
                chat_id,
                photo,
                caption=texts.receipt_for_operators(receipt),
                markup=keyboards.review(receipt),
            )


def after_receipt_decision(receipt: Receipt) -> ProvisionResult | None:
    """Call after receipt_approve / receipt_reject (bot, admin or API): notify and deliver.

    Approved purchase → the order is paid → provisioned → the service is delivered (or
    the customer is told it is being set up). Approved top-up → the new balance.
    Rejected → the reason, and that a new photo for the same order is welcome.
    Safe to call more than once for the same decision.
    """
    receipt = Receipt.objects.select_related("order", "user").get(pk=receipt.pk)
    order, user = receipt.order, receipt.user
    if receipt.status == Receipt.Status.PENDING:
        return None
    if receipt.status == Receipt.Status.REJECTED:
        if _reachable(user) and claim(f"receipt:{receipt.pk}:rejected", order=order):
            with translation.override(user.language):
                tg.send_message(
                    user.telegram_id, texts.receipt_rejected(order, receipt.reject_reason)
                )
        return None

    credited = WalletTransaction.objects.filter(receipt=receipt).exists()
    if _reachable(user) and claim(f"receipt:{receipt.pk}:approved", order=order):
        user.refresh_from_db(fields=["balance"])
        with translation.override(user.language):
            if order.kind == Order.Kind.TOPUP:
                text = texts.topup_approved(receipt.amount, user.balance)
            elif credited:
                text = texts.receipt_approved_to_wallet(order, receipt.amount, user.balance)
            else:
                text = texts.receipt_approved(order)
            tg.send_message(user.telegram_id, text, keyboards.back_to_menu())
    if order.kind != Order.Kind.TOPUP and not credited:
        # A new account, a renewal or an add-on: order_provision applies each.
        return provision_and_notify(order.pk)
    return None


def receipt_follow_up(receipt: Receipt) -> tuple[ProvisionResult | None, bool]:
    """After a review decision is committed (bot, console or API): tell and deliver.

    Returns the provisioning result (None when nothing was provisioned) and whether
    the follow-up failed. A failure here (Telegram, a panel) must not read as a failed
    review: the decision stands, and the retry job delivers a paid order later.
    """
    try:
        return after_receipt_decision(receipt), False
    except Exception:
        log.exception("follow-up of the decision on receipt %s failed", receipt.pk)
        return None, True


# --- the account's config again ---------------------------------------------------------


def account_resend_config(*, account: ClientAccount, actor, note: str = "") -> bool:
    """Send the customer their config and QR again (bot button, console, API).

    A deleted account is refused (panels.lifecycle.LifecycleError): its config no
    longer works. False if the customer could not be reached on Telegram.
    """
    require_live(account)
    user = account.user
    if not user.telegram_id or user.has_blocked_bot:
        return False
    send_account(account)
    user.refresh_from_db(fields=["has_blocked_bot"])
    if user.has_blocked_bot:
        return False
    record_event(account, AccountEvent.Action.RESEND, actor=actor, note=note)
    return True


# --- panel health ------------------------------------------------------------------------


def panel_health_to_operators() -> int:
    """Tell the operators of every panel that went down or came back, once per transition.

    Each event is claimed (panels.health.health_event_claim) before it is sent, so any
    number of overlapping runs send it once. A panel that is back gets its waiting paid
    orders delivered at once. Returns how many events this run sent.
    """
    sent = 0
    for event in health_events_unsent():
        if not health_event_claim(event):
            continue  # another run has it
        waiting = waiting_orders([event.panel_id]).get(event.panel_id, 0)
        for chat_id in settings.ADMIN_TELEGRAM_IDS:
            with translation.override(_operator_language(chat_id)):
                text = (
                    texts.panel_down(event, waiting)
                    if event.kind == PanelHealthEvent.Kind.DOWN
                    else texts.panel_up(event, waiting)
                )
                try:
                    tg.send_message(chat_id, text)
                except Exception:  # one unreachable operator must not stop the others
                    log.exception("panel health notice to %s failed", chat_id)
        sent += 1
        if event.kind == PanelHealthEvent.Kind.UP:
            for order_id in orders_to_retry(panel_id=event.panel_id):
                provision_and_notify(order_id)
    return sent
