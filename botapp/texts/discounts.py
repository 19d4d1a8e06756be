"""Discount codes on an order: the price lines, typing a code, its answer."""

from html import escape

from django.utils.translation import gettext as _

from botapp.texts.common import money, order_ref

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
