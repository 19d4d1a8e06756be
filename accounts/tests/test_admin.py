"""The operator console as a whole, and the user pages (balance, adjust wallet)."""

import uuid

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.test import RequestFactory
from django.urls import reverse

from accounts.tests.samples import make_topup_receipt, make_world
from billing.models import WalletTransaction
from panels.models import Inbound
from panels.sync import panel_sync
from panels.xui import PanelConfig, XuiClient

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def world(staff_user, customer):
    return make_world(staff_user, customer)


@pytest.mark.parametrize("language", ["fa", "en"])
def test_every_admin_page_loads_for_a_superuser(client, world, language):
    client.force_login(world.staff)
    request = RequestFactory().get("/admin/")
    request.user = world.staff
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    for model, model_admin in registered():
        obj = model._default_manager.first()
        assert obj is not None, f"make_world() has no {model._meta.label}: add one"

        response = client.get(admin_url(model, "changelist"), **headers)
        assert response.status_code == 200, model._meta.label
        assert response.headers["Content-Language"] == language

        response = client.get(admin_url(model, "change", quote(obj.pk)), **headers)
        assert response.status_code == 200, model._meta.label

        if model_admin.has_add_permission(request):
            response = client.get(admin_url(model, "add"), **headers)
            assert response.status_code == 200, model._meta.label


def test_admin_search_and_filters_answer(client, world):
    client.force_login(world.staff)
    for model, model_admin in registered():
        if model_admin.search_fields:
            for term in ("1001", "sara", "#1"):
                response = client.get(admin_url(model, "changelist"), {"q": term})
                assert response.status_code == 200, (model._meta.label, term)


