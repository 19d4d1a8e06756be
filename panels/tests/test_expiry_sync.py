"""Sync turns what the panel did at the end of a term into the account's status."""

import time

import pytest

from panels.models import ClientAccount
from panels.sessions import panel_clients_reset
from panels.sync import panel_sync
from panels.tests.lifecycle_helpers import (
    DAY_MS,
    GB,
    make_panel,
    make_plan,
    sellable_inbound,
    set_on_panel,
    sold_account,
)
from standins.xui import FakeXuiPanel

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["v2", "v2_old", "v3", "legacy"])
def fake(request, settings):
    settings.PANEL_CONNECT_TIMEOUT, settings.PANEL_READ_TIMEOUT = 5.0, 10.0
    with FakeXuiPanel(profile=request.param) as panel:
        yield panel
    panel_clients_reset()


@pytest.fixture
def account(customer, fake):
    panel = make_panel(fake)
    inbound = sellable_inbound(panel, fake, protocol="vless")
    return sold_account(customer, make_plan(), panel, inbound)


def synced(account):
    assert panel_sync(panel=account.panel).ok
    return ClientAccount.objects.get(pk=account.pk)


def test_out_of_time_becomes_expired(account, fake):
    set_on_panel(fake, account.email, expiryTime=int(time.time() * 1000) - DAY_MS)
    # v2.9+/v3 switch the client off; older panels only the traffic row.
    fake.set_client_enable(account.email, False)
    account = synced(account)
    assert (account.status, account.panel_enabled) == (ClientAccount.Status.EXPIRED, False)


def test_out_of_traffic_becomes_expired(account, fake):
    fake.set_traffic(account.email, 30 * GB, 21 * GB)
    fake.set_client_enable(account.email, False)
    account = synced(account)
    assert account.status == ClientAccount.Status.EXPIRED
    assert account.used_bytes == 51 * GB


def test_switched_off_by_hand_is_disabled_not_expired(account, fake):
    set_on_panel(fake, account.email, enable=False)
    assert synced(account).status == ClientAccount.Status.DISABLED
