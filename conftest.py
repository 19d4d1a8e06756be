"""Fixtures shared by every app's tests."""

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Receipts and QR codes written by a test go to its own folder.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Login and API throttles count in the cache: no test inherits another's count.
    from django.core.cache import cache

    from billing.catalogue import catalogue_forget

    cache.clear()
    catalogue_forget()  # the plans a test's rolled-back rows left in memory
    yield
    cache.clear()
    catalogue_forget()


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="operator", password="operator-pass-123", is_staff=True, is_superuser=True
    )


@pytest.fixture
def customer(django_user_model):
    return django_user_model.objects.create_user(
        username="tg_1001", telegram_id=1001, first_name="Sara", language="fa"
    )


@pytest.fixture
def fake_xui():
    """A fake 3x-ui panel (v2.9 profile) on 127.0.0.1."""
    from panels.sessions import panel_clients_reset
    from standins.xui import FakeXuiPanel

    with FakeXuiPanel(profile="v2", username="admin", password="secret") as panel:
        yield panel
    panel_clients_reset()


@pytest.fixture
def xui_panel(db, fake_xui, settings):
    """A registered Panel pointing at fake_xui.

    Timeouts are shorter than production's but leave room for a loaded CI machine (two
    suites at once on 2 cores); the tests of timeouts set their own.
    """
    from panels.models import Panel

    settings.PANEL_CONNECT_TIMEOUT = 5.0
    settings.PANEL_READ_TIMEOUT = 10.0
    return Panel.objects.create(
        name="Frankfurt-1",
        location_name="Germany",
        location_flag="🇩🇪",
        base_url=fake_xui.url,
        username="admin",
        password="secret",
        public_host="de1.moonvpn.example",
        sub_base_url="https://sub.moonvpn.example:2096/sub/",
    )
