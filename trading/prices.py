"""The price an order is judged against: the publisher's last tick, else the feed.

The paper engine fills resting orders on the ticks the publisher sends, so a market order placed a
moment later must see the same price the ticks show, not a cached one a minute old. The publisher
keeps its last tick in the cache (`exchanges.market.publisher.LAST_TICK_KEY`); when that tick is
recent (at most `max_tick_age()` old) it is the price, otherwise `exchanges.market.feed.tickers()`
answers (live from the exchange, or the labelled replay). Either way the Ticker says its source.

A replayed price is a price that never happened now. `counts_now` is the one rule on it, for
placement (`current_ticker`) and the engine (`trading.services.engine.evaluate_tick`) alike: it
counts only where the replay is the configured source (MARKET_DATA_EXCHANGE=replay, the offline
demo `make run` serves). Where a real exchange is configured and the feed fell back to the replay,
nothing trades: `current_ticker` answers MarketUnavailable (503) rather than fill, arm a trailing
stop or check an OCO against a price the engine would ignore.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from exchanges.market import feed
from exchanges.market.feed import MarketUnavailable, Ticker
from exchanges.market.publisher import LAST_TICK_KEY
from exchanges.market.symbols import parse_symbol

_DECIMALS = ("last", "change_24h_pct", "high_24h", "low_24h", "volume_24h", "quote_volume_24h")


def max_tick_age() -> timedelta:
    """Two ticks' worth: one missed tick is tolerated, a stopped publisher is not."""
    return timedelta(seconds=2 * settings.PRICE_TICK_SECONDS)


def ticker_from_dict(data: dict[str, Any]) -> Ticker:
    """A Ticker back from `Ticker.as_dict()` (how the publisher keeps its last tick)."""
    return Ticker(
        symbol=data["symbol"],
        **{name: Decimal(str(data[name])) for name in _DECIMALS},
        source=data.get("source", ""),
        source_label=data.get("source_label", ""),
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


def last_tick_tickers() -> dict[str, Ticker]:
    """The publisher's last tick by symbol, when it is recent enough to trade on; {} otherwise."""
    try:
        payload = cache.get(LAST_TICK_KEY)
    except Exception:  # the cache is down: the feed answers
        return {}
    if not payload or "at" not in payload:
        return {}
    try:
        at = datetime.fromisoformat(payload["at"])
    except (TypeError, ValueError):
        return {}
    if timezone.now() - at > max_tick_age():
        return {}
    return {data["symbol"]: ticker_from_dict(data) for data in payload.get("ticks", [])}


def counts_now(ticker: Ticker) -> bool:
    """Whether an order may be placed or filled on this price: a replayed one only where the replay is
    the configured source (see the module's docstring)."""
    return ticker.source != "replay" or settings.MARKET_DATA_EXCHANGE == "replay"


def current_ticker(symbol: str) -> Ticker:
    """The current price of a followed market to trade on (UnknownSymbol; MarketUnavailable when there
    is none, or only a replayed one where live prices are configured)."""
    symbol = parse_symbol(symbol)
    recent = last_tick_tickers().get(symbol)
    if recent is not None and counts_now(recent):
        return recent
    for ticker in feed.tickers():
        if ticker.symbol == symbol and counts_now(ticker):
            return ticker
    raise MarketUnavailable()
