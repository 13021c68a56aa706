"""Encryption of secrets at rest: exchange API keys, TOTP seeds, anything a thief must not read.

FIELD_ENCRYPTION_KEYS is a list of Fernet keys, newest first. Values are encrypted with the
first and decrypted with whichever matches, so a key can be rotated in without a flag day:
add the new key in front, re-encrypt (`MultiFernet.rotate`), then drop the old one.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class DecryptionError(Exception):
    """A stored secret cannot be read with any configured key (a key was dropped too early)."""


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("No configured FIELD_ENCRYPTION_KEYS entry decrypts this value.") from exc


def reencrypt_text(token: str) -> str:
    """The same secret under the newest key (for key rotation)."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code sees the plaintext.

    Never editable in forms or the admin: a secret is set through a service and never shown.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)
