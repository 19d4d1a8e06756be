"""Display helpers for bot texts: Jalali dates, Persian digits, Toman, traffic.

Persian ("fa") is the default; any language code starting with "en" gets English.
Importable without Django settings: Django is only consulted, lazily, to move an
aware datetime into the current time zone.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import ROUND_HALF_UP, Decimal
from numbers import Integral

__all__ = [
    "format_amount",
    "format_bytes",
    "format_date",
    "format_number",
    "from_jalali",
    "is_jalali_leap",
    "persian_digits",
    "to_jalali",
]

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FA_THOUSANDS = "٬"  # U+066C ARABIC THOUSANDS SEPARATOR
FA_DECIMAL = "٫"  # U+066B ARABIC DECIMAL SEPARATOR

GIB = 1024**3  # 3x-ui counts totalGB in units of 1024³ bytes
MIB = 1024**2


def _is_en(lang: str | None) -> bool:
    return isinstance(lang, str) and lang.lower().startswith("en")


# --- Jalali calendar -------------------------------------------------------------
#
# The arithmetic of Kazimierz Borkowski as published in jalaali-js (the one
# moment-jalaali and most Iranian software use): leap years follow 33-year cycles
# whose starting points ("breaks") are fitted to the astronomical calendar, so it
# agrees with the official calendar for years -61 .. 3177 AP.

_BREAKS = (
    -61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210,
    1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178,
)  # fmt: skip
_MONTH_DAYS = (31, 31, 31, 31, 31, 31, 30, 30, 30, 30, 30, 29)


def _div(a: int, b: int) -> int:
    # The published algorithm truncates toward zero, unlike Python's //.
    return int(a / b)


def _mod(a: int, b: int) -> int:
    return a - _div(a, b) * b


def _jal_cal(jy: int) -> tuple[int, int, int]:
    """(years since the last leap year (0 = leap), Gregorian year, March day of Nowruz)."""
    if not _BREAKS[0] <= jy < _BREAKS[-1]:
        raise ValueError(f"Jalali year {jy} is outside {_BREAKS[0]}..{_BREAKS[-1] - 1}")
    gy = jy + 621
    leap_j = -14
    jp = _BREAKS[0]
    jump = 0
    for jm in _BREAKS[1:]:
        jump = jm - jp
        if jy < jm:
            break
        leap_j += _div(jump, 33) * 8 + _div(_mod(jump, 33), 4)
        jp = jm
    n = jy - jp
    leap_j += _div(n, 33) * 8 + _div(_mod(n, 33) + 3, 4)
    if _mod(jump, 33) == 4 and jump - n == 4:
        leap_j += 1
    leap_g = _div(gy, 4) - _div((_div(gy, 100) + 1) * 3, 4) - 150
    march = 20 + leap_j - leap_g
    if jump - n < 6:
        n = n - jump + _div(jump + 4, 33) * 33
    leap = _mod(_mod(n + 1, 33) - 1, 4)
    if leap == -1:
        leap = 4
    return leap, gy, march


def is_jalali_leap(jy: int) -> bool:
    """Whether Esfand of Jalali year ``jy`` has 30 days."""
    return _jal_cal(jy)[0] == 0


def to_jalali(d: dt.date) -> tuple[int, int, int]:
    """Gregorian date (or datetime, by its date) -> (year, month, day) in the Jalali calendar."""
    if not isinstance(d, dt.date):
        raise TypeError(f"expected a date, not {type(d).__name__}")
    ordinal = d.toordinal()
    jy = d.year - 621
    leap, gy, march = _jal_cal(jy)
    k = ordinal - dt.date(gy, 3, march).toordinal()
    if k >= 0:
        if k <= 185:
            return jy, 1 + k // 31, k % 31 + 1
        k -= 186
    else:
        # Before Nowruz: still the previous Jalali year, months 10-12.
        jy -= 1
        k += 179
        if _jal_cal(jy)[0] == 0:
            k += 1
    return jy, 7 + k // 30, k % 30 + 1


def from_jalali(y: int, m: int, d: int) -> dt.date:
    """Jalali (year, month, day) -> Gregorian date; ValueError for a day that does not exist."""
    for value in (y, m, d):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError("Jalali year, month and day must be integers")
    if not 1 <= m <= 12:
        raise ValueError(f"Jalali month {m} is not 1..12")
    leap, gy, march = _jal_cal(y)
    last = 30 if m == 12 and leap == 0 else _MONTH_DAYS[m - 1]
    if not 1 <= d <= last:
        raise ValueError(f"Jalali {y}/{m:02d} has no day {d}")
    days = (m - 1) * 31 - (m // 7) * (m - 7) + d - 1
    return dt.date.fromordinal(dt.date(gy, 3, march).toordinal() + days)


# --- Numbers ----------------------------------------------------------------------


def persian_digits(s: str) -> str:
    """Replace ASCII digits 0-9 with Persian digits ۰-۹; everything else is kept."""
    return str(s).translate(_PERSIAN_DIGITS)


def _localise(text: str, lang: str | None) -> str:
    """``text`` uses "," for thousands and "." for decimals; fa gets Persian ones."""
    if _is_en(lang):
        return text
    text = text.replace(",", FA_THOUSANDS).replace(".", FA_DECIMAL)
    return persian_digits(text)


def _require_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return int(value)


def format_amount(amount: int, lang: str) -> str:
    """An amount of Toman: "1,250,000 Toman" / "۱٬۲۵۰٬۰۰۰ تومان".

    Floats (and Decimals) are refused: money is kept as integer Toman everywhere, so
    a float here is a bug upstream, not something to round away.
    """
    amount = _require_int(amount, "amount")
    if _is_en(lang):
        return f"{amount:,} Toman"
    return f"{_localise(f'{amount:,}', lang)} تومان"


def format_number(n: int | float | Decimal, lang: str) -> str:
    """A count or quantity with thousands separators (up to 2 decimals if not whole)."""
    if isinstance(n, bool) or not isinstance(n, (Integral, float, Decimal)):
        raise TypeError(f"expected a number, not {type(n).__name__}")
    if isinstance(n, Integral):
        text = f"{int(n):,}"
    else:
        text = _two_decimals(Decimal(str(n)) if isinstance(n, float) else n)
    return _localise(text, lang)


def _two_decimals(value: Decimal) -> str:
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_bytes(n: int, lang: str) -> str:
    """Traffic: GB (1024³) with up to 2 decimals, MB below 1 GB; "1.5 GB" / "۱٫۵ گیگابایت"."""
    n = _require_int(n, "byte count")
    if n < 0:
        raise ValueError(f"byte count cannot be negative ({n})")
    megabytes = (Decimal(n) / MIB).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if n >= GIB or megabytes >= 1024:
        value, unit_en, unit_fa = Decimal(n) / GIB, "GB", "گیگابایت"
    else:
        value, unit_en, unit_fa = megabytes, "MB", "مگابایت"
    number = _localise(_two_decimals(value), lang)
    return f"{number} {unit_en if _is_en(lang) else unit_fa}"


# --- Dates ------------------------------------------------------------------------


def _local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in Django's current time zone, if Django is set up."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
        from django.utils import timezone
    except ImportError:
        return value
    try:
        if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
            # A plain script or the tests without Django: no time zone to convert to.
            return value
        return timezone.localtime(value)
    except ImproperlyConfigured:
        return value


def format_date(value: dt.date | dt.datetime, lang: str) -> str:
    """fa: Jalali "۱۴۰۵/۰۹/۰۹"; en: ISO "2026-11-30". A datetime is shown by its local date."""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    elif not isinstance(value, dt.date):
        raise TypeError(f"expected a date or datetime, not {type(value).__name__}")
    if _is_en(lang):
        return value.isoformat()
    y, m, d = to_jalali(value)
    return persian_digits(f"{y:04d}/{m:02d}/{d:02d}")
