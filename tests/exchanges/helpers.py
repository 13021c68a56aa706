"""Plain helpers for the exchanges tests (fixtures live in tests/exchanges/conftest.py)."""

from __future__ import annotations

from typing import Any

from cryptovault.actor import Actor
from exchanges.models import ExchangeConnection
from exchanges.services.keys import connection_create
from tests import secret_watch


def connect(
    user, keys: dict[str, str], *, exchange: str = "binance", nickname: str = "Main", **overrides: Any
) -> ExchangeConnection:
    """A connection made through the real service (and the emulator), as an operator would: no 2FA asked.

    Its keys join the secret watch (tests/secret_watch.py): no log, response or email may show them.
    """
    secret_watch.watch(*keys.values())
    connection, _result = connection_create(
        actor=Actor.for_command("tests"), user=user, exchange=exchange, nickname=nickname, **keys, **overrides
    )
    return connection
