"""The console's home page, dates, language and wording, as an operator reads them."""

import datetime as dt

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.tests.samples import make_panel, make_topup_receipt
from billing.models import Receipt

pytestmark = pytest.mark.django_db

FA = {"HTTP_ACCEPT_LANGUAGE": "fa"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_the_home_page_is_the_work_queue(admin_client, customer):
    older = make_topup_receipt(customer, amount=200_000)
    newer = make_topup_receipt(customer, amount=300_000)
    Receipt.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(hours=5))
    html = admin_client.get(reverse("admin:index"), **EN).content.decode()
    assert 'id="receipts-waiting-count">2<' in html
    # Oldest first, with how long it waited.
    assert html.index(f">#{older.pk}<") < html.index(f">#{newer.pk}<")
    assert "5 h 0 min" in html
    assert "<svg" in html and "Sales over the last 30 days" in html
    assert "View site" not in html  # there is no site to view
    persian = admin_client.get(reverse("admin:index"), **FA).content.decode()
    assert 'id="receipts-waiting-count">۲<' in persian  # counts in Persian digits too


def test_persian_pages_show_jalali_dates_and_tehran_times(admin_client, customer):
    receipt = make_topup_receipt(customer)
    moment = dt.datetime(2026, 12, 4, 8, 30, tzinfo=dt.UTC)  # 12:00 in Tehran
    Receipt.objects.filter(pk=receipt.pk).update(created_at=moment)
    listing = admin_client.get(reverse("admin:billing_receipt_changelist"), **FA)
    html = listing.content.decode()
    assert "۱۴۰۵/۰۹/۱۳ ۱۲:۰۰" in html
    assert "دسامبر" not in html  # no Gregorian month names

    LogEntry.objects.create(
        user=receipt.user, content_type=ContentType.objects.get_for_model(customer),
        object_id=str(customer.pk), object_repr=str(customer), action_flag=CHANGE,
        change_message="Wallet adjusted by +50,000 Toman: goodwill", action_time=moment,
    )  # fmt: skip
    history = admin_client.get(
        reverse("admin:accounts_user_history", args=[customer.pk]), **FA
    ).content.decode()
    assert "۱۴۰۵/۰۹/۱۳ ۱۲:۰۰" in history
    assert "Wallet adjusted by" not in history
    assert "کیف پول به اندازهٔ +50,000 Toman اصلاح شد: goodwill" in history


def test_operators_switch_the_language(admin_client):
    page = admin_client.get(reverse("admin:index"), **FA).content.decode()
    assert 'action="/i18n/setlang/"' in page
    response = admin_client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"}, **FA)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    after = admin_client.get("/admin/", **FA).content.decode()
    assert '<html lang="en" dir="ltr">' in after


def test_permission_names_and_actions_read_in_persian(admin_client, customer):
    page = admin_client.get(
        reverse("admin:accounts_user_change", args=[customer.pk]), **FA
    ).content.decode()
    assert "Can add user" not in page
    assert "امکان افزودن" in page
    # The user's page links to their orders, receipts and accounts.
    assert f"/admin/billing/order/?user__id__exact={customer.pk}" in page
    assert f"/admin/panels/clientaccount/?user__id__exact={customer.pk}" in page

    make_panel()
    panels = admin_client.get(reverse("admin:panels_panel_changelist"), **FA).content.decode()
    assert "های انتخاب شده" not in panels
    assert "حذف موارد انتخاب‌شده از" in panels


def test_the_admin_javascript_catalog_has_the_persian_picker_strings(admin_client):
    js = admin_client.get(reverse("admin:jsi18n"), **FA).content.decode()
    assert "\\u0627\\u0646\\u062a\\u062e\\u0627\\u0628 \\u0647\\u0645\\u0647\\u0654" in js or (
        "انتخاب همهٔ" in js
    )
