"""How the console shows dates: Solar Hijri (Jalali) dates and local times in Persian.

Django's admin formats dates with the Gregorian calendar whatever the language. The
console's columns, read-only fields, history rows and templates go through
``console_datetime`` instead: in Persian "۱۴۰۵/۰۹/۱۳ ۱۴:۲۰" (Tehran time, the
project's TIME_ZONE), in English Django's own format.
"""

import datetime as dt

from django.contrib.admin import helpers, utils
from django.contrib.admin.templatetags import admin_list
from django.db import models
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_noop

from moonvpn.formatting import format_date, persian_digits


def is_persian() -> bool:
    return not (get_language() or "fa").lower().startswith("en")


def console_datetime(value) -> str:
    """A date or datetime as the operator reads it, in the current language."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        if not is_persian():
            return formats.localize(local)
        return f"{format_date(local, 'fa')} {persian_digits(local.strftime('%H:%M'))}"
    if isinstance(value, dt.date):
        return format_date(value, "fa") if is_persian() else formats.localize(value)
    return str(value)


def ltr(value) -> str:
    """Left-to-right isolation for a URL, e-mail, link or a number with its unit."""
    return format_html('<bdi dir="ltr">{}</bdi>', value)


_stock_display_for_field = utils.display_for_field


def display_for_field(value, field, empty_value_display, avoid_link=False):
    if value is not None and isinstance(field, (models.DateTimeField, models.DateField)):
        return console_datetime(value)
    return _stock_display_for_field(value, field, empty_value_display, avoid_link)


_stock_display_for_value = utils.display_for_value


def display_for_value(value, empty_value_display, boolean=False):
    if not boolean and isinstance(value, (dt.datetime, dt.date)):
        return console_datetime(value)
    return _stock_display_for_value(value, empty_value_display, boolean)


def install() -> None:
    """Route the admin's date columns and read-only fields through console_datetime."""
    admin_list.display_for_field = display_for_field
    admin_list.display_for_value = display_for_value
    helpers.display_for_field = display_for_field
    helpers.display_for_value = display_for_value


# Django's own Persian for its delete action reads "حذف پنل‌ها های انتخاب شده"; our
# catalog (locale/fa) gives it a grammatical one. Listed here so makemessages keeps it.
gettext_noop("Delete selected %(verbose_name_plural)s")
