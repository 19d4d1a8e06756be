"""My services: the list, one service's page, the subscription link."""

import math
from html import escape

from django.utils import timezone
from django.utils.translation import gettext as _

from botapp.texts.common import date, lang, lines, num, traffic
from moonvpn.formatting import format_bytes

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
