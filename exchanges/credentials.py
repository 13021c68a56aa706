"""API credentials in memory: checked before use, sealed for storage, opened only for ccxt.

`Credentials` never prints its values (its repr shows the key's last four characters), so one
caught in a log line, a traceback or a debug page gives nothing away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from exchanges.catalogue import ExchangeSpec
from exchanges.models import ExchangeConnection
from security.crypto import decrypt_text, encrypt_text

MAX_KEY_LENGTH = 256
MAX_SECRET_LENGTH = 2048  # Coinbase's secret is a PEM private key
MAX_PASSPHRASE_LENGTH = 128


@dataclass(frozen=True)
class Credentials:
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)

    @property
    def hint(self) -> str:
        return self.api_key[-4:]

    def __repr__(self) -> str:
        return f"Credentials(key=…{self.hint})"


def _check(value: str, *, label: str, limit: int, multiline: bool = False) -> str | None:
    if not value:
        return f"Enter the {label}."
    if len(value) > limit:
        return f"The {label} is longer than any exchange issues ({limit} characters at most)."
    allowed_controls = "\n\r" if multiline else ""
    if any(not (char.isprintable() or char in allowed_controls) for char in value):
        return f"The {label} holds characters that cannot be part of it (control or invisible characters)."
    if not value.isascii():
        return f"The {label} holds non-ASCII characters; keys are plain ASCII."
    return None


def checked_credentials(spec: ExchangeSpec, *, api_key: str, secret: str, passphrase: str = "") -> Credentials:
    """The credentials, trimmed, or a ValidationError naming each bad field (never echoing a value)."""
    api_key = (api_key or "").strip()
    secret = (secret or "").strip()
    passphrase = (passphrase or "").strip()
    errors: dict[str, str] = {}
    if problem := _check(api_key, label="API key", limit=MAX_KEY_LENGTH):
        errors["api_key"] = problem
    if problem := _check(secret, label="API secret", limit=MAX_SECRET_LENGTH, multiline=spec.secret_is_multiline):
        errors["secret"] = problem
    if spec.needs_passphrase:
        if problem := _check(passphrase, label="passphrase", limit=MAX_PASSPHRASE_LENGTH):
            errors["passphrase"] = problem
    elif passphrase:
        errors["passphrase"] = f"{spec.name} keys have no passphrase; leave it empty."
    if errors:
        raise ValidationError(errors)
    return Credentials(api_key=api_key, secret=secret, passphrase=passphrase)


def seal_into(connection: ExchangeConnection, credentials: Credentials) -> None:
    connection.api_key_sealed = encrypt_text(credentials.api_key)
    connection.secret_sealed = encrypt_text(credentials.secret)
    connection.passphrase_sealed = encrypt_text(credentials.passphrase) if credentials.passphrase else ""
    connection.key_hint = credentials.hint


def wipe(connection: ExchangeConnection) -> None:
    connection.api_key_sealed = connection.secret_sealed = connection.passphrase_sealed = ""


def open_credentials(connection: ExchangeConnection) -> Credentials:
    """The one place stored exchange credentials are decrypted (for `exchanges.client`)."""
    return Credentials(
        api_key=decrypt_text(connection.api_key_sealed),
        secret=decrypt_text(connection.secret_sealed),
        passphrase=decrypt_text(connection.passphrase_sealed) if connection.passphrase_sealed else "",
    )
