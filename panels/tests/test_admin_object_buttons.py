"""The list actions as buttons on an account's page: same action, same permission check,
and the operator lands back on the account's page."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from panels.models import AccountEvent, ClientAccount
from panels.tests.lifecycle_helpers import make_plan, sellable_inbound, sold_account

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def account(customer, xui_panel, fake_xui):
    inbound = sellable_inbound(xui_panel, fake_xui, protocol="vless", security="reality")
    return sold_account(customer, make_plan(), xui_panel, inbound)


def page(client, account):
    url = reverse("admin:panels_clientaccount_change", args=[account.pk])
    return client.get(url, **EN).content.decode()


def press(client, account, action, **data):
    payload = {
        "action": action,
        "_selected_action": [account.pk],
        "_from_object": "1",
        **data,
    }
    url = reverse("admin:panels_clientaccount_changelist")
    return client.post(url, payload, follow=True, **EN)


def test_the_account_page_has_the_action_buttons(admin_client, account):
    html = page(admin_client, account)
    for name in (
        "extend_accounts",
        "disable_accounts",
        "enable_accounts",
        "resend_configs",
        "regenerate_links",
        "delete_accounts",
    ):
        assert f'id="object-action-{name}"' in html, name


def test_extend_from_the_account_page_comes_back_to_it(admin_client, account):
    before = ClientAccount.objects.get(pk=account.pk).expires_at
    form = press(admin_client, account, "extend_accounts")
    assert 'name="days"' in form.content.decode()
    assert 'name="_from_object"' in form.content.decode()

    done = press(admin_client, account, "extend_accounts", apply="yes", days="10",
                 traffic_gb="0", note="goodwill")  # fmt: skip
    change_url = reverse("admin:panels_clientaccount_change", args=[account.pk])
    assert done.redirect_chain[-1][0] == change_url
    assert any("extended" in str(m) for m in done.context["messages"])
    after = ClientAccount.objects.get(pk=account.pk).expires_at
    assert after - before == dt.timedelta(days=10)


def test_a_role_sees_only_the_buttons_it_may_press(client, account, django_user_model):
    # Support may extend, disable, regenerate and resend but not delete on the panel.
    support = django_user_model.objects.create_user(
        username="support", password="pw-123456789", is_staff=True
    )
    support.groups.add(Group.objects.get(name="Support"))
    client.force_login(support)
    html = page(client, account)
    assert 'id="object-action-extend_accounts"' in html
    assert 'id="object-action-delete_accounts"' not in html

    # A staff login that may only look gets no buttons, and a forged post does nothing.
    viewer = django_user_model.objects.create_user(
        username="viewer", password="pw-123456789", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_clientaccount"))
    client.force_login(viewer)
    assert "object-action-" not in page(client, account)
    press(client, account, "disable_accounts")
    assert not AccountEvent.objects.filter(action__icontains="disable").exists()
    assert ClientAccount.objects.get(pk=account.pk).status == ClientAccount.Status.ACTIVE


def test_the_order_page_has_retry_refund_and_move(admin_client, account):
    html = admin_client.get(
        reverse("admin:billing_order_change", args=[account.order_id]), **EN
    ).content.decode()
    for name in ("retry_provisioning", "refund_to_wallet", "move_to_another_inbound"):
        assert f'id="object-action-{name}"' in html, name
