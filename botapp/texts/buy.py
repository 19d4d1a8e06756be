"""Buying a service: plan, location, protocol, the summary, payment from the wallet, delivery."""

from html import escape

from django.utils.translation import gettext as _

from botapp.texts.common import date, days, lines, money, order_ref, traffic
from botapp.texts.discounts import discount_line, price_line
from panels import subscription

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
