"""Formatting helpers every text uses, and the texts of no one conversation
(menu, help, language, errors, stale buttons)."""

from html import escape

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from moonvpn.formatting import format_amount, format_bytes, format_date, format_number

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


# Why a button from an old message no longer works (the same words billing uses).
STALE_PLAN = gettext_lazy("This plan is no longer sold.")
STALE_LOCATION = gettext_lazy("This location is no longer offered.")
STALE_PROTOCOL = gettext_lazy("This protocol is no longer offered.")
