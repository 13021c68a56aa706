"""Refuse to start a production process with unsafe settings.

Settings are read from the environment, so a typo in a deployment would otherwise
silently fall back to a development default. With DEBUG off, each unsafe value is
named so the operator knows which variable to fix.
"""

from __future__ import annotations

from cryptography.fernet import Fernet

DEVELOPMENT_SECRET_KEY = "django-insecure-cryptovault-development-key-never-use-in-production-0123456789"  # noqa: S105 - refused with DEBUG off
# A fixed key so the embedded default can decrypt what it stored yesterday. Refused with DEBUG off.
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "Y3J5cHRvdmF1bHQtZGV2ZWxvcG1lbnQta2V5LTAwMDA="
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5


def secret_key_problem(secret_key: str | None) -> str | None:
    """Return why SECRET_KEY is unsafe for production, or None when it is fine."""
    if not secret_key:
        return "SECRET_KEY is missing: set it to a random string of at least 50 characters."
    if secret_key == DEVELOPMENT_SECRET_KEY or secret_key.startswith("django-insecure"):
        return "SECRET_KEY is the development default: generate a new random one."
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        return f"SECRET_KEY is too short ({len(secret_key)} characters, at least {MIN_SECRET_KEY_LENGTH})."
    if len(set(secret_key)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS:
        return "SECRET_KEY has too few distinct characters to be random."
    return None


def field_encryption_keys_problem(keys: list[str]) -> str | None:
    """Return why FIELD_ENCRYPTION_KEYS cannot protect secrets at rest, or None."""
    if not keys:
        return "FIELD_ENCRYPTION_KEYS is missing: set one or more comma-separated Fernet keys."
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return f"FIELD_ENCRYPTION_KEYS key #{position} is not a valid Fernet key (32 url-safe base64 bytes)."
        if key == DEVELOPMENT_FIELD_ENCRYPTION_KEY:
            return f"FIELD_ENCRYPTION_KEYS key #{position} is the development default: generate a new one."
    return None


def allowed_hosts_problem(hosts: list[str]) -> str | None:
    if not [host for host in hosts if host.strip()]:
        return "ALLOWED_HOSTS is empty: list the host names this deployment answers to."
    return None


def redis_url_problem(redis_url: str | None) -> str | None:
    # Without it every process would start its own embedded Redis: no shared cache,
    # broker or channel layer, so tasks and live events would silently go nowhere.
    if not redis_url:
        return "REDIS_URL is missing: production processes must share one Redis (redis://host:6379/0)."
    return None


def email_url_problem(email_url: str | None) -> str | None:
    # The console backend writes whole messages to stdout, past the log masking: verification
    # codes and password-reset links would end up in log storage instead of the user's inbox.
    if not email_url or email_url.startswith("consolemail:"):
        return (
            "EMAIL_URL is missing or consolemail://: verification codes and password-reset links would be "
            "printed to the log. Set an SMTP URL (smtp+tls://user:password@host:587)."
        )
    return None


def sms_backend_problem(sms_backend: str) -> str | None:
    if sms_backend.endswith("LoggingSMSBackend"):
        return (
            "SMS_BACKEND is the logging backend: sign-in codes would be written to the log. Set TWILIO_* "
            "(or leave SMS_BACKEND unset to turn SMS off)."
        )
    return None


def exchange_api_urls_problem(exchange_api_urls: str) -> str | None:
    """Traders' API keys go wherever EXCHANGE_API_URLS points: never in clear over the network."""
    plain = [entry.strip() for entry in exchange_api_urls.split(",") if "=http://" in entry.replace(" ", "")]
    if plain:
        return (
            f"EXCHANGE_API_URLS sends exchange keys over plain HTTP ({', '.join(plain)}): use https:// URLs, or "
            "leave it empty to reach the exchanges themselves (the loopback emulator is for development)."
        )
    return None


def production_problems(
    *,
    secret_key: str | None,
    field_encryption_keys: list[str],
    allowed_hosts: list[str],
    redis_url: str | None,
    email_url: str | None,
    sms_backend: str,
    exchange_api_urls: str = "",
) -> list[str]:
    """Every reason the given settings are unsafe for a DEBUG-off process."""
    checks = (
        secret_key_problem(secret_key),
        field_encryption_keys_problem(field_encryption_keys),
        allowed_hosts_problem(allowed_hosts),
        redis_url_problem(redis_url),
        email_url_problem(email_url),
        sms_backend_problem(sms_backend),
        exchange_api_urls_problem(exchange_api_urls),
    )
    return [problem for problem in checks if problem]
