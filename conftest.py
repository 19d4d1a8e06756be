"""Fixtures shared by every app's tests."""

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Receipts and QR codes written by a test go to its own folder.
    settings.MEDIA_ROOT = str(tmp_path / "media")


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
