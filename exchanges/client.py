"""The one way code gets a ccxt client: configured alike everywhere, pointed where settings say.

Spot only (Binance would otherwise also load its futures markets), a timeout from settings, no
retries (ccxt retries nothing by itself; an authentication failure must never be retried), and the
exchange's sandbox when asked. EXCHANGE_API_URLS points a client at another host (the loopback
emulator in the tests and the offline demo); everything else is the real ccxt client.
"""

from __future__ import annotations

from functools import cache

import ccxt
from django.conf import settings

from exchanges.catalogue import ExchangeSpec
from exchanges.credentials import Credentials
from exchanges.endpoints import parse_overrides, point_at

SPOT_ONLY = {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}}


@cache
def _overrides(text: str) -> dict[str, str]:
    return parse_overrides(text)


def api_overrides() -> dict[str, str]:
    return _overrides(settings.EXCHANGE_API_URLS)


def exchange_client(
    spec: ExchangeSpec, credentials: Credentials | None = None, *, sandbox: bool = False, timeout_s: float | None = None
) -> ccxt.Exchange:
    config: dict = {
        "timeout": int((timeout_s or settings.EXCHANGE_TIMEOUT_SECONDS) * 1000),
        "enableRateLimit": False,  # one call at a time per client; the exchange's own limits answer
        "options": dict(SPOT_ONLY),
    }
    if credentials is not None:
        config.update(apiKey=credentials.api_key, secret=credentials.secret)
        if credentials.passphrase:
            config["password"] = credentials.passphrase
    client = getattr(ccxt, spec.ccxt_id)(config)
    if sandbox and spec.supports_sandbox:
        client.set_sandbox_mode(True)
    if base_url := api_overrides().get(spec.id):
        point_at(client, base_url)
    return client
