"""Reviewing receipts in the operator console: actions, page buttons, duplicates."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.tests.samples import make_topup_receipt, png_bytes, purchase_awaiting_receipt
from billing.models import Order, Receipt, WalletTransaction
from billing.services import order_create_topup, receipt_reject, receipt_submit
from panels.models import ClientAccount
from panels.sessions import panel_clients_reset
from standins.xui import FakeXuiPanel

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CHANGELIST = reverse("admin:billing_receipt_changelist")


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_action(client, action, receipts, **extra):
    data = {"action": action, "_selected_action": [r.pk for r in receipts], "index": "0"}
    return client.post(CHANGELIST, {**data, **extra}, follow=True, **EN)


def wallet_state(user):
    user.refresh_from_db()
    return user.balance, WalletTransaction.objects.filter(user=user).count()


def test_approve_action_credits_a_topup_once(admin_client, customer):
    receipt = make_topup_receipt(customer, amount=200_000)

    response = run_action(admin_client, "approve_receipts", [receipt])

    assert response.status_code == 200
    assert messages_of(response) == [
        f"Receipt #{receipt.pk} approved: 200,000 Toman credited to {customer}'s wallet; "
        "the balance is now 200,000 Toman."
    ]
    assert wallet_state(customer) == (200_000, 1)
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.APPROVED
    assert receipt.reviewed_by.username == "admin"
    assert receipt.order.status == Order.Status.FULFILLED

    again = run_action(admin_client, "approve_receipts", [receipt])

    assert again.status_code == 200
    assert messages_of(again) == [
        f"Receipt #{receipt.pk} was already reviewed (approved); nothing changed."
    ]
    assert wallet_state(customer) == (200_000, 1)


def test_approve_action_reports_each_receipt(admin_client, customer, django_user_model):
    other = django_user_model.objects.create_user(username="tg_1002", telegram_id=1002)
    first = make_topup_receipt(customer, amount=100_000, color="red")
    second = make_topup_receipt(other, amount=30_000, color="blue")
    receipt_reject(receipt_id=second.pk, reviewer=None, reason="blurry")

    response = run_action(admin_client, "approve_receipts", [first, second])

    assert messages_of(response) == [
        f"Receipt #{first.pk} approved: 100,000 Toman credited to {customer}'s wallet; "
        "the balance is now 100,000 Toman.",
        f"Receipt #{second.pk} was already reviewed (rejected); nothing changed.",
    ]
    assert wallet_state(customer) == (100_000, 1)
    assert wallet_state(other) == (0, 0)


def test_approve_button_on_the_page_credits_once(admin_client, customer):
    receipt = make_topup_receipt(customer, amount=80_000)
    change_url = reverse("admin:billing_receipt_change", args=[receipt.pk])
    approve_url = reverse("admin:billing_receipt_approve", args=[receipt.pk])

    page = admin_client.get(change_url, **EN).content.decode()
    assert f'action="{approve_url}"' in page
    assert reverse("admin:billing_receipt_reject", args=[receipt.pk]) in page

    response = admin_client.post(approve_url, follow=True, **EN)

    assert response.redirect_chain[-1][0] == change_url
    html = response.content.decode()
    assert "80,000 Toman credited" in html
    assert 'id="receipt-approve"' not in html  # reviewed: the buttons are gone
    assert wallet_state(customer) == (80_000, 1)

    again = admin_client.post(approve_url, follow=True, **EN)

    assert again.status_code == 200
    assert f"Receipt #{receipt.pk} was already reviewed (approved); nothing changed." in (
        again.content.decode()
    )
    assert wallet_state(customer) == (80_000, 1)


def test_approve_needs_a_post(admin_client, customer):
    # A GET (a typed or bookmarked URL) approves nothing and leads back to the receipt's
    # page, where the button is, instead of a bare 405 page.
    receipt = make_topup_receipt(customer)
    url = reverse("admin:billing_receipt_approve", args=[receipt.pk])
    response = admin_client.get(url, follow=True, **EN)
    assert response.redirect_chain[-1][0] == reverse(
        "admin:billing_receipt_change", args=[receipt.pk]
    )
    assert "Use the Approve button on this page." in [str(m) for m in response.context["messages"]]
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.PENDING


@pytest.fixture
def xui():
    panel = FakeXuiPanel(profile="v2")
    panel.start()
    yield panel
    panel.stop()
    panel_clients_reset()


def test_approving_a_purchase_receipt_delivers_the_account(admin_client, customer, xui):
    order, receipt = purchase_awaiting_receipt(customer, xui)

    response = run_action(admin_client, "approve_receipts", [receipt])

    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.payment_method == Order.PaymentMethod.RECEIPT
    account = ClientAccount.objects.get(order=order)
    assert xui.find_client(account.email) is not None
    assert messages_of(response) == [
        f"Receipt #{receipt.pk} approved: order #{order.pk} delivered as {account.email} "
        f"on {order.panel.name}."
    ]
    assert wallet_state(customer) == (0, 0)

    again = run_action(admin_client, "approve_receipts", [receipt])
    assert messages_of(again) == [
        f"Receipt #{receipt.pk} was already reviewed (approved); nothing changed."
    ]
    assert ClientAccount.objects.filter(user=customer).count() == 1
    assert len(xui.all_clients()) == 1


def test_approving_while_the_panel_is_down_keeps_the_order_paid(admin_client, customer, xui):
    order, receipt = purchase_awaiting_receipt(customer, xui)
    xui.stop()

    response = run_action(admin_client, "approve_receipts", [receipt])

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not ClientAccount.objects.filter(order=order).exists()
    [message] = messages_of(response)
    assert message.startswith(
        f"Receipt #{receipt.pk} approved: order #{order.pk} is paid, but its panel failed ("
    )
    assert message.endswith("); delivery will be retried.")
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.APPROVED


def test_reject_page_asks_for_a_reason_and_stores_it(admin_client, customer):
    receipt = make_topup_receipt(customer)
    url = reverse("admin:billing_receipt_reject", args=[receipt.pk])

    page = admin_client.get(url, **EN)
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert reverse("admin:billing_receipt_image", args=[receipt.pk]) in page.content.decode()

    empty = admin_client.post(url, {"reason": "  "}, **EN)
    assert empty.status_code == 200
    assert "errorlist" in empty.content.decode()
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.PENDING

    response = admin_client.post(url, {"reason": "The amount does not match."}, follow=True, **EN)

    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.REJECTED
    assert receipt.reject_reason == "The amount does not match."
    assert f"Receipt #{receipt.pk} rejected" in response.content.decode()
    assert "The amount does not match." in response.content.decode()
    assert wallet_state(customer) == (0, 0)
    receipt.order.refresh_from_db()
    assert receipt.order.status == Order.Status.AWAITING_RECEIPT


def test_reject_page_of_a_reviewed_receipt_warns(admin_client, customer):
    receipt = make_topup_receipt(customer)
    admin_client.post(reverse("admin:billing_receipt_approve", args=[receipt.pk]))
    url = reverse("admin:billing_receipt_reject", args=[receipt.pk])

    response = admin_client.post(url, {"reason": "too late"}, follow=True, **EN)

    assert f"Receipt #{receipt.pk} was already reviewed (approved); nothing changed." in (
        response.content.decode()
    )
    receipt.refresh_from_db()
    assert (receipt.status, receipt.reject_reason) == (Receipt.Status.APPROVED, "")


def test_reject_action_shows_a_reason_form_then_rejects(admin_client, customer):
    first = make_topup_receipt(customer, color="red")
    receipt_reject(receipt_id=first.pk, reviewer=None, reason="first try")
    second = receipt_submit(order=first.order, image_name="r.png", image_bytes=png_bytes("blue"))

    page = run_action(admin_client, "reject_receipts", [first, second])

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="reason"' in html and 'value="reject_receipts"' in html

    response = admin_client.post(
        CHANGELIST,
        {
            "action": "reject_receipts",
            "_selected_action": [first.pk, second.pk],
            "reject_reason_form": "1",
            "reason": "Not our card.",
        },
        follow=True,
        **EN,
    )

    assert messages_of(response) == [
        f"Receipt #{first.pk} was already reviewed (rejected); nothing changed.",
        f"Receipt #{second.pk} rejected; the customer will read: Not our card.",
    ]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.reject_reason == "first try"
    assert (second.status, second.reject_reason) == (Receipt.Status.REJECTED, "Not our card.")


def test_pending_receipts_are_listed_first(admin_client, customer):
    older = make_topup_receipt(customer, color="red")
    done = make_topup_receipt(customer, color="blue")
    receipt_reject(receipt_id=done.pk, reviewer=None, reason="no")
    newest_order = order_create_topup(user=customer, amount=5_000)
    newest = receipt_submit(order=newest_order, image_name="r.png", image_bytes=png_bytes("gray"))
    receipt_reject(receipt_id=newest.pk, reviewer=None, reason="no")

    response = admin_client.get(CHANGELIST, **EN)

    shown = [row.pk for row in response.context["cl"].result_list]
    assert shown[0] == older.pk
    assert set(shown[1:]) == {done.pk, newest.pk}


def test_same_image_is_flagged_in_the_list_and_on_the_page(admin_client, customer):
    original = make_topup_receipt(customer, color="white")
    again = make_topup_receipt(customer, color="white")
    assert again.duplicate_of_id == original.pk

    listing = admin_client.get(CHANGELIST, **EN).content.decode()
    page = admin_client.get(
        reverse("admin:billing_receipt_change", args=[again.pk]), **EN
    ).content.decode()

    assert f"same image as receipt #{original.pk}" in listing
    assert "receipt-duplicate-warning" in page
    assert f"same image as receipt #{original.pk}" in page
    duplicates = admin_client.get(CHANGELIST, {"duplicate": "yes"}, **EN)
    assert [r.pk for r in duplicates.context["cl"].result_list] == [again.pk]


def test_receipt_image_is_shown_to_staff_only(admin_client, client, customer):
    receipt = make_topup_receipt(customer, color="white")
    url = reverse("admin:billing_receipt_image", args=[receipt.pk])

    listing = admin_client.get(CHANGELIST).content.decode()
    # The list shows a small thumbnail, loaded lazily, from the same permission-checked view.
    assert f'src="{url}?thumb=1"' in listing
    assert 'loading="lazy"' in listing
    thumb = admin_client.get(url + "?thumb=1")
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/jpeg"
    assert "max-age" in thumb["Cache-Control"] and "private" in thumb["Cache-Control"]
    assert b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"  # a JPEG, made once
    assert client.get(url + "?thumb=1").status_code == 302
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png_bytes("white")

    assert client.get(url).status_code == 302  # anonymous: to the login page


def test_receipts_cannot_be_added_changed_or_deleted(admin_client, customer):
    receipt = make_topup_receipt(customer)
    change_url = reverse("admin:billing_receipt_change", args=[receipt.pk])
    assert admin_client.get(reverse("admin:billing_receipt_add")).status_code == 403
    assert admin_client.post(change_url, {"status": "approved"}).status_code == 403
    assert (
        admin_client.get(reverse("admin:billing_receipt_delete", args=[receipt.pk])).status_code
        == 403
    )
    receipt.refresh_from_db()
    assert receipt.status == Receipt.Status.PENDING
