"""The demo trader's exchange connection, for `seed_demo` on the offline demo.

Made through the real service and tested against whatever EXCHANGE_API_URLS points at (the loopback
emulator that `make run` starts, which issues the published demo keys of
`exchanges/emulator/demo.py`). Without an emulator there is nothing to connect to, and the demo
goes without.
"""

from __future__ import annotations

from accounts.models import User
from cryptovault.actor import Actor
from exchanges.emulator.demo import DEMO_KEYS
from exchanges.errors import ConnectionTestFailed
from exchanges.models import ExchangeConnection
from exchanges.services.keys import connection_create

DEMO_NICKNAME = "Binance demo"


def demo_connection_ensure(*, actor: Actor, user: User) -> tuple[ExchangeConnection | None, str]:
    """The user's demo Binance connection (made once) and a line saying what happened."""
    existing = ExchangeConnection.objects.visible_to(user).active().filter(nickname=DEMO_NICKNAME).first()
    if existing is not None:
        return existing, f"{DEMO_NICKNAME}: already there"
    keys = next(entry for entry in DEMO_KEYS if entry["exchange"] == "binance")
    try:
        connection, result = connection_create(
            actor=actor,
            user=user,
            exchange="binance",
            nickname=DEMO_NICKNAME,
            api_key=keys["api_key"],
            secret=keys["secret"],
        )
    except ConnectionTestFailed as refused:
        return None, f"{DEMO_NICKNAME}: not connected ({refused.test_code}; is the exchange emulator running?)"
    return connection, f"{DEMO_NICKNAME}: connected ({result.latency_ms} ms)"
