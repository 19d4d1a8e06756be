"""Display helpers: Jalali dates, Persian digits, Toman amounts, traffic sizes."""

import datetime as dt
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from moonvpn.formatting import (
    format_amount,
    format_bytes,
    format_date,
    format_number,
    from_jalali,
    is_jalali_leap,
    persian_digits,
    to_jalali,
)

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _media_root():
    """Pure functions: shadow the project conftest's Django-only autouse fixture."""


KNOWN = [
    (dt.date(2024, 3, 20), (1403, 1, 1)),
    (dt.date(2026, 11, 30), (1405, 9, 9)),
    (dt.date(1979, 2, 11), (1357, 11, 22)),
    (dt.date(1970, 1, 1), (1348, 10, 11)),
    (dt.date(2000, 1, 1), (1378, 10, 11)),
    (dt.date(2024, 9, 21), (1403, 6, 31)),
    (dt.date(2024, 9, 22), (1403, 7, 1)),
    # Leap-year edges: 1399, 1403 and 1408 have Esfand 30; 1402 and 1404 do not.
    (dt.date(2021, 3, 20), (1399, 12, 30)),
    (dt.date(2021, 3, 21), (1400, 1, 1)),
    (dt.date(2024, 3, 19), (1402, 12, 29)),
    (dt.date(2025, 3, 20), (1403, 12, 30)),
    (dt.date(2025, 3, 21), (1404, 1, 1)),
    (dt.date(2026, 3, 20), (1404, 12, 29)),
    (dt.date(2026, 3, 21), (1405, 1, 1)),
    (dt.date(2029, 3, 20), (1408, 1, 1)),
    (dt.date(2030, 3, 20), (1408, 12, 30)),
    (dt.date(2024, 2, 29), (1402, 12, 10)),
]


@pytest.mark.parametrize(("gregorian", "jalali"), KNOWN)
def test_known_dates_convert_both_ways(gregorian, jalali):
    assert to_jalali(gregorian) == jalali
    assert from_jalali(*jalali) == gregorian


def test_datetime_converts_by_its_date():
    assert to_jalali(dt.datetime(2026, 11, 30, 23, 59)) == (1405, 9, 9)


def test_leap_years():
    assert [y for y in range(1395, 1412) if is_jalali_leap(y)] == [1395, 1399, 1403, 1408]


def test_round_trip_over_twenty_thousand_consecutive_days():
    day = dt.date(1975, 1, 1)
    previous = to_jalali(day - dt.timedelta(days=1))
    for _ in range(20_000):
        jalali = to_jalali(day)
        assert from_jalali(*jalali) == day
        y, m, d = previous
        assert jalali in ((y, m, d + 1), (y, m + 1, 1), (y + 1, 1, 1)), (day, previous, jalali)
        previous = jalali
        day += dt.timedelta(days=1)


def test_every_jalali_day_of_two_centuries_maps_to_the_next_gregorian_day():
    expected = from_jalali(1300, 1, 1)
    for year in range(1300, 1500):
        for month in range(1, 13):
            last = 31 if month <= 6 else 30 if month <= 11 else 30 if is_jalali_leap(year) else 29
            for day in range(1, last + 1):
                assert from_jalali(year, month, day) == expected
                expected += dt.timedelta(days=1)


@pytest.mark.parametrize(
    "ymd", [(1402, 12, 30), (1403, 13, 1), (1403, 0, 1), (1403, 1, 0), (1403, 7, 31), (1403, 1, 32)]
)
def test_days_that_do_not_exist_are_refused(ymd):
    with pytest.raises(ValueError):
        from_jalali(*ymd)


def test_from_jalali_wants_integers():
    with pytest.raises(TypeError):
        from_jalali(1403.0, 1, 1)


def test_persian_digits_replaces_only_digits():
    assert persian_digits("Order 42, 1403/01/05") == "Order ۴۲, ۱۴۰۳/۰۱/۰۵"
    assert persian_digits("0123456789") == "۰۱۲۳۴۵۶۷۸۹"


