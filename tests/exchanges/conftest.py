"""ccxt clients pointed at the exchange emulator, for the emulator's own tests.

The emulator itself and the keys issued on it (`exchange_emulator`, `emulated_exchanges`,
`binance_keys`, `kucoin_keys`) are tests/conftest.py's, for every app's tests. The client
factories build ccxt's real clients, as the app's client factory does, and point them at it with
`exchanges.endpoints.point_at`.
"""

from __future__ import annotations

from collections.abc import Callable

import ccxt
import pytest

from exchanges.emulator import Emulator
from exchanges.endpoints import point_at

BINANCE_KEY = "test-binance-key"
BINANCE_SECRET = "test-binance-secret"
KUCOIN_KEY = "test-kucoin-key"
KUCOIN_SECRET = "test-kucoin-secret"
KUCOIN_PASSPHRASE = "test-kucoin-passphrase"


@pytest.fixture
def binance_client_factory(exchange_emulator: Emulator) -> Callable[..., ccxt.binance]:
    """`make(api_key=..., secret=..., **options)`: a ccxt binance client aimed at the emulator.
    The key is not issued; call `exchange_emulator.add_key("binance", ...)` for that."""

    def make(api_key: str = BINANCE_KEY, secret: str = BINANCE_SECRET, **options) -> ccxt.binance:
        client = ccxt.binance(
            {"apiKey": api_key, "secret": secret, "timeout": 3000, "enableRateLimit": False, **options}
        )
        point_at(client, exchange_emulator.base_url("binance"))
        return client

    return make


@pytest.fixture
def kucoin_client_factory(exchange_emulator: Emulator) -> Callable[..., ccxt.kucoin]:
    """`make(api_key=..., secret=..., password=..., **options)`; `password=None` leaves it out."""

    def make(
        api_key: str = KUCOIN_KEY,
        secret: str = KUCOIN_SECRET,
        password: str | None = KUCOIN_PASSPHRASE,
        **options,
    ) -> ccxt.kucoin:
        config = {"apiKey": api_key, "secret": secret, "timeout": 3000, "enableRateLimit": False, **options}
        if password is not None:
            config["password"] = password
        client = ccxt.kucoin(config)
        point_at(client, exchange_emulator.base_url("kucoin"))
        return client

    return make
