"""The wallet screen: balance, history and topping up."""

from html import escape

from django.utils.translation import gettext as _

from botapp.texts.common import date, lines, money

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
