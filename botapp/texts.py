"""Every text the bot sends, in one place.

Msgids are English; the Persian is in locale/fa. Callers activate the reader's
language (``translation.override(user.language)``) and call these; numbers, amounts
and dates go through moonvpn.formatting so Persian gets Persian digits and Jalali
dates. Texts are HTML (the bot always sends parse_mode HTML), so anything that came
from a person (a plan name, a customer's name, a reject reason) is escaped here.
"""

import math
from html import escape

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from moonvpn.formatting import format_amount, format_bytes, format_date, format_number
from panels import subscription

# --- buttons ------------------------------------------------------------------------

BTN_BUY = gettext_lazy("🛒 Buy a service")
BTN_SERVICES = gettext_lazy("📦 My services")
BTN_WALLET = gettext_lazy("👛 Wallet")
BTN_HELP = gettext_lazy("❓ Help")
BTN_LANGUAGE = gettext_lazy("🌐 Language")
BTN_MENU = gettext_lazy("🏠 Main menu")
BTN_BACK = gettext_lazy("« Back")
BTN_CANCEL = gettext_lazy("✖️ Cancel")
BTN_PAY_WALLET = gettext_lazy("👛 Pay from wallet")
BTN_PAY_RECEIPT = gettext_lazy("💳 Pay by card (receipt)")
BTN_TOPUP = gettext_lazy("➕ Top up wallet")
BTN_TOPUP_TYPE = gettext_lazy("✏️ Type an amount")
BTN_RESEND = gettext_lazy("📲 Send config and QR again")
BTN_SUB_NEW = gettext_lazy("🔄 New subscription link")
BTN_APPROVE = gettext_lazy("✅ Approve")
BTN_TRIAL = gettext_lazy("🎁 Free trial")
BTN_INVITE = gettext_lazy("👥 Invite friends")
BTN_DISCOUNT = gettext_lazy("🏷 Discount code")
BTN_JOIN = gettext_lazy("📢 Join the channel")
BTN_JOINED = gettext_lazy("✅ I joined")
BTN_REJECT = gettext_lazy("❌ Reject")

# Why a button from an old message no longer works (the same words billing uses).
STALE_PLAN = gettext_lazy("This plan is no longer sold.")
STALE_LOCATION = gettext_lazy("This location is no longer offered.")
STALE_PROTOCOL = gettext_lazy("This protocol is no longer offered.")

# Preset reasons an operator can reject a receipt with, by the code in the button.
REJECT_REASONS = {
    "amount": gettext_lazy("The amount does not match the order."),
    "notfound": gettext_lazy("The payment was not found in our account."),
    "unreadable": gettext_lazy("The image is not readable."),
    "reused": gettext_lazy("This receipt was already used."),
}

# --- formatting helpers --------------------------------------------------------------


def lang() -> str:
    return translation.get_language() or "fa"


def num(n: int) -> str:
    return format_number(n, lang())


def money(amount: int) -> str:
    return format_amount(amount, lang())


def date(value) -> str:
    return format_date(value, lang())


def traffic(n_bytes: int) -> str:
    return format_bytes(n_bytes, lang()) if n_bytes else _("Unlimited")


def order_ref(order) -> str:
    return f"#{num(order.pk)}"


def days(n: int) -> str:
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": num(n)}


def plan_button(plan) -> str:
    return f"{plan.name} · {days(plan.duration_days)} · {traffic(plan.traffic_bytes)} · " + (
        money(plan.price)
    )


def lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part is not None)


# --- general ---------------------------------------------------------------------------


def menu(user) -> str:
    name = escape(user.first_name or user.telegram_username or "")
    greeting = _("Welcome to MoonVPN, %(name)s!") % {"name": name} if name else None
    return lines(greeting or _("Welcome to MoonVPN!"), _("Choose what you would like to do:"))


def help_text() -> str:
    return lines(
        _("<b>MoonVPN</b> sells fast, private VPN service right here in Telegram."),
        "",
        _("🛒 <b>Buy</b>: choose a plan, a location and a protocol, then pay from your "
          "wallet or by card transfer with a photo of the receipt. You get your config "
          "link, subscription link and QR code here."),
        _("📦 <b>My services</b>: usage, days left and your config again."),
        _("👛 <b>Wallet</b>: your balance and top-ups."),
        _("🌐 <b>Language</b>: فارسی or English."),
    )  # fmt: skip


def choose_language() -> str:
    return _("Choose your language:")


def language_set() -> str:
    return _("Your language is now English.")


def blocked() -> str:
    return _("Your account has been blocked by an operator. Please contact support.")


