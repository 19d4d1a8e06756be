"""What operators read: panel down/up alerts, receipts to review, reject reasons."""

from html import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from botapp.texts.common import date, lines, money, num, order_ref

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


# Preset reasons an operator can reject a receipt with, by the code in the button.
REJECT_REASONS = {
    "amount": gettext_lazy("The amount does not match the order."),
    "notfound": gettext_lazy("The payment was not found in our account."),
    "unreadable": gettext_lazy("The image is not readable."),
    "reused": gettext_lazy("This receipt was already used."),
}
