"""Deleting an account in the console goes through the panel, never around it."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse

from panels.models import ClientAccount
from panels.tests.lifecycle_helpers import make_plan, sellable_inbound, sold_account

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def account(customer, xui_panel, fake_xui):
    inbound = sellable_inbound(xui_panel, fake_xui, protocol="vless")
    # A second client, so the panel can delete the first (v2 keeps an inbound's last).
    sold_account(customer, make_plan(name="other"), xui_panel, inbound)
    return sold_account(customer, make_plan(), xui_panel, inbound)


def test_the_stock_delete_is_not_offered(client, staff_user, account, fake_xui):
    client.force_login(staff_user)
    change = client.get(reverse("admin:panels_clientaccount_change", args=[account.pk]), **EN)
    assert reverse("admin:panels_clientaccount_delete", args=[account.pk]) not in (
        change.content.decode()
    )
    changelist = client.get(reverse("admin:panels_clientaccount_changelist"), **EN)
    assert 'value="delete_selected"' not in changelist.content.decode()

    url = reverse("admin:panels_clientaccount_delete", args=[account.pk])
    response = client.post(url, {"post": "yes"}, **EN)
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.ACTIVE
    assert fake_xui.find_client(account.email)[1]["enable"] is True


def test_a_delete_that_reaches_the_admin_still_goes_to_the_panel(staff_user, account, fake_xui):
    # delete_model/delete_queryset are the admin's hooks; whoever calls them, the
    # client leaves the panel and the row stays, marked deleted, for the audit.
    model_admin = site._registry[ClientAccount]
    request = RequestFactory().post("/")
    request.user = staff_user
    model_admin.delete_queryset(request, ClientAccount.objects.filter(pk=account.pk))
    account.refresh_from_db()
    assert account.status == ClientAccount.Status.DELETED
    assert fake_xui.find_client(account.email) is None
    assert account.events.get().action == "delete"


def test_the_account_history_shows_times_in_the_console_zone(client, staff_user, account):
    from panels import lifecycle

    lifecycle.account_extend(account=account, days=3, note="outage", actor=staff_user)
    client.force_login(staff_user)
    page = client.get(reverse("admin:panels_clientaccount_change", args=[account.pk]), **EN)
    html = page.content.decode()
    assert "outage" in html
    assert "+00:00" not in html
    assert "+03:30" in html  # the expiry before and after, in Tehran time
