"""Password rules beyond Django's: a ceiling on length and a breached-password check."""

from __future__ import annotations

import hashlib
import logging
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)


class MaximumLengthValidator:
    """Long passphrases are welcome up to 128 characters; beyond that hashing is a DoS lever."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long. It must contain at most {self.max_length} characters.",
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password cannot be longer than {self.max_length} characters."


def breached_count(password: str) -> int | None:
    """How often Have I Been Pwned saw this password; None when the service cannot be asked.

    Only the first five hex digits of the SHA-1 are sent (k-anonymity); the match is local.
    """
    base_url = settings.PWNED_PASSWORDS_URL
    if not base_url:
        return None
    digest = hashlib.sha1(password.encode()).hexdigest().upper()  # noqa: S324 - the API's format
    prefix, suffix = digest[:5], digest[5:]
    if not base_url.startswith(("https://", "http://")):
        logger.warning("PWNED_PASSWORDS_URL must be an http(s) URL; breached-password check skipped.")
        return None
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        base_url.rstrip("/") + "/" + prefix, headers={"User-Agent": "CryptoVault", "Add-Padding": "true"}
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.PWNED_PASSWORDS_TIMEOUT) as response:  # noqa: S310 - scheme checked above
            body = response.read().decode()
    except OSError as exc:
        logger.warning("Breached-password check skipped: %s", exc.__class__.__name__)
        return None
    for line in body.splitlines():
        candidate, _, count = line.partition(":")
        if candidate.strip() == suffix:
            return int(count.strip() or 0)
    return 0


class BreachedPasswordValidator:
    """Refuse passwords seen in data breaches. If the service is down, sign-up still works:
    Django's list of 20,000 common passwords is always checked alongside."""

    def validate(self, password: str, user=None) -> None:
        count = breached_count(password)
        if count:
            raise ValidationError(
                "This password has appeared in a data breach and is not safe to use. Choose another.",
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return "Your password cannot be one that has appeared in a known data breach."
