"""A text field encrypted at rest with Fernet (key: settings.PANEL_SECRETS_KEY)."""

import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(value: str) -> str:
    return _fernet(settings.PANEL_SECRETS_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.PANEL_SECRETS_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # The key changed (e.g. SECRET_KEY rotated without PANEL_SECRETS_KEY): say so
        # instead of handing the ciphertext to the panel as a password.
        raise ValueError(
            "a panel secret cannot be decrypted: PANEL_SECRETS_KEY (or SECRET_KEY) changed"
        ) from exc


class EncryptedTextField(models.TextField):
    """Stores Fernet tokens; Python code only ever sees the plain text."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return decrypt(value)
        except ValueError as exc:
            # Raising here would make every page that loads a panel fail, leaving the
            # operator no way to re-enter the secret; an empty one fails the login
            # instead, which the panel's health shows.
            log.error("%s: %s; enter it again in the admin", self.name, exc)
            return ""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
