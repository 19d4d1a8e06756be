"""The staff REST API: who may call it, the schema, users and wallet adjustments."""

import warnings

import pytest
from django.core.management import call_command
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tests.samples import PANEL_PASSWORD, make_world
from billing.models import WalletTransaction
from moonvpn.api_urls import router

pytestmark = pytest.mark.django_db


def api(user=None, token=None):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        token = Token.objects.get_or_create(user=user)[0].key
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def list_urls():
    return [f"/api/v1/{prefix}/" for prefix, _viewset, _basename in router.registry]


def test_every_endpoint_answers_401_without_a_token():
    client = api()
    for url in [*list_urls(), "/api/v1/schema/", "/api/v1/"]:
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
        assert response.json()["message"] == "Authentication credentials were not provided."


def test_a_wrong_token_is_401():
    response = api(token="not-a-token").get("/api/v1/users/")
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid token."


def test_a_customer_token_is_403(customer):
    client = api(customer)
    for url in [*list_urls(), "/api/v1/schema/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["message"]
    adjust = client.post(f"/api/v1/users/{customer.pk}/adjust-wallet/", {"amount": 9, "note": "x"})
    assert adjust.status_code == 403
    customer.refresh_from_db()
    assert customer.balance == 0


def test_staff_token_lists_every_endpoint(staff_user, customer):
    world = make_world(staff_user, customer)
    client = api(staff_user)
    for url in list_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.json()
        assert body["count"] >= 1, url
        assert PANEL_PASSWORD not in response.content.decode(), url
    assert client.get("/api/v1/").status_code == 200
    assert client.get(f"/api/v1/accounts/{world.account.pk}/").json()["email"] == "sara-1"


def test_session_login_works_for_the_browsable_api(admin_client):
    assert admin_client.get("/api/v1/users/").status_code == 200


def test_drf_create_token_makes_a_working_token(staff_user):
    call_command("drf_create_token", staff_user.username, stdout=None)
    token = Token.objects.get(user=staff_user)
    assert api(token=token.key).get("/api/v1/users/").status_code == 200


def test_schema_loads_without_warnings_for_every_view(staff_user, customer):
    make_world(staff_user, customer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = api(staff_user).get("/api/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = response.json()
    assert PANEL_PASSWORD not in response.content.decode()
    paths = schema["paths"]
    for prefix, _viewset, _basename in router.registry:
        assert f"/api/v1/{prefix}/" in paths, prefix
    assert "post" in paths["/api/v1/receipts/{id}/approve/"]
    assert "post" in paths["/api/v1/receipts/{id}/reject/"]
    assert "post" in paths["/api/v1/users/{id}/adjust-wallet/"]
    assert "post" in paths["/api/v1/orders/{id}/refund/"]
    adjust = paths["/api/v1/users/{id}/adjust-wallet/"]["post"]
    assert adjust["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WalletAdjustRequest"
    }
    assert adjust["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WalletTransaction"
    }
    # Panel secrets are in what is sent, never in what is answered.
    components = schema["components"]["schemas"]
    assert {"password", "api_token"} <= set(components["PanelRequest"]["properties"])
    assert not {"password", "api_token"} & set(components["Panel"]["properties"])
    ids = [op["operationId"] for methods in paths.values() for op in methods.values()]
    assert len(ids) == len(set(ids))


def test_the_schema_is_valid_openapi_3_1(staff_user):
    response = api(staff_user).get("/api/v1/schema/")
    schema = response.json()
    assert schema["openapi"] == "3.1.0"
    validate(schema)  # openapi-spec-validator: raises on any error


def test_the_schema_documents_every_answer(staff_user):
    paths = api(staff_user).get("/api/v1/schema/").json()["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (method, path)
            if "{id}" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch"):
                assert "400" in codes and "requestBody" in operation, (method, path)
    refund = paths["/api/v1/orders/{id}/refund/"]["post"]
    assert "409" in refund["responses"]
    assert "Idempotency-Key" in {p["name"] for p in refund["parameters"]}
    orders = {p["name"]: p for p in paths["/api/v1/orders/"]["get"]["parameters"]}
    assert orders["user"]["schema"]["maximum"] == 2**63 - 1
    assert orders["status"]["schema"]["enum"]
    assert orders["page"]["schema"]["minimum"] == 1
    search = {p["name"]: p for p in paths["/api/v1/users/"]["get"]["parameters"]}["search"]
    assert search["schema"]["pattern"] == r"^[^\x00]*$"


def test_the_docs_pages_are_served_without_a_cdn(staff_user, client):
    client.force_login(staff_user)
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html


# --- users ----------------------------------------------------------------------------


def test_users_list_shows_balances(staff_user, customer, django_user_model):
    django_user_model.objects.filter(pk=customer.pk).update(balance=42_000)
    body = api(staff_user).get("/api/v1/users/", {"telegram_id": 1001}).json()
    assert body["count"] == 1
    user = body["results"][0]
    assert (user["id"], user["balance"], user["telegram_id"]) == (customer.pk, 42_000, 1001)
    assert "password" not in user


def test_users_filter_rejects_a_bad_value(staff_user):
    response = api(staff_user).get("/api/v1/users/", {"telegram_id": "abc"})
    assert response.status_code == 400
    assert "telegram_id" in response.json()["errors"]


def test_adjust_wallet_through_the_api(staff_user, customer):
    client = api(staff_user)
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"

    response = client.post(url, {"amount": 25_000, "note": "goodwill"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["amount"], body["balance_after"], body["kind"]) == (25_000, 25_000, "adjustment")
    assert (body["note"], body["created_by"], body["user"]) == (
        "goodwill",
        staff_user.pk,
        customer.pk,
    )
    customer.refresh_from_db()
    assert customer.balance == 25_000
    assert client.get(f"/api/v1/users/{customer.pk}/").json()["balance"] == 25_000


def test_adjust_wallet_below_zero_is_409_and_changes_nothing(staff_user, customer):
    client = api(staff_user)
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"
    client.post(url, {"amount": 1_000, "note": "start"}, format="json")

    response = client.post(url, {"amount": -5_000, "note": "too much"}, format="json")

    assert response.status_code == 409
    assert response.json()["message"] == "The wallet balance is not enough."
    customer.refresh_from_db()
    assert customer.balance == 1_000
    assert WalletTransaction.objects.filter(user=customer).count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"amount": 0, "note": "zero"},
        {"amount": 5_000, "note": ""},
        {"amount": 5_000},
        {"amount": 12.5, "note": "fraction"},
        {"amount": "lots", "note": "words"},
        {"note": "no amount"},
    ],
)
def test_adjust_wallet_rejects_bad_input_with_400(staff_user, customer, data):
    response = api(staff_user).post(
        f"/api/v1/users/{customer.pk}/adjust-wallet/", data, format="json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "invalid request"
    assert not WalletTransaction.objects.exists()


def test_adjust_wallet_of_a_missing_user_is_404(staff_user):
    response = api(staff_user).post(
        "/api/v1/users/999999/adjust-wallet/", {"amount": 5, "note": "x"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["message"]


def test_users_are_read_only(staff_user, customer):
    client = api(staff_user)
    assert client.patch(f"/api/v1/users/{customer.pk}/", {"balance": 10**6}).status_code == 405
    assert client.delete(f"/api/v1/users/{customer.pk}/").status_code == 405
    customer.refresh_from_db()
    assert customer.balance == 0


def test_a_retried_adjustment_with_the_same_idempotency_key_books_once(staff_user, customer):
    client = api(staff_user)
    url = f"/api/v1/users/{customer.pk}/adjust-wallet/"
    for _ in range(2):
        response = client.post(
            url, {"amount": 7_000, "note": "retry"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
        assert response.status_code == 200
    client.post(url, {"amount": 1_000, "note": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    customer.refresh_from_db()
    assert customer.balance == 8_000
