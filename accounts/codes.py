"""Short secrets typed by people (email and SMS codes) and how they are kept: never in clear."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings


def numeric_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def code_digest(code: str, *, salt: str) -> str:
    """A keyed digest: a stolen table cannot be brute-forced without SECRET_KEY and the salt.

    Six digits have only a million values, so a plain hash would not protect them.
    """
    normalised = normalise_typed_code(code)
    key = f"{settings.SECRET_KEY}:{salt}".encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """High-entropy tokens (recovery codes, API keys, challenge ids): SHA-256 is enough and
    survives a SECRET_KEY rotation."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_typed_code(code: str) -> str:
    """What a person types: spaces, dashes and case do not matter."""
    return "".join(code.split()).replace("-", "").upper()
