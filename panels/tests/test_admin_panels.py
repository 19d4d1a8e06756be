"""Panels, inbounds and client accounts in the operator console."""

import pytest
from django.db import connection
from django.urls import reverse

from accounts.tests.samples import (
    PANEL_API_TOKEN,
    PANEL_PASSWORD,
    make_account,
    make_inbound,
    make_panel,
    make_plan,
    png_bytes,
)
from panels.fields import decrypt
from panels.models import ClientAccount, Inbound, Panel

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def raw_column(panel, column):
    table = connection.ops.quote_name(Panel._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s", [panel.pk]
        )
        return cursor.fetchone()[0]


def panel_form(panel, **changes):
    data = {
        "name": panel.name,
        "location_name": panel.location_name,
        "location_flag": panel.location_flag,
        "sort_order": panel.sort_order,
        "capacity": panel.capacity,
        "is_active": "on",
        "base_url": panel.base_url,
        "username": panel.username,
        "password": "",
        "api_token": "",
        "verify_tls": "on",
        "public_host": panel.public_host,
        "sub_base_url": panel.sub_base_url,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_panel_password_is_encrypted_at_rest(admin_client):
    panel = make_panel(api_token=PANEL_API_TOKEN)
    for column, secret in (("password", PANEL_PASSWORD), ("api_token", PANEL_API_TOKEN)):
        stored = raw_column(panel, column)
        assert secret not in stored
        assert decrypt(stored) == secret


def test_panel_secrets_appear_on_no_admin_page(admin_client):
    panel = make_panel(api_token=PANEL_API_TOKEN)
    pages = [
        reverse("admin:panels_panel_changelist"),
        reverse("admin:panels_panel_change", args=[panel.pk]),
        reverse("admin:panels_panel_history", args=[panel.pk]),
        reverse("admin:panels_panel_delete", args=[panel.pk]),
    ]
    for url in pages:
        for language in ("fa", "en"):
            html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            assert PANEL_PASSWORD not in html, url
            assert PANEL_API_TOKEN not in html, url
    html = admin_client.get(reverse("admin:panels_panel_change", args=[panel.pk]), **EN)
    assert 'type="password" name="password"' in html.content.decode()
    assert "A value is stored. Leave empty to keep it." in html.content.decode()


def test_panel_saved_with_empty_password_keeps_the_stored_one(admin_client):
    panel = make_panel(api_token=PANEL_API_TOKEN)
    url = reverse("admin:panels_panel_change", args=[panel.pk])

    response = admin_client.post(url, panel_form(panel, capacity="250"))

    assert response.status_code == 302
    panel = Panel.objects.get(pk=panel.pk)
    assert panel.capacity == 250
    assert panel.password == PANEL_PASSWORD
    assert panel.api_token == PANEL_API_TOKEN


def test_panel_password_can_be_replaced_and_cleared(admin_client):
    panel = make_panel()
    url = reverse("admin:panels_panel_change", args=[panel.pk])

    admin_client.post(url, panel_form(panel, password=" new pass "))
    assert Panel.objects.get(pk=panel.pk).password == " new pass "

    admin_client.post(url, panel_form(panel, clear_password="on", api_token="tok-1"))
    panel = Panel.objects.get(pk=panel.pk)
    assert (panel.password, panel.api_token) == ("", "tok-1")

    both = admin_client.post(url, panel_form(panel, clear_api_token="on", api_token="tok-2"), **EN)
    assert both.status_code == 200
    assert "Either type a new value or clear it, not both." in both.content.decode()
    assert Panel.objects.get(pk=panel.pk).api_token == "tok-1"


def test_panel_can_be_added_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:panels_panel_add"),
        {
            "name": "Amsterdam-1",
            "location_name": "Netherlands",
            "location_flag": "🇳🇱",
            "sort_order": "0",
            "capacity": "0",
            "is_active": "on",
            "base_url": "https://nl1.example.com:2053/xyz/",
            "username": "root",
            "password": "s3cret",
            "verify_tls": "on",
            "public_host": "nl1.example.com",
        },
    )
    assert response.status_code == 302
    panel = Panel.objects.get(name="Amsterdam-1")
    assert (panel.username, panel.password) == ("root", "s3cret")


def test_panel_list_shows_accounts_against_capacity_and_links_its_inbounds(admin_client, customer):
    panel = make_panel(capacity=2)
    inbound = make_inbound(panel)
    make_inbound(panel, remote_id=2, port=8443)
    make_account(customer, make_plan(), inbound)
    other = make_panel("Paris-1", capacity=0)
    make_inbound(other)

    html = admin_client.get(reverse("admin:panels_panel_changelist"), **EN).content.decode()

    assert "1 / 2" in html
    assert "0 / ∞" in html
    inbounds_url = reverse("admin:panels_inbound_changelist") + f"?panel__id__exact={panel.pk}"
    assert f'href="{inbounds_url}"' in html
    assert "2 inbounds" in html
    listed = admin_client.get(inbounds_url).context["cl"].result_list
    assert {i.panel_id for i in listed} == {panel.pk}
    assert len(listed) == 2


