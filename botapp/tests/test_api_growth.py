"""The staff API for discount codes and broadcasts, seen from the operator's side.

A code made through the API is one the bot's customer can type; a broadcast queued
through the API is sent by send_broadcasts once, however often the request is retried.
"""

import jsonschema
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing.models import DiscountCode, Order, WalletTransaction
from billing.services import wallet_credit
from botapp.models import Broadcast
from botapp.tests.conftest import JOHN, SARA

pytestmark = pytest.mark.django_db


def api_as(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def staff_in(django_user_model, group, username=None):
    user = django_user_model.objects.create_user(
        username=username or f"staff-{group}", password="pw-123", is_staff=True
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


# --- discount codes -------------------------------------------------------------------


def test_finance_makes_a_code_that_a_customer_types_in_the_bot(
    bot, tg, plan, inbound, xui, django_user_model
):
    finance = api_as(staff_in(django_user_model, "Finance"))

    made = finance.post(
        "/api/v1/discount-codes/",
        {
            "code": "spring25",
            "percent_off": 25,
            "amount_off": None,
            "plans": [plan.pk],
            "max_uses": 10,
        },
        format="json",
    )

    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["code"], body["percent_off"], body["amount_off"]) == ("SPRING25", 25, None)
    assert (body["uses"], body["plans"], body["max_uses_per_user"]) == (0, [plan.pk], 1)
    code = DiscountCode.objects.get(code="SPRING25")

    bot.send(SARA, "/start")
    bot.press(SARA, "🛒")
    bot.press(SARA, "1 Month")
    bot.press(SARA, "Germany")
    bot.press(SARA, "VLESS Reality")
    order = Order.objects.filter(user__telegram_id=SARA).latest("pk")
    wallet_credit(
        user_id=order.user_id,
        amount=200_000,
        kind=WalletTransaction.Kind.TOPUP,
        idempotency_key="t",
    )
    bot.press(SARA, "🏷")
    bot.send(SARA, "Spring25")
    bot.press(SARA, "کیف پول")

    order.refresh_from_db()
    assert (order.status, order.amount, order.discount_code) == ("fulfilled", 112_500, code)
    listed = finance.get("/api/v1/discount-codes/", {"search": "spring"}).json()
    assert [(row["code"], row["uses"]) for row in listed["results"]] == [("SPRING25", 1)]
    # A used code is history: it cannot be deleted, only switched off.
    gone = finance.delete(f"/api/v1/discount-codes/{code.pk}/")
    assert gone.status_code == 409
    off = finance.patch(f"/api/v1/discount-codes/{code.pk}/", {"is_active": False}, format="json")
    assert off.status_code == 200 and off.json()["is_active"] is False


BODIES = [
    # (body, accepted on create?); a create sends both, one of them null.
    ({"code": "P", "percent_off": 10, "amount_off": None}, True),
    ({"code": "A", "amount_off": 5000, "percent_off": None}, True),
    ({"code": "B", "percent_off": 10, "amount_off": 5000}, False),
    ({"code": "N", "percent_off": None, "amount_off": None}, False),
    ({"code": "P", "percent_off": 10}, False),
    ({"code": "N"}, False),
]


@pytest.mark.parametrize(("body", "accepted"), BODIES)
def test_percent_or_amount_the_schema_and_the_server_agree(staff_user, body, accepted):
    api = api_as(staff_user)
    schema = api.get("/api/v1/schema/").json()
    component = {
        **schema["components"]["schemas"]["DiscountCodeRequest"],
        "components": schema["components"],
    }
    schema_says = jsonschema.Draft202012Validator(component).is_valid(body)

    response = api.post("/api/v1/discount-codes/", body, format="json")

    assert schema_says is accepted
    assert response.status_code == (201 if accepted else 400), response.json()
    if not accepted and "amount_off" in body:
        # The console's message (DiscountCode.clean), not a second copy of the rule.
        assert response.json()["errors"]["non_field_errors"] == [
            "Give either a percent off or an amount off."
        ]
    if not accepted:
        assert not DiscountCode.objects.exists()


def test_a_patch_that_gives_one_kind_replaces_the_other(staff_user):
    api = api_as(staff_user)
    code = DiscountCode.objects.create(code="SWAP", percent_off=10)
    url = f"/api/v1/discount-codes/{code.pk}/"

    swapped = api.patch(url, {"amount_off": 20_000}, format="json")
    assert swapped.status_code == 200
    assert (swapped.json()["percent_off"], swapped.json()["amount_off"]) == (None, 20_000)
    # Clearing the only one leaves a code worth nothing: refused, the row unchanged.
    assert api.patch(url, {"amount_off": None}, format="json").status_code == 400
    assert api.patch(url, {"is_active": False}, format="json").status_code == 200
    code.refresh_from_db()
    assert (code.percent_off, code.amount_off, code.is_active) == (None, 20_000, False)
    # A PUT that gives the percent (and no amount) makes it a percent code again.
    put = api.put(url, {"code": "SWAP", "percent_off": 15, "amount_off": None}, format="json")
    assert put.status_code == 200, put.json()
    assert (put.json()["percent_off"], put.json()["amount_off"]) == (15, None)


def test_a_code_is_unique_whatever_its_case_and_support_only_reads(django_user_model):
    DiscountCode.objects.create(code="WELCOME", amount_off=1000)
    finance = api_as(staff_in(django_user_model, "Finance"))
    support = api_as(staff_in(django_user_model, "Support"))

    twice = finance.post(
        "/api/v1/discount-codes/",
        {"code": "welcome", "percent_off": 5, "amount_off": None},
        format="json",
    )
    assert twice.status_code == 400
    assert "code" in twice.json()["errors"]
    assert support.get("/api/v1/discount-codes/").status_code == 200
    refused = support.post(
        "/api/v1/discount-codes/",
        {"code": "MINE", "percent_off": 5, "amount_off": None},
        format="json",
    )
    assert refused.status_code == 403
    assert DiscountCode.objects.count() == 1


# --- broadcasts -----------------------------------------------------------------------


def test_superuser_writes_queues_and_the_sender_delivers_once(bot, tg, staff_user):
    bot.send(SARA, "/start")
    bot.send(JOHN, "/start")
    api = api_as(staff_user)

    draft = api.post("/api/v1/broadcasts/", {"text": "<b>New</b> servers in Turkey"}, format="json")
    assert draft.status_code == 201, draft.json()
    body = draft.json()
    assert (body["status"], body["audience"], body["created_by"]) == (
        "draft",
        "everyone",
        staff_user.pk,
    )
    url = f"/api/v1/broadcasts/{body['id']}/queue/"

    first = api.post(url, HTTP_IDEMPOTENCY_KEY="bc-1")
    retry = api.post(url, HTTP_IDEMPOTENCY_KEY="bc-1")

    assert first.status_code == retry.status_code == 200
    assert first.json()["status"] == "queued" and first.json()["queued_at"]
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    # Another Send of the same broadcast (a new key) is refused: only a draft is sent.
    again = api.post(url, HTTP_IDEMPOTENCY_KEY="bc-2")
    assert again.status_code == 409

    call_command("send_broadcasts")

    done = api.get(f"/api/v1/broadcasts/{body['id']}/").json()
    assert (done["status"], done["total"], done["sent"]) == ("done", 2, 2)
    for chat_id in (SARA, JOHN):
        assert len([m for m in tg.messages_to(chat_id) if "New servers" in m["plain_text"]]) == 1
    # A finished broadcast cannot be cancelled.
    assert api.post(f"/api/v1/broadcasts/{body['id']}/cancel/").status_code == 409


def test_a_cancelled_broadcast_is_never_sent(bot, tg, staff_user):
    bot.send(SARA, "/start")
    api = api_as(staff_user)
    broadcast = Broadcast.objects.create(text="Sale!", created_by=staff_user)
    api.post(f"/api/v1/broadcasts/{broadcast.pk}/queue/")

    cancelled = api.post(f"/api/v1/broadcasts/{broadcast.pk}/cancel/")

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"]
    call_command("send_broadcasts")
    assert not [m for m in tg.messages_to(SARA) if "Sale!" in m["plain_text"]]
    assert api.get("/api/v1/broadcasts/", {"status": "cancelled"}).json()["count"] == 1


def test_a_draft_is_edited_and_deleted_a_sending_one_is_not(bot, staff_user, admin_client):
    """The console's edit and delete, over the API, with the console's rules."""
    api = api_as(staff_user)
    draft = Broadcast.objects.create(text="Typo", created_by=staff_user)

    edited = api.patch(
        f"/api/v1/broadcasts/{draft.pk}/",
        {"text": "Fixed", "audience": "expired", "expired_days": 30},
        format="json",
    )
    assert edited.status_code == 200, edited.json()
    assert (edited.json()["text"], edited.json()["expired_days"]) == ("Fixed", 30)
    draft.refresh_from_db()
    assert (draft.text, draft.audience, draft.expired_days) == ("Fixed", "expired", 30)

    api.post(f"/api/v1/broadcasts/{draft.pk}/queue/")
    late = api.put(
        f"/api/v1/broadcasts/{draft.pk}/",
        {"text": "Changed after Send", "audience": "everyone", "expired_days": 7},
        format="json",
    )
    assert late.status_code == 409
    assert api.delete(f"/api/v1/broadcasts/{draft.pk}/").status_code == 409
    draft.refresh_from_db()
    assert (draft.text, draft.status) == ("Fixed", "queued")
    # The console refuses the same: a queued broadcast has no delete.
    page = admin_client.get(f"/admin/botapp/broadcast/{draft.pk}/delete/")
    assert page.status_code == 403
    admin_client.post(
        "/admin/botapp/broadcast/",
        {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"},
    )
    assert Broadcast.objects.filter(pk=draft.pk).exists()

    api.post(f"/api/v1/broadcasts/{draft.pk}/cancel/")
    assert api.delete(f"/api/v1/broadcasts/{draft.pk}/").status_code == 204
    assert not Broadcast.objects.exists()


@pytest.mark.parametrize("group", ["Finance", "Support", "Panel admin", None])
def test_broadcasts_are_for_superusers_only_like_the_console(django_user_model, group):
    broadcast = Broadcast.objects.create(text="Hello")
    api = api_as(staff_in(django_user_model, group))

    assert api.get("/api/v1/broadcasts/").status_code == 403
    assert api.post("/api/v1/broadcasts/", {"text": "x"}, format="json").status_code == 403
    assert api.post(f"/api/v1/broadcasts/{broadcast.pk}/queue/").status_code == 403
    assert api.post(f"/api/v1/broadcasts/{broadcast.pk}/cancel/").status_code == 403
    edit = api.patch(f"/api/v1/broadcasts/{broadcast.pk}/", {"text": "x"}, format="json")
    assert edit.status_code == 403
    assert api.delete(f"/api/v1/broadcasts/{broadcast.pk}/").status_code == 403
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.text) == ("draft", "Hello")
    assert Broadcast.objects.count() == 1


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ("2027-03-21T00:00:00+03:30", 200),
        ("0217-11-21T00:51:17.9674-09:37", 400),  # the fuzzer's: a pre-1946 offset
        ("9999-12-31T23:59:59Z", 400),
        (20270321, 400),
        ("tomorrow", 400),
    ],
)
def test_a_validity_date_is_a_plain_iso_date_time(staff_user, when, status):
    code = DiscountCode.objects.create(code="WHEN", percent_off=5)

    response = api_as(staff_user).patch(
        f"/api/v1/discount-codes/{code.pk}/", {"valid_from": when}, format="json"
    )

    assert response.status_code == status, response.json()
    if status == 200:
        assert response.json()["valid_from"] == "2027-03-21T00:00:00+03:30"


@pytest.mark.parametrize("query", ["is_active=", "is_active=maybe", "for_new=2"])
def test_a_filter_that_is_not_a_boolean_is_refused(staff_user, query):
    DiscountCode.objects.create(code="ANY", percent_off=5)

    response = api_as(staff_user).get(f"/api/v1/discount-codes/?{query}")

    assert response.status_code == 400
    assert api_as(staff_user).get("/api/v1/discount-codes/?is_active=true").json()["count"] == 1
