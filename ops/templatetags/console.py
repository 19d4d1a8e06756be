"""Template filters for the console: Jalali dates, waiting times, Toman, LTR isolation."""

import re

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.admin import toman as _toman
from moonvpn.formatting import persian_digits
from ops.console import console_datetime, is_persian, ltr

register = template.Library()


@register.filter
def jdatetime(value):
    """A date/datetime: Jalali date and local time in Persian, Django's format in English."""
    return console_datetime(value)


def _digits(text: str) -> str:
    return persian_digits(text) if is_persian() else text


@register.filter
def waited(value):
    """How long ago ``value`` was, in the largest whole unit: "3 h 20 min", "2 days"."""
    if not value:
        return ""
    seconds = max(int((timezone.now() - value).total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        text = _("%(days)s d %(hours)s h") % {"days": days, "hours": hours - days * 24}
    elif hours:
        text = _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes - hours * 60}
    else:
        text = _("%(minutes)s min") % {"minutes": minutes}
    return _digits(text)


@register.filter
def digits(value):
    """A count as the reader writes it: Persian digits in Persian."""
    return _digits(str(value))


@register.filter
def toman(value):
    return _toman(value)


@register.filter(name="ltr")
def ltr_filter(value):
    return ltr(value)


# Our own history lines are stored in English (a row outlives the language of whoever
# wrote it) and shown in the reader's language. Older rows written in Persian match too.
_HISTORY = (
    (re.compile(r"^Approved the receipt\.$"), gettext_noop("Approved the receipt.")),
    (re.compile(r"^Rejected the receipt: (?P<reason>.*)$", re.S),
     gettext_noop("Rejected the receipt: %(reason)s")),
    (re.compile(r"^Wallet adjusted by (?P<amount>.+?): (?P<note>.*)$", re.S),
     gettext_noop("Wallet adjusted by %(amount)s: %(note)s")),
    (re.compile(r"^کیف پول به اندازهٔ (?P<amount>.+?) اصلاح شد: (?P<note>.*)$", re.S),
     gettext_noop("Wallet adjusted by %(amount)s: %(note)s")),
)  # fmt: skip


@register.filter
def history_line(message):
    text = str(message)
    for pattern, msgid in _HISTORY:
        match = pattern.match(text)
        if match:
            return _(msgid) % match.groupdict() if match.groupdict() else _(msgid)
    return text