def something_went_wrong() -> str:
    return _("Something went wrong. Please try again.")


def invalid_button() -> str:
    return _("This button is no longer valid.")


def not_yours() -> str:
    return _("This is not yours.")


def choose_again(reason: str) -> str:
    return lines(f"⚠️ {escape(str(reason))}", _("Nothing was charged. Please choose again:"))


# --- buying ----------------------------------------------------------------------------


def choose_plan() -> str:
    return _("Choose a plan:")


def no_plans() -> str:
    return _("No plans are on sale right now. Please try again later.")


def choose_location(plan) -> str:
    return lines(_("Plan: %(plan)s") % {"plan": escape(plan.name)}, _("Choose a location:"))


def no_locations() -> str:
    return _("No location has room for this plan right now. Please try again later.")


def choose_protocol(plan, panel) -> str:
    return lines(
        _("Plan: %(plan)s") % {"plan": escape(plan.name)},
        _("Location: %(location)s") % {"location": escape(panel.location_label)},
        _("Choose a protocol:"),
    )


def no_protocols() -> str:
    return _("This location offers no protocol for this plan right now.")


def summary(order, balance: int) -> str:
    plan, inbound = order.plan, order.inbound
    enough = balance >= order.amount
    return lines(
        _("🧾 <b>Order %(order)s</b>") % {"order": order_ref(order)},
        _("Plan: %(plan)s") % {"plan": escape(plan.name)},
        _("Duration: %(days)s") % {"days": days(plan.duration_days)},
        _("Traffic: %(traffic)s") % {"traffic": traffic(plan.traffic_bytes)},
        _("Location: %(location)s") % {"location": escape(order.panel.location_label)},
        _("Protocol: %(protocol)s") % {"protocol": escape(inbound.label)},
        price_line(order),
        discount_line(order),
        _("Your wallet: %(balance)s") % {"balance": money(balance)},
        None
        if enough
        else "\n" + _("Your wallet is not enough for this order: top it up or pay by card."),
    )


def order_cancelled(order) -> str:
    return _("Order %(order)s was cancelled.") % {"order": order_ref(order)}


def not_enough_balance(order, balance: int) -> str:
    return _("Your wallet (%(balance)s) is not enough for %(price)s.") % {
        "balance": money(balance),
        "price": money(order.amount),
    }


def paid_from_wallet(order) -> str:
    return _(
        "✅ %(amount)s was paid from your wallet for order %(order)s. Setting up your service…"
    ) % {"amount": money(order.amount), "order": order_ref(order)}


def being_set_up(order) -> str:
    return _(
        "✅ Your payment for order %(order)s has arrived. Your service is being set up; "
        "you will receive it here as soon as it is ready."
    ) % {"order": order_ref(order)}


def refunded(order, balance: int) -> str:
    return _(
        "We could not set up your service for order %(order)s, so %(amount)s was "
        "returned to your wallet. Your balance is now %(balance)s. Sorry for the trouble."
    ) % {"order": order_ref(order), "amount": money(order.amount), "balance": money(balance)}


def delivery(account) -> str:
    parts = [
        _("🎉 <b>Your service is ready!</b>"),
        "",
        _("Plan: %(plan)s") % {"plan": escape(account.plan.name)},
        _("Location: %(location)s") % {"location": escape(account.panel.location_label)},
        _("Protocol: %(protocol)s") % {"protocol": escape(account.inbound.label)},
        _("Traffic: %(traffic)s") % {"traffic": traffic(account.traffic_limit_bytes)},
    ]
    if account.expires_at:
        parts.append(_("Expires: %(date)s") % {"date": date(account.expires_at)})
    parts += ["", _("Config link (tap to copy):"), f"<code>{escape(account.config_url)}</code>"]
    one = subscription.subscription_url(user=account.user)
    if one:
        parts += [
            "",
            _("Your subscription (all your services, kept up to date):"),
            f"<code>{escape(one)}</code>",
        ]
    if account.subscription_url:
        parts += [
            "",
            _("This server's subscription link:"),
            f"<code>{escape(account.subscription_url)}</code>",
        ]
    return lines(*parts)


def qr_caption() -> str:
    return _("Scan this QR code in your VPN app.")


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


# --- the wallet -------------------------------------------------------------------------


def wallet(balance: int, history=()) -> str:
    parts = [_("👛 <b>Your wallet</b>"), _("Balance: %(balance)s") % {"balance": money(balance)}]
    if history:
        parts += ["", _("<b>Last transactions</b> (date · kind · amount · balance after):")]
        for row in history:
            sign = "+" if row.amount > 0 else "−"
            parts.append(
                f"{date(row.created_at)} · {escape(str(row.get_kind_display()))} · "
                f"{sign}{money(abs(row.amount))} · {money(row.balance_after)}"
            )
    return lines(*parts)