def test_a_customer_cannot_open_the_admin(client, world):
    client.force_login(world.customer)
    urls = [reverse("admin:index")]
    for model, _model_admin in registered():
        obj = model._default_manager.first()
        urls += [admin_url(model, "changelist"), admin_url(model, "change", quote(obj.pk))]
    urls += [
        reverse("admin:accounts_user_adjust_wallet", args=[world.customer.pk]),
        reverse("admin:billing_receipt_image", args=[world.receipt.pk]),
        reverse("admin:billing_receipt_reject", args=[world.receipt.pk]),
        reverse("admin:panels_clientaccount_qr", args=[world.account.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith(reverse("admin:login")), url


def test_anonymous_visitor_is_sent_to_login(client, world):
    response = client.get(admin_url(type(world.receipt), "changelist"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("admin:login"))


# --- users -----------------------------------------------------------------------------


def test_user_page_shows_balance_read_only_and_an_adjust_button(admin_client, customer):
    url = admin_url(type(customer), "change", customer.pk)
    response = admin_client.get(url, **EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="balance"' not in html
    assert "0 Toman" in html
    assert reverse("admin:accounts_user_adjust_wallet", args=[customer.pk]) in html


def test_user_list_shows_balances(admin_client, customer, django_user_model):
    django_user_model.objects.filter(pk=customer.pk).update(balance=1_250_000)
    response = admin_client.get(admin_url(type(customer), "changelist"), **EN)
    assert "1,250,000 Toman" in response.content.decode()


def test_adjust_wallet_books_a_ledger_row_with_the_note(admin_client, customer):
    url = reverse("admin:accounts_user_adjust_wallet", args=[customer.pk])
    assert admin_client.get(url, **EN).status_code == 200

    response = admin_client.post(
        url, {"amount": "75000", "note": "compensation for the outage"}, follow=True, **EN
    )

    customer.refresh_from_db()
    assert customer.balance == 75_000
    row = WalletTransaction.objects.get(user=customer)
    assert (row.amount, row.balance_after, row.kind) == (75_000, 75_000, "adjustment")
    assert row.note == "compensation for the outage"
    assert row.created_by.username == "admin"
    html = response.content.decode()
    assert "Wallet adjusted by +75,000 Toman; the balance is now 75,000 Toman." in html
    # The page lists the ledger, the new row with its note included.
    assert "compensation for the outage" in html
    assert 'id="wallet-ledger"' in html


def test_adjust_wallet_can_take_money_away(admin_client, customer):
    url = reverse("admin:accounts_user_adjust_wallet", args=[customer.pk])
    admin_client.post(url, {"amount": "10000", "note": "gift"})
    admin_client.post(url, {"amount": "-4000", "note": "gift was too large"})
    customer.refresh_from_db()
    assert customer.balance == 6_000
    assert list(
        WalletTransaction.objects.filter(user=customer)
        .order_by("id")
        .values_list("amount", "balance_after")
    ) == [(10_000, 10_000), (-4_000, 6_000)]


def test_adjust_wallet_below_zero_is_refused_and_changes_nothing(admin_client, customer):
    url = reverse("admin:accounts_user_adjust_wallet", args=[customer.pk])
    admin_client.post(url, {"amount": "3000", "note": "start"})

    response = admin_client.post(url, {"amount": "-5000", "note": "too much"}, **EN)

    assert response.status_code == 200
    assert "The wallet was not changed: The wallet balance is not enough." in (
        response.content.decode()
    )
    customer.refresh_from_db()
    assert customer.balance == 3_000
    assert WalletTransaction.objects.filter(user=customer).count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"amount": "5000", "note": ""},
        {"amount": "5000", "note": "   "},
        {"amount": "0", "note": "nothing"},
        {"amount": "12.5", "note": "fractions of Toman"},
        {"amount": "", "note": "no amount"},
    ],
)
def test_adjust_wallet_needs_a_whole_nonzero_amount_and_a_note(admin_client, customer, data):
    url = reverse("admin:accounts_user_adjust_wallet", args=[customer.pk])
    response = admin_client.post(url, data, **EN)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    customer.refresh_from_db()
    assert customer.balance == 0
    assert not WalletTransaction.objects.exists()


def test_adjust_wallet_of_a_missing_user_redirects_with_a_message(admin_client):
    url = reverse("admin:accounts_user_adjust_wallet", args=[999999])
    response = admin_client.get(url, follow=True, **EN)
    assert "doesn’t exist" in response.content.decode()


def test_adjust_wallet_needs_the_ledger_permission(client, customer, django_user_model):
    clerk = django_user_model.objects.create_user(username="clerk", password="x", is_staff=True)
    client.force_login(clerk)
    url = reverse("admin:accounts_user_adjust_wallet", args=[customer.pk])
    assert client.post(url, {"amount": "5000", "note": "x"}).status_code == 403
    assert not WalletTransaction.objects.exists()


def test_operator_pages_work_in_persian(admin_client, customer, django_user_model):
    django_user_model.objects.filter(pk=customer.pk).update(balance=1_250_000)
    receipt = make_topup_receipt(customer)
    fa = {"HTTP_ACCEPT_LANGUAGE": "fa"}
    listing = admin_client.get(admin_url(type(customer), "changelist"), **fa)
    assert listing.headers["Content-Language"] == "fa"
    assert "۱٬۲۵۰٬۰۰۰ تومان" in listing.content.decode()
    for url in (
        reverse("admin:accounts_user_adjust_wallet", args=[customer.pk]),
        reverse("admin:billing_receipt_reject", args=[receipt.pk]),
    ):
        assert admin_client.get(url, **fa).status_code == 200, url
    approved = admin_client.post(
        reverse("admin:billing_receipt_approve", args=[receipt.pk]), follow=True, **fa
    )
    assert approved.status_code == 200
    customer.refresh_from_db()
    assert customer.balance == 1_450_000


def test_operator_pages_are_persian_by_default(admin_client, customer, xui_panel, fake_xui):
    # No Accept-Language header: operators who never picked a language get LANGUAGE_CODE,
    # so MoonVPN's own columns, actions and templates must come out of the fa catalogue.
    remote = fake_xui.add_inbound(protocol="vless", remark="DE")
    panel_sync(panel=xui_panel)
    inbound = Inbound.objects.get(remote_id=remote)
    xui = XuiClient(PanelConfig(base_url=fake_xui.url, username="admin", password="secret"))
    xui.add_client(remote, "vless", {"id": str(uuid.uuid4()), "email": "alice", "enable": True})
    make_topup_receipt(customer)
    # (Persian that must appear, the English it replaces)
    pages = {
        reverse("admin:billing_receipt_changelist"): [
            ("تأیید رسیدهای انتخاب‌شده", "Approve selected receipts"),
            ("تصویر یکسان با", "same image as"),
            ("در انتظار بررسی", "pending review"),
        ],
        reverse("admin:panels_panel_changelist"): [
            ("وضعیت سلامت", ">health<"),
            ("اکانت‌ها / ظرفیت", "accounts / capacity"),
            ("همگام‌سازی فوری", "Sync now"),
        ],
        reverse("admin:panels_inbound_changelist"): [
            ("اینباندها", "Inbounds"),
            ("مشکل لینک", "link problem"),
            ("کلاینت‌های روی پنل", "clients on the panel"),
        ],
        reverse("admin:panels_inbound_clients", args=[inbound.pk]): [
            ("کلاینت، به‌صورت زنده از پنل خوانده شد.", "read live from the panel"),
            ("آنلاین", "Online"),
            ("مصرف / کل", "Used / total"),
        ],
        reverse("admin:accounts_user_adjust_wallet", args=[customer.pk]): [
            ("اصلاح کیف پول", "Adjust the wallet of"),
            ("موجودی فعلی:", "Current balance:"),
            ("ثبت اصلاح موجودی", "Book the adjustment"),
        ],
    }
    for url, texts in pages.items():
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert page.headers["Content-Language"] == "fa", url
        html = page.content.decode()
        for persian, english in texts:
            assert persian in html, (url, persian)
            assert english not in html, (url, english)


def test_api_token_keys_are_not_listed(admin_client, staff_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff_user)
    page = admin_client.get(reverse("admin:authtoken_tokenproxy_changelist"))
    assert page.status_code == 200
    assert staff_user.username in page.content.decode()
    assert token.key not in page.content.decode()


def test_submitting_the_same_adjust_form_twice_books_once(admin_client, customer):
    url = reverse("admin:accounts_user_adjust_wallet", args=[customer.pk])
    page = admin_client.get(url)
    request_id = page.context["form"]["request_id"].value()
    assert request_id and f'value="{request_id}"' in page.content.decode()
    data = {"amount": "25000", "note": "compensation", "request_id": request_id}
    admin_client.post(url, data)
    admin_client.post(url, data)
    customer.refresh_from_db()
    assert customer.balance == 25_000
    assert WalletTransaction.objects.filter(user=customer).count() == 1


def test_a_resubmitted_adjustment_has_one_history_row_in_persian_at_tehran_time(
    admin_client, customer
):
    from django.contrib.admin.models import LogEntry

    url = reverse("admin:accounts_user_adjust_wallet", args=[customer.pk])
    data = {"amount": "75000", "note": "جبران قطعی", "request_id": "one-submission"}
    for _ in range(4):  # a double click and two reloads of the POST
        admin_client.post(url, data, HTTP_ACCEPT_LANGUAGE="fa")

    assert customer.wallet_transactions.count() == 1
    entries = LogEntry.objects.filter(object_id=str(customer.pk))
    assert entries.count() == 1
    history = admin_client.get(
        reverse("admin:accounts_user_history", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="fa"
    ).content.decode()
    assert "Wallet adjusted" not in history
    assert "کیف پول" in history and "جبران قطعی" in history
    # The history's times are Tehran's, like every other time in the console.
    row = customer.wallet_transactions.get()
    assert "UTC" not in history and "+00:00" not in history
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    assert "+00:00" not in page and "UTC" not in page
    assert row.created_at.tzinfo is not None
