"""The operator's account actions in the admin: per-account reports, a down panel fails
only its own accounts and changes nothing of theirs."""

import pytest
from django.contrib import messages
from django.contrib.admin import helpers
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import translation

from botapp.renewal import new_link_text
from panels.models import AccountEvent, ClientAccount
from panels.tests.lifecycle_helpers import (
    DAY_MS,
    GB,
    make_panel,
    make_plan,
    on_panel,
    sellable_inbound,
    sold_account,
)
from standins.telegram import FakeTelegram
from standins.xui import FakeXuiPanel

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CHANGELIST = "admin:panels_clientaccount_changelist"
SARA = 1001


@pytest.fixture
def tg(settings):
    with FakeTelegram() as fake:
        fake.configure_telebot()
        settings.TELEGRAM_BOT_TOKEN = fake.token
        settings.TELEGRAM_API_URL = fake.base_url
        try:
            yield fake
        finally:
            fake.restore_telebot()


@pytest.fixture
def other_fake(settings):
    with FakeXuiPanel(profile="v2") as fake:
        yield fake


@pytest.fixture
def world(customer, xui_panel, fake_xui, other_fake):
    """Two accounts on a healthy panel, one on a panel that is about to go down."""
    plan = make_plan()
    inbound = sellable_inbound(xui_panel, fake_xui, protocol="vless", security="reality")
    up = [sold_account(customer, plan, xui_panel, inbound) for _ in range(2)]
    down_panel = make_panel(other_fake, name="Paris-1")
    down_inbound = sellable_inbound(down_panel, other_fake, protocol="trojan")
    down = sold_account(customer, plan, down_panel, down_inbound)
    return up, down


def run(admin_client, action, accounts, **data):
    payload = {
        "action": action,
        helpers.ACTION_CHECKBOX_NAME: [a.pk for a in accounts],
        **data,
    }
    response = admin_client.post(reverse(CHANGELIST), payload, follow=True, **EN)
    assert response.status_code == 200
    return response


def reports(response):
    return [(m.level, str(m)) for m in response.context["messages"]]


def state(account):
    row = ClientAccount.objects.get(pk=account.pk)
    return {**model_to_dict(row), "events": AccountEvent.objects.filter(account=row).count()}


def check_split(response, up, down, other_fake, before):
    got = reports(response)
    ok = [text for level, text in got if level == messages.SUCCESS]
    failed = [text for level, text in got if level == messages.WARNING]
    assert len(ok) == len(up), got
    for account in up:
        assert any(account.email in text for text in ok), got
    [failure] = failed
    assert down.email in failure and "Paris-1" in failure
    assert "refused" in failure.lower() or "connect" in failure.lower()  # the reason
    assert state(down) == before  # the row and its history


def test_extend_asks_for_days_gb_and_a_note_first(admin_client, world):
    up, down = world
    response = run(admin_client, "extend_accounts", up)
    html = response.content.decode()
    assert 'name="days"' in html and 'name="traffic_gb"' in html and 'name="note"' in html
    assert all(a.email in html for a in up)
    assert not AccountEvent.objects.exists()

    response = run(admin_client, "extend_accounts", up, apply="yes", days="0", traffic_gb="0")
    assert "Give a number of days or gigabytes to add." in response.content.decode()
    assert not AccountEvent.objects.exists()


def test_extend_with_a_panel_down(admin_client, world, fake_xui, other_fake, admin_user):
    up, down = world
    before_panel = {a.email: on_panel(fake_xui, a.email) for a in up}
    before = state(down)
    other_fake.stop()

    response = run(
        admin_client,
        "extend_accounts",
        [*up, down],
        apply="yes",
        days="10",
        traffic_gb="20",
        note="apology for the outage",
    )

    check_split(response, up, down, other_fake, before)
    for account in up:
        client = on_panel(fake_xui, account.email)
        assert client["expiryTime"] == before_panel[account.email]["expiryTime"] + 10 * DAY_MS
        assert client["totalGB"] == 70 * GB
        event = AccountEvent.objects.get(account=account)
        assert (event.actor, event.note) == (admin_user, "apology for the outage")