def choose_topup(minimum: int, maximum: int) -> str:
    return _("Choose an amount to add, or type one between %(min)s and %(max)s.") % {
        "min": money(minimum),
        "max": money(maximum),
    }


def type_topup(minimum: int, maximum: int) -> str:
    return _("Type the amount in Toman: a whole number between %(min)s and %(max)s.") % {
        "min": money(minimum),
        "max": money(maximum),
    }


def bad_topup(minimum: int, maximum: int) -> str:
    return _("Please type a whole number of Toman between %(min)s and %(max)s.") % {
        "min": money(minimum),
        "max": money(maximum),
    }


# --- my services ------------------------------------------------------------------------


def services_title(subscription_url: str = "") -> str:
    if not subscription_url:
        return _("📦 Your services:")
    return lines(
        _("📦 Your services:"),
        "",
        _("Your subscription (all your services in one link for your VPN app):"),
        f"<code>{escape(subscription_url)}</code>",
    )


def subscription_renewed() -> str:
    return _("Your subscription link was replaced; the old one no longer works.")


def no_services() -> str:
    return _("You have no services yet. Choose Buy to get one.")


def account_button(account) -> str:
    expiry = date(account.expires_at) if account.expires_at else "∞"
    return (
        f"{account.panel.location_label} · {account.inbound.label} · "
        f"{account.get_status_display()} · {expiry}"
    )


def account_page(account, usage: dict | None) -> str:
    """``usage`` is the panel's live answer (used, total, expires_at, enabled) or None."""
    live = usage is not None
    if not live:
        usage = {
            "used": account.used_bytes,
            "total": account.traffic_limit_bytes,
            "expires_at": account.expires_at,
            "enabled": account.panel_enabled,
        }
    parts = [
        f"📦 <b>{escape(account.plan.name)}</b>",
        _("Location: %(location)s") % {"location": escape(account.panel.location_label)},
        _("Protocol: %(protocol)s") % {"protocol": escape(account.inbound.label)},
        _("Status: %(status)s") % {"status": account.get_status_display()},
        _("Used: %(used)s of %(total)s")
        % {"used": format_bytes(usage["used"], lang()), "total": traffic(usage["total"])},
    ]
    expires_at = usage["expires_at"]
    if expires_at:
        # A 30-day account bought a minute ago has 30 days left, not 29.
        left = max(0, math.ceil((expires_at - timezone.now()).total_seconds() / 86400))
        parts.append(_("Days left: %(days)s") % {"days": num(left)})
        parts.append(_("Expires: %(date)s") % {"date": date(expires_at)})
    parts.append(_("Enabled: %(yes)s") % {"yes": _("yes") if usage["enabled"] else _("no")})
    if not live:
        synced = account.last_synced_at or account.created_at
        parts += [
            "",
            _("⚠️ The server is not answering right now; these are the figures of %(date)s.")
            % {"date": date(synced)},
        ]
    return lines(*parts)


# --- operators ---------------------------------------------------------------------------


def _when(value) -> str:
    local = timezone.localtime(value)
    return f"{date(local)} {num(local.hour)}:{num(local.minute // 10)}{num(local.minute % 10)}"


def panel_down(event, waiting: int) -> str:
    panel = event.panel
    return lines(
        _("🔴 <b>Panel down: %(name)s</b>") % {"name": escape(panel.name)},
        _("Location: %(location)s") % {"location": escape(panel.location_label)},
        _("Error: %(what)s (%(error)s)")
        % {"what": panel.get_health_display(), "error": escape(event.error or "—")},
        _("Since: %(time)s") % {"time": _when(event.since or event.created_at)},
        _("Paid orders waiting on it: %(count)s") % {"count": num(waiting)},
        _("Its locations are off the shop until it answers again."),
    )


def panel_up(event, waiting: int) -> str:
    panel = event.panel
    parts = [
        _("🟢 <b>Panel back: %(name)s</b>") % {"name": escape(panel.name)},
        _("Location: %(location)s") % {"location": escape(panel.location_label)},
    ]
    if event.since:
        parts.append(
            _("Down from %(start)s to %(end)s")
            % {"start": _when(event.since), "end": _when(event.created_at)}
        )
    parts.append(
        _("Paid orders waiting on it: %(count)s (being delivered now)") % {"count": num(waiting)}
    )
    return lines(*parts)


