"""The staff REST API for panels, inbounds and client accounts."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tests.samples import (
    PANEL_API_TOKEN,
    PANEL_PASSWORD,
    make_account,
    make_inbound,
    make_panel,
    make_plan,
)
from panels.models import Inbound, Panel

pytestmark = pytest.mark.django_db

SECRET_KEYS = {"username", "password", "api_token"}


@pytest.fixture
def staff_api(staff_user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return client


def test_panel_secrets_are_in_no_response(staff_api):
    panel = make_panel(api_token=PANEL_API_TOKEN)
    responses = [
        staff_api.get("/api/v1/panels/"),
        staff_api.get(f"/api/v1/panels/{panel.pk}/"),
        staff_api.patch(f"/api/v1/panels/{panel.pk}/", {"capacity": 7}, format="json"),
        staff_api.get("/api/v1/schema/"),
        staff_api.get("/api/v1/panels/", HTTP_ACCEPT="text/html"),  # the browsable API
    ]
    for response in responses:
        assert response.status_code == 200
        text = response.content.decode()
        assert PANEL_PASSWORD not in text
        assert PANEL_API_TOKEN not in text
        assert "panel-admin" not in text  # the username is write-only too
    detail = responses[1].json()
    assert not SECRET_KEYS & detail.keys()
    assert (detail["has_username"], detail["has_password"], detail["has_api_token"]) == (
        True,
        True,
        True,
    )


def test_panel_created_through_the_api_keeps_its_secrets_encrypted(staff_api):
    response = staff_api.post(
        "/api/v1/panels/",
        {
            "name": "Helsinki-1",
            "location_name": "Finland",
            "base_url": "https://fi1.example.com:2053/p/",
            "username": "root",
            "password": PANEL_PASSWORD,
            "public_host": "fi1.example.com",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert not SECRET_KEYS & body.keys()
    assert (body["has_password"], body["has_api_token"], body["active_accounts"]) == (
        True,
        False,
        0,
    )
    assert PANEL_PASSWORD not in response.content.decode()
    panel = Panel.objects.get(pk=body["id"])
    assert (panel.username, panel.password) == ("root", PANEL_PASSWORD)


def test_panel_update_keeps_omitted_secrets_and_clears_empty_ones(staff_api):
    panel = make_panel(api_token=PANEL_API_TOKEN)
    url = f"/api/v1/panels/{panel.pk}/"

    staff_api.patch(url, {"name": "Frankfurt-2"}, format="json")
    panel = Panel.objects.get(pk=panel.pk)
    assert (panel.name, panel.password, panel.api_token) == (
        "Frankfurt-2",
        PANEL_PASSWORD,
        PANEL_API_TOKEN,
    )

    response = staff_api.patch(url, {"password": "", "api_token": "new-token"}, format="json")
    assert response.json()["has_password"] is False
    panel = Panel.objects.get(pk=panel.pk)
    assert (panel.password, panel.api_token, panel.username) == ("", "new-token", "panel-admin")


def test_panel_state_fields_are_read_only(staff_api):
    panel = make_panel()
    staff_api.patch(
        f"/api/v1/panels/{panel.pk}/", {"health": "ok", "api_generation": "v3"}, format="json"
    )
    panel.refresh_from_db()
    assert (panel.health, panel.api_generation) == ("unknown", "")


def test_panel_lists_active_accounts(staff_api, customer):
    panel = make_panel()
    make_account(customer, make_plan(), make_inbound(panel))
    body = staff_api.get(f"/api/v1/panels/{panel.pk}/").json()
    assert (body["active_accounts"], body["capacity"]) == (1, 100)


def test_a_panel_with_accounts_cannot_be_deleted(staff_api, customer):
    panel = make_panel()
    make_account(customer, make_plan(), make_inbound(panel))
    response = staff_api.delete(f"/api/v1/panels/{panel.pk}/")
    assert response.status_code == 409
    assert "client accounts" in response.json()["message"]
    assert Panel.objects.filter(pk=panel.pk).exists()
    empty = make_panel("Empty-1")
    make_inbound(empty)
    assert staff_api.delete(f"/api/v1/panels/{empty.pk}/").status_code == 204
    assert not Inbound.objects.filter(panel_id=empty.pk).exists()


# --- inbounds ----------------------------------------------------------------------------------


def test_inbounds_filter_by_panel(staff_api):
    first, second = make_panel(), make_panel("Paris-1")
    mine = make_inbound(first)
    make_inbound(second)
    body = staff_api.get("/api/v1/inbounds/", {"panel": first.pk}).json()
    assert [i["id"] for i in body["results"]] == [mine.pk]
    assert "settings" not in body["results"][0]  # holds every client id and private keys
    assert staff_api.get("/api/v1/inbounds/", {"panel": "x"}).status_code == 400


def test_inbound_update_changes_only_the_sale_fields(staff_api):
    inbound = make_inbound(make_panel())
    response = staff_api.patch(
        f"/api/v1/inbounds/{inbound.pk}/",
        {"is_sellable": True, "display_name": "Germany fast", "port": 1, "remark": "x"},
        format="json",
    )
    assert response.status_code == 200
    inbound.refresh_from_db()
    assert (inbound.is_sellable, inbound.display_name) == (True, "Germany fast")
    assert (inbound.port, inbound.remark) == (443, "vless-reality")
    assert staff_api.post("/api/v1/inbounds/", {}, format="json").status_code == 405
    assert staff_api.delete(f"/api/v1/inbounds/{inbound.pk}/").status_code == 405


def test_inbound_with_a_link_problem_cannot_be_made_sellable(staff_api):
    inbound = make_inbound(make_panel(), link_problem="no public key")
    response = staff_api.patch(
        f"/api/v1/inbounds/{inbound.pk}/", {"is_sellable": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["is_sellable"] == [
        "This inbound cannot be sold: no public key"
    ]
    inbound.refresh_from_db()
    assert inbound.is_sellable is False


# --- client accounts ------------------------------------------------------------------------------


def test_accounts_are_listed_by_user_and_read_only(staff_api, customer):
    account = make_account(customer, make_plan(), make_inbound(make_panel()))
    body = staff_api.get("/api/v1/accounts/", {"user": customer.pk}).json()
    assert [(a["id"], a["email"]) for a in body["results"]] == [(account.pk, "sara-1")]
    assert body["results"][0]["config_url"] == account.config_url
    assert staff_api.get("/api/v1/accounts/", {"search": "sara"}).json()["count"] == 1
    assert (
        staff_api.patch(f"/api/v1/accounts/{account.pk}/", {"status": "expired"}).status_code == 405
    )