@pytest.mark.parametrize(
    ("amount", "lang", "expected"),
    [
        (1_250_000, "fa", "۱٬۲۵۰٬۰۰۰ تومان"),
        (1_250_000, "en", "1,250,000 Toman"),
        (1_250_000, "en-US", "1,250,000 Toman"),
        (1_250_000, "fa-IR", "۱٬۲۵۰٬۰۰۰ تومان"),
        (1_250_000, None, "۱٬۲۵۰٬۰۰۰ تومان"),
        (0, "fa", "۰ تومان"),
        (999, "en", "999 Toman"),
        (-50_000, "en", "-50,000 Toman"),
    ],
)
def test_format_amount(amount, lang, expected):
    assert format_amount(amount, lang) == expected


@pytest.mark.parametrize("amount", [1250000.0, 1.5, Decimal("1000"), "1000", True, None])
def test_format_amount_refuses_anything_but_integer_toman(amount):
    with pytest.raises(TypeError):
        format_amount(amount, "fa")


@pytest.mark.parametrize(
    ("n", "lang", "expected"),
    [
        (1_234_567, "fa", "۱٬۲۳۴٬۵۶۷"),
        (1_234_567, "en", "1,234,567"),
        (7, "fa", "۷"),
        (2.5, "fa", "۲٫۵"),
        (2.5, "en", "2.5"),
        (1234.567, "en", "1,234.57"),
        (Decimal("3.10"), "en", "3.1"),
        (3.0, "en", "3"),
    ],
)
def test_format_number(n, lang, expected):
    assert format_number(n, lang) == expected


def test_format_number_refuses_non_numbers():
    for value in ("12", True, None):
        with pytest.raises(TypeError):
            format_number(value, "en")


GIB = 1024**3
MIB = 1024**2


@pytest.mark.parametrize(
    ("n", "lang", "expected"),
    [
        (0, "en", "0 MB"),
        (512 * MIB, "en", "512 MB"),
        (512 * MIB, "fa", "۵۱۲ مگابایت"),
        (int(1.5 * MIB), "en", "1.5 MB"),
        (GIB, "en", "1 GB"),
        (GIB - 1, "en", "1 GB"),  # would round to "1024 MB"
        (int(1.5 * GIB), "en", "1.5 GB"),
        (int(1.5 * GIB), "fa", "۱٫۵ گیگابایت"),
        (50 * GIB, "fa", "۵۰ گیگابایت"),
        (GIB + 10 * MIB, "en", "1.01 GB"),
        (1_234_567_890_123, "en", "1,149.78 GB"),
        (1_234_567_890_123, "fa", "۱٬۱۴۹٫۷۸ گیگابایت"),
    ],
)
def test_format_bytes(n, lang, expected):
    assert format_bytes(n, lang) == expected


def test_format_bytes_refuses_floats_and_negatives():
    with pytest.raises(TypeError):
        format_bytes(1.5 * GIB, "en")
    with pytest.raises(ValueError):
        format_bytes(-1, "en")


def test_format_date():
    assert format_date(dt.date(2026, 11, 30), "fa") == "۱۴۰۵/۰۹/۰۹"
    assert format_date(dt.date(2026, 11, 30), "en") == "2026-11-30"
    assert format_date(dt.date(2024, 3, 20), "fa") == "۱۴۰۳/۰۱/۰۱"
    assert format_date(dt.datetime(2026, 11, 30, 23, 30), "fa") == "۱۴۰۵/۰۹/۰۹"
    with pytest.raises(TypeError):
        format_date("2026-11-30", "en")


def _run_without_django_settings(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


AWARE = "dt.datetime(2026, 11, 29, 22, 0, tzinfo=dt.UTC)"  # 01:30 on the 30th in Tehran


def test_aware_datetime_is_used_as_is_without_django_settings():
    out = _run_without_django_settings(
        f"""
        import datetime as dt
        from moonvpn.formatting import format_date
        print(format_date({AWARE}, "en"), format_date({AWARE}, "fa"))
        """
    )
    assert out == "2026-11-29 ۱۴۰۵/۰۹/۰۸"


def test_aware_datetime_is_shown_in_djangos_current_time_zone():
    out = _run_without_django_settings(
        f"""
        import datetime as dt
        from django.conf import settings
        settings.configure(USE_TZ=True, TIME_ZONE="Asia/Tehran")
        from moonvpn.formatting import format_date
        print(format_date({AWARE}, "en"), format_date({AWARE}, "fa"))
        """
    )
    assert out == "2026-11-30 ۱۴۰۵/۰۹/۰۹"
