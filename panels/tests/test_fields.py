"""Panel secrets at rest."""

import pytest
from django.db import connection

from panels.models import Panel

pytestmark = pytest.mark.django_db


def _raw(panel, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM panels_panel WHERE id = %s", [panel.pk])
        return cursor.fetchone()[0]


def test_secrets_are_encrypted_and_read_back(xui_panel):
    assert "secret" not in _raw(xui_panel, "password")
    assert Panel.objects.get(pk=xui_panel.pk).password == "secret"


def test_a_changed_key_leaves_panels_loadable(xui_panel, settings, caplog):
    from cryptography.fernet import Fernet

    settings.PANEL_SECRETS_KEY = Fernet.generate_key().decode()
    panel = Panel.objects.get(pk=xui_panel.pk)
    assert panel.password == ""
    assert "enter it again" in caplog.text
