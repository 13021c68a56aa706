"""Plain helpers for the price alert tests: alerts set through the service, and ticks that are real
`exchanges.market.feed.Ticker`s, as the publisher sends them (fixtures live in conftest.py)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from exchanges.market.feed import Ticker
from tests.factories import TEST_ACTOR
from trading.models import PriceAlert
from trading.services.alerts import alert_create, alerts_evaluate

# A tick from the offline replay (what `make run` serves), as the pages label it.
REPLAYED = {"source": "replay", "source_label": "Replay of Binance candles from 2025-03-04"}


def tick(symbol: str = "BTC/USDT", last: str = "65000", change: str = "0", **overrides) -> Ticker:
    price = Decimal(last)
    fields = {
        "symbol": symbol,
        "last": price,
        "change_24h_pct": Decimal(change),
        "high_24h": price,
        "low_24h": price,
        "volume_24h": Decimal("12.5"),
        "quote_volume_24h": price * Decimal("12.5"),
        "source": "binance",
        "source_label": "Binance (live)",
        "updated_at": timezone.now(),
    }
    return Ticker(**{**fields, **overrides})


def fire_at(symbol: str, last: str, change: str = "0", **overrides) -> list[PriceAlert]:
    """One tick of `symbol` at `last` through the alerts, as the publisher's receiver sends it; what it fired."""
    return alerts_evaluate(tickers=[tick(symbol, last, change, **overrides)])


def an_alert(user, symbol="BTC/USDT", kind="above", threshold="70000", note="") -> PriceAlert:
    return alert_create(actor=TEST_ACTOR, user=user, symbol=symbol, kind=kind, threshold=Decimal(threshold), note=note)
