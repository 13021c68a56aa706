"""How the connect wizard carries typed keys from one step to the next without keeping them anywhere.

The keys must reach step 4 (the save) after being typed at step 2, and the server must not hold
them in between: not in the session, the cache or the database, where an abandoned wizard would
leave them behind. Echoing them back into the page would put them in the HTML, the browser's
history and any proxy's memory. So the page carries one hidden field, `state`: the wizard's values
encrypted and authenticated (Fernet) under a key derived from SECRET_KEY for this purpose only,
bound to the user who typed them and valid for WIZARD_STATE_TTL_SECONDS. The page holds only
ciphertext; only this server can open it, only for that user, only for a while.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.core.cache import cache
from django.utils.crypto import salted_hmac

WIZARD_STATE_TTL_SECONDS = 15 * 60


def _fernet() -> Fernet:
    key = salted_hmac("exchanges.wizard", "carried-credentials", algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class WizardState:
    exchange: str
    nickname: str
    sandbox: bool
    features: list[str]
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(default="", repr=False)
    result: dict[str, Any] | None = None  # the test's {ok, code, message, latency_ms}, for the review

    @property
    def key_hint(self) -> str:
        return self.api_key.strip()[-4:]

    @property
    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, "secret": self.secret, "passphrase": self.passphrase}

    def with_result(self, result: dict[str, Any]) -> WizardState:
        return replace(self, result=result)

    def seal(self, user: Any) -> str:
        payload = {"user": user.pk, **asdict(self)}
        return _fernet().encrypt(json.dumps(payload).encode()).decode()

    @classmethod
    def open(cls, token: str, user: Any) -> WizardState | None:
        """The state sealed for `user`, or None when it is not one, is someone else's or has expired."""
        try:
            payload = json.loads(_fernet().decrypt(token.encode(), ttl=WIZARD_STATE_TTL_SECONDS))
        except (InvalidToken, ValueError, TypeError):
            return None
        if not isinstance(payload, dict) or payload.pop("user", None) != user.pk:
            return None
        try:
            return cls(**payload)
        except TypeError:
            return None


def _spent_key(token: str) -> str:
    return f"exchanges:wizard:saved:{hashlib.sha256(token.encode()).hexdigest()}"


def claim(token: str) -> bool:
    """Take the right to save what `token` carries, once: a replayed or double-clicked save gets False.

    Atomic in the shared cache (Redis `SET NX`), so two saves racing cannot both win.
    """
    return cache.add(_spent_key(token), 1, WIZARD_STATE_TTL_SECONDS)


def release(token: str) -> None:
    """The save did not happen (bad input, a failed test): the same page may try again."""
    cache.delete(_spent_key(token))