@pytest.mark.parametrize("action,confirm", [("disable_accounts", False), ("delete_accounts", True)])
def test_panel_actions_with_a_panel_down(
    admin_client, world, fake_xui, other_fake, action, confirm
):
    up, down = world
    before = state(down)
    other_fake.stop()
    extra = {"apply": "yes"} if confirm else {}

    response = run(admin_client, action, [*up, down], **extra)

    check_split(response, up, down, other_fake, before)
    for account in up:
        account.refresh_from_db()
        expected = "deleted" if action == "delete_accounts" else "disabled"
        assert account.status == expected


def test_delete_asks_first(admin_client, world, fake_xui):
    up, _ = world
    response = run(admin_client, "delete_accounts", up)
    assert "Yes, do it" in response.content.decode()
    assert all(fake_xui.find_client(a.email) for a in up)


def test_enable_with_a_panel_down(admin_client, world, fake_xui, other_fake):
    up, down = world
    run(admin_client, "disable_accounts", [*up, down])
    before = state(down)
    other_fake.stop()
    response = run(admin_client, "enable_accounts", [*up, down])
    check_split(response, up, down, other_fake, before)
    assert all(on_panel(fake_xui, a.email)["enable"] for a in up)


def test_regenerate_with_a_panel_down_sends_the_new_config(
    admin_client, world, fake_xui, other_fake, tg
):
    up, down = world
    old = {a.pk: (a.config_url, a.uuid) for a in up}
    before = state(down)
    other_fake.stop()

    response = run(admin_client, "regenerate_links", [*up, down])

    check_split(response, up, down, other_fake, before)
    for account in up:
        account.refresh_from_db()
        assert (account.config_url, account.uuid) != old[account.pk]
        assert on_panel(fake_xui, account.email)["id"] == account.uuid
    assert len(tg.photos_to(SARA)) == 2
    received = "\n".join(tg.texts_to(SARA))
    with translation.override("fa"):  # Sara reads Persian
        assert received.count(new_link_text()) == 2
    for account in up:
        assert account.config_url in received


def test_resend_config(admin_client, world, tg):
    up, _ = world
    response = run(admin_client, "resend_configs", up)
    assert [level for level, _ in reports(response)] == [messages.SUCCESS] * 2
    assert len(tg.photos_to(SARA)) == 2
    assert AccountEvent.objects.filter(action="resend").count() == 2


def test_resend_to_a_customer_who_blocked_the_bot_is_reported(admin_client, world, tg, customer):
    up, _ = world
    tg.block_chat(SARA)
    response = run(admin_client, "resend_configs", up[:1])
    [(level, text)] = reports(response)
    assert level == messages.WARNING and "Telegram" in text
    customer.refresh_from_db()
    assert customer.has_blocked_bot


def test_the_history_is_on_the_account_page(admin_client, world):
    up, _ = world
    run(admin_client, "disable_accounts", up[:1])
    html = admin_client.get(
        reverse("admin:panels_clientaccount_change", args=[up[0].pk]), **EN
    ).content.decode()
    assert "history" in html.lower() and "disabled" in html


def test_staff_without_the_permission_see_no_actions(client, world, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user(
        username="viewer", password="viewer-pass-123", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_clientaccount"))
    client.force_login(viewer)
    html = client.get(reverse(CHANGELIST), **EN).content.decode()
    assert "extend_accounts" not in html
    up, _ = world
    response = client.post(
        reverse(CHANGELIST),
        {"action": "disable_accounts", helpers.ACTION_CHECKBOX_NAME: [up[0].pk]},
        **EN,
    )
    assert response.status_code in (200, 302)
    assert not AccountEvent.objects.exists()
