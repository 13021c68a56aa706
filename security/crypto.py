"""Encryption of secrets at rest: exchange API keys, TOTP seeds, anything a thief must not read.

FIELD_ENCRYPTION_KEYS is a list of Fernet keys, newest first. Values are encrypted with the
first and decrypted with whichever matches, so a key can be rotated in without a flag day:
add the new key in front, run `manage.py rotate_encryption_key`, then drop the old one.

Stored values are versioned: `v1:<key id>:<Fernet token>`, where the key id is the first 8 hex
digits of the key's SHA-256. The id tells, without decrypting, which key a row is under, so the
rotation command skips rows already under the newest key and can be re-run after an interruption.
Bare Fernet tokens (written before versioning) still decrypt.
"""

from __future__ import annotations

import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

VERSION = "v1"


class DecryptionError(Exception):
    """A stored secret cannot be read with any configured key (a key was dropped too early)."""


def key_id(key: str | bytes) -> str:
    raw = key.encode() if isinstance(key, str) else key
    return hashlib.sha256(raw.strip()).hexdigest()[:8]


@cache
def _keyring(keys: tuple[str, ...]) -> tuple[MultiFernet, dict[str, Fernet], str]:
    fernets = [Fernet(key.encode() if isinstance(key, str) else key) for key in keys]
    by_id = {key_id(key): fernet for key, fernet in zip(keys, fernets, strict=True)}
    return MultiFernet(fernets), by_id, key_id(keys[0])


def _ring() -> tuple[MultiFernet, dict[str, Fernet], str]:
    return _keyring(tuple(settings.FIELD_ENCRYPTION_KEYS))


def current_key_id() -> str:
    """The id of the key new values are encrypted with (the first of FIELD_ENCRYPTION_KEYS)."""
    return _ring()[2]


def stored_key_id(stored: str) -> str | None:
    """Which key a stored value is under, from its prefix; None for a bare (unversioned) token."""
    parts = stored.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else None


def encrypt_text(plaintext: str) -> str:
    multi, _by_id, current = _ring()
    return f"{VERSION}:{current}:{multi.encrypt(plaintext.encode()).decode()}"


def decrypt_text(stored: str) -> str:
    multi, by_id, _current = _ring()
    kid = stored_key_id(stored)
    token = stored.split(":", 2)[2] if kid is not None else stored
    try:
        return (by_id.get(kid or "") or multi).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("No configured FIELD_ENCRYPTION_KEYS entry decrypts this value.") from exc


def reencrypt_text(stored: str) -> str:
    """The same secret under the newest key (for key rotation); unchanged text if already there."""
    if stored_key_id(stored) == current_key_id():
        return stored
    return encrypt_text(decrypt_text(stored))


class EncryptedTextField(models.TextField):
    """A text column holding a versioned Fernet token; Python code sees the plaintext.

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


class SealedTextField(models.TextField):
    """A text column holding a versioned Fernet token that Python code sees only as ciphertext.

    For secrets that must be read back but should not sit decrypted on every loaded row (exchange
    credentials): the one place that needs the plaintext calls `decrypt_text` itself, so a model
    instance in a traceback, a log or a debug page carries only ciphertext.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)


def encrypted_columns() -> list[tuple[type[models.Model], str]]:
    """Every (model, column) that holds ciphertext, for key rotation."""
    from django.apps import apps

    return [
        (model, field.column)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField | SealedTextField)
    ]