def test_full_panel_is_shown_in_red(admin_client, customer):
    panel = make_panel(capacity=1)
    make_account(customer, make_plan(), make_inbound(panel))
    html = admin_client.get(reverse("admin:panels_panel_changelist")).content.decode()
    assert 'color: #c62828; font-weight: bold">1 / 1' in html


# --- inbounds --------------------------------------------------------------------------


def inbound_list_post(client, inbound, **values):
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": inbound.pk,
        "form-0-display_name": values.get("display_name", ""),
        "_save": "Save",
    }
    if values.get("is_sellable"):
        data["form-0-is_sellable"] = "on"
    return client.post(reverse("admin:panels_inbound_changelist"), data, **EN)


def test_inbound_is_made_sellable_from_the_list(admin_client):
    inbound = make_inbound(make_panel())

    response = inbound_list_post(admin_client, inbound, is_sellable=True, display_name="Fast DE")

    assert response.status_code == 302
    inbound.refresh_from_db()
    assert (inbound.is_sellable, inbound.display_name) == (True, "Fast DE")


def test_inbound_with_a_link_problem_cannot_be_made_sellable(admin_client):
    inbound = make_inbound(make_panel(), link_problem="unsupported transport: xhttp")

    response = inbound_list_post(admin_client, inbound, is_sellable=True)

    assert response.status_code == 200
    assert "This inbound cannot be sold: unsupported transport: xhttp" in (
        response.content.decode()
    )
    inbound.refresh_from_db()
    assert inbound.is_sellable is False


def test_inbound_page_edits_only_the_sale_fields(admin_client):
    inbound = make_inbound(make_panel())
    url = reverse("admin:panels_inbound_change", args=[inbound.pk])
    response = admin_client.post(
        url, {"is_sellable": "on", "display_name": "Germany", "port": "1", "remark": "x"}
    )
    assert response.status_code == 302
    inbound.refresh_from_db()
    assert (inbound.is_sellable, inbound.display_name) == (True, "Germany")
    assert (inbound.port, inbound.remark) == (443, "vless-reality")
    assert admin_client.get(reverse("admin:panels_inbound_add")).status_code == 403


def test_inbound_links_to_its_accounts(admin_client, customer):
    panel = make_panel()
    inbound = make_inbound(panel)
    other = make_inbound(panel, remote_id=2, port=8443)
    plan = make_plan()
    mine = make_account(customer, plan, inbound, email="a-1")
    make_account(customer, plan, other, email="b-1")

    html = admin_client.get(reverse("admin:panels_inbound_changelist"), **EN).content.decode()
    accounts_url = (
        reverse("admin:panels_clientaccount_changelist") + f"?inbound__id__exact={inbound.pk}"
    )
    assert f'href="{accounts_url}"' in html
    assert "1 account" in html
    listed = admin_client.get(accounts_url).context["cl"].result_list
    assert [a.pk for a in listed] == [mine.pk]


# --- client accounts ---------------------------------------------------------------------


def test_client_account_shows_qr_and_config_link_read_only(admin_client, customer):
    account = make_account(customer, make_plan(), make_inbound(make_panel()))
    qr_url = reverse("admin:panels_clientaccount_qr", args=[account.pk])

    # The list keeps to the key columns (the QR is on the account's page); usage is
    # isolated so that it reads the right way round in a right-to-left page.
    listing = admin_client.get(reverse("admin:panels_clientaccount_changelist"), **EN)
    assert '<bdi dir="ltr">3 GB / 50 GB</bdi>' in listing.content.decode()
    assert f'<bdi dir="ltr">{account.email}</bdi>' in listing.content.decode()

    page = admin_client.get(reverse("admin:panels_clientaccount_change", args=[account.pk]), **EN)
    html = page.content.decode()
    assert "<textarea readonly" in html
    assert account.config_url.replace("&", "&amp;") in html
    assert 'name="config_url"' not in html
    assert 'name="_save"' not in html
    assert f'<img src="{qr_url}"' in html

    qr = admin_client.get(qr_url)
    assert qr.status_code == 200
    assert b"".join(qr.streaming_content) == png_bytes("black", (64, 64))


def test_client_accounts_table_has_its_foreign_keys():
    with connection.cursor() as cursor:
        assert "client_accounts" in connection.introspection.table_names(cursor)
        relations = connection.introspection.get_relations(cursor, "client_accounts")
        constraints = connection.introspection.get_constraints(cursor, "client_accounts")
    targets = {column: table for column, (_field, table) in relations.items()}
    assert targets == {
        "user_id": "accounts_user",
        "plan_id": "billing_plan",
        "panel_id": "panels_panel",
        "inbound_id": "panels_inbound",
        "order_id": "billing_order",
    }
    foreign_keys = {
        tuple(c["columns"]): c["foreign_key"][0] for c in constraints.values() if c["foreign_key"]
    }
    assert foreign_keys == {
        ("user_id",): "accounts_user",
        ("plan_id",): "billing_plan",
        ("panel_id",): "panels_panel",
        ("inbound_id",): "panels_inbound",
        ("order_id",): "billing_order",
    }
    assert ClientAccount._meta.db_table == "client_accounts"
    assert Inbound._meta.get_field("panel").related_model is Panel