def receipt_for_operators(receipt) -> str:
    order, user = receipt.order, receipt.user
    handle = f" @{escape(user.telegram_username)}" if user.telegram_username else ""
    if order.kind == order.Kind.TOPUP:
        what = _("wallet top-up")
    else:
        what = " · ".join(
            escape(part)
            for part in (
                order.plan.name if order.plan else "",
                order.panel.location_label if order.panel else "",
                order.inbound.label if order.inbound else "",
            )
            if part
        )
    parts = [
        _("🧾 <b>New receipt %(receipt)s</b>") % {"receipt": f"#{num(receipt.pk)}"},
        _("Customer: %(name)s%(handle)s (id %(id)s)")
        % {
            "name": escape(user.get_full_name() or user.username),
            "handle": handle,
            "id": user.telegram_id,
        },
        _("Order %(order)s: %(what)s") % {"order": order_ref(order), "what": what},
        _("Amount: <b>%(amount)s</b>") % {"amount": money(receipt.amount)},
    ]
    if receipt.duplicate_of_id:
        earlier = receipt.duplicate_of
        parts += [
            "",
            _("⚠️ The same image was already sent as receipt %(receipt)s (order %(order)s).")
            % {"receipt": f"#{num(earlier.pk)}", "order": f"#{num(earlier.order_id)}"},
        ]
    return lines(*parts)


def reviewed_by(receipt, reviewer) -> str:
    name = escape(reviewer.display_name if reviewer else "")
    if receipt.status == receipt.Status.APPROVED:
        return _("✅ Approved by %(name)s.") % {"name": name}
    return _("❌ Rejected by %(name)s: %(reason)s") % {
        "name": name,
        "reason": escape(receipt.reject_reason),
    }


def operators_only() -> str:
    return _("Only operators can review receipts.")


def already_reviewed() -> str:
    return _("This receipt was already reviewed.")


# Renewals and add-ons (botapp.renewal, botapp.keyboards).
BTN_RENEW = gettext_lazy("🔄 Renew")
BTN_ADDONS = gettext_lazy("➕ Extra traffic or days")
BTN_MY_SERVICE = gettext_lazy("📦 My service")


# --- discount codes -------------------------------------------------------------------


def price_line(order) -> str:
    if order.discount_amount:
        return _("Price: <s>%(old)s</s> <b>%(price)s</b>") % {
            "old": money(order.amount + order.discount_amount),
            "price": money(order.amount),
        }
    return _("Price: <b>%(price)s</b>") % {"price": money(order.amount)}


def discount_line(order) -> str | None:
    if not order.discount_code_id:
        return None
    return _("🏷 Discount code %(code)s: −%(off)s") % {
        "code": f"<code>{escape(order.discount_code.code)}</code>",
        "off": money(order.discount_amount),
    }


def type_discount_code() -> str:
    return _("🏷 Type your discount code:")


def discount_applied() -> str:
    return _("✅ The discount code was applied.")


def discount_rejected(reason) -> str:
    return f"⚠️ {escape(str(reason))}"


def paid_free(order) -> str:
    return _("✅ Order %(order)s costs nothing. Setting up your service…") % {
        "order": order_ref(order)
    }


# --- the free trial -----------------------------------------------------------------------


def trial_started() -> str:
    return _("🎁 Your free trial is being set up…")


def trial_used() -> str:
    return _("You have already used your free trial. Choose a plan to buy instead:")


def no_trial() -> str:
    return _("No free trial is offered right now.")


# --- invites ----------------------------------------------------------------------------


def invite(link: str, invited: int, earned: int, percent: int) -> str:
    return lines(
        _("👥 <b>Invite friends</b>"),
        _("Share your link. When a friend you invited pays for a service, you get "
          "%(percent)s%% of it in your wallet.") % {"percent": num(percent)},
        "",
        f"<code>{escape(link)}</code>",
        "",
        _("Friends invited: %(n)s") % {"n": num(invited)},
        _("Rewards earned: %(amount)s") % {"amount": money(earned)},
    )  # fmt: skip


def referral_rewarded(amount: int, balance: int) -> str:
    return _(
        "🎉 A friend you invited paid for a service: %(amount)s was added to your wallet. "
        "Your balance is now %(balance)s."
    ) % {"amount": money(amount), "balance": money(balance)}


# --- the required channel -------------------------------------------------------------------


def join_channel(channel: str) -> str:
    return _("📢 Please join our channel %(channel)s first, then press “I joined”.") % {
        "channel": escape(channel)
    }


def not_joined_yet() -> str:
    return _("You have not joined the channel yet.")
