"""Tickers and order books for the markets we follow: live from the exchange, else the replay.

Live prices come from ccxt's public API of MARKET_DATA_EXCHANGE (no keys), through the one client
factory, so EXCHANGE_API_URLS sends the tests and the offline demo to the emulator. When the exchange
cannot be reached (any ccxt error, a timeout, a refused connection) the offline replay answers
instead, and every Ticker and OrderBook says which source it came from: nothing pretends to be live.

Costs. Each process keeps one public client per exchange, so ccxt's `load_markets()` (Binance's
exchangeInfo: a few MB and 20 request weight on the real exchange) runs once per process, not on
every tick; after that a round of tickers is one request. Answers are kept in the shared cache
(MARKET_TICKERS_CACHE_SECONDS, details MARKET_DETAIL_CACHE_SECONDS); a replayed answer only
FALLBACK_CACHE_SECONDS, and a failure marks the exchange down in the cache for as long, so no web
worker or publisher waits on a dead exchange more than once in that time. `fresh_prices()` skips the
cache for the publisher, which asks every PRICE_TICK_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import ccxt
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

from cryptovault.errors import DomainError
from exchanges.catalogue import ExchangeSpec, exchange_spec
from exchanges.client import api_overrides, exchange_client
from exchanges.market import replay
from exchanges.market.symbols import market_symbols, parse_symbol

logger = logging.getLogger("exchanges.market")

FALLBACK_CACHE_SECONDS = 10
ORDER_BOOK_CACHE_SECONDS = 5
FETCH_TIMEOUT_SECONDS = 4.0  # a page waiting longer for a price is worse than the replay
MAX_DEPTH = 100
BOOK_SYNTHETIC = " (synthetic order book around the replayed price)"


class MarketUnavailable(DomainError):
    """Neither the exchange nor the replay has a price for this market (not in the shipped candles)."""

    status_code = 503
    code = "market_unavailable"
    default_message = "No price is available for this market right now: the exchange cannot be reached."


@dataclass(frozen=True)
class Ticker:
    symbol: str
    last: Decimal
    change_24h_pct: Decimal
    high_24h: Decimal
    low_24h: Decimal
    volume_24h: Decimal
    quote_volume_24h: Decimal
    source: str  # the exchange id ("binance") or "replay"
    source_label: str  # "Binance (live)" / "Replay of Binance candles from 2025-03-04"
    updated_at: datetime

    def as_dict(self) -> dict[str, str]:
        """JSON-ready: decimals as strings (never floats), the time in ISO 8601."""
        return {
            "symbol": self.symbol,
            "last": str(self.last),
            "change_24h_pct": str(self.change_24h_pct),
            "high_24h": str(self.high_24h),
            "low_24h": str(self.low_24h),
            "volume_24h": str(self.volume_24h),
            "quote_volume_24h": str(self.quote_volume_24h),
            "source": self.source,
            "source_label": self.source_label,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class OrderBook:
    symbol: str
    bids: list[tuple[Decimal, Decimal]]  # (price, amount), best first
    asks: list[tuple[Decimal, Decimal]]
    source: str
    source_label: str
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "bids": [[str(price), str(amount)] for price, amount in self.bids],
            "asks": [[str(price), str(amount)] for price, amount in self.asks],
            "source": self.source,
            "source_label": self.source_label,
            "updated_at": self.updated_at.isoformat(),
        }


# The exchange ----------------------------------------------------------------------------------


class _Unreachable(Exception):
    pass


_clients: dict[tuple[str, str, float], tuple[ccxt.Exchange, threading.Lock]] = {}
_clients_lock = threading.Lock()


OFFLINE = "replay"  # MARKET_DATA_EXCHANGE=replay: the offline replay only, never an exchange


def _spec() -> ExchangeSpec:
    """The exchange prices come from (with MARKET_DATA_EXCHANGE=replay, the exchange being replayed)."""
    return exchange_spec("binance" if settings.MARKET_DATA_EXCHANGE == OFFLINE else settings.MARKET_DATA_EXCHANGE)


def _live_label(spec: ExchangeSpec) -> str:
    """ "Binance (live)", or where the prices really come from when EXCHANGE_API_URLS points elsewhere."""
    override = api_overrides().get(spec.id)
    return f"{spec.name} (live, via {urlsplit(override).netloc})" if override else f"{spec.name} (live)"


def _timeout() -> float:
    return min(settings.EXCHANGE_TIMEOUT_SECONDS, FETCH_TIMEOUT_SECONDS)


def _client(spec: ExchangeSpec) -> tuple[ccxt.Exchange, threading.Lock]:
    """This process's public client for the exchange: its markets load once and stay loaded."""
    key = (spec.id, api_overrides().get(spec.id, ""), _timeout())
    with _clients_lock:
        if key not in _clients:
            _clients[key] = (exchange_client(spec, timeout_s=_timeout()), threading.Lock())
        return _clients[key]


def reset_clients() -> None:
    """Forget this process's clients (and their loaded markets); the next call builds new ones."""
    with _clients_lock:
        _clients.clear()


def _down_key(spec: ExchangeSpec) -> str:
    return f"market:down:{spec.id}"


def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # the cache is down: answer uncached rather than fail (health reports Redis)
        logger.warning("market data: cache unreachable, answering uncached", exc_info=True)
        return None


def _cache_set(key: str, value: Any, seconds: float) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:
        logger.warning("market data: cache unreachable, not caching %s", key, exc_info=True)


def _live(spec: ExchangeSpec, call: Callable[[ccxt.Exchange], Any]) -> Any:
    """`call(client)` on the exchange, or _Unreachable (and the exchange marked down for a while)."""
    if settings.MARKET_DATA_EXCHANGE == OFFLINE or _cache_get(_down_key(spec)):
        raise _Unreachable
    client, lock = _client(spec)
    if not lock.acquire(timeout=_timeout()):
        raise _Unreachable  # another thread is stuck on the same exchange
    try:
        return call(client)
    except Exception as error:
        level = logging.WARNING if isinstance(error, ccxt.BaseError) else logging.ERROR
        logger.log(level, "market data: %s unreachable (%s), serving the replay", spec.id, type(error).__name__)
        _cache_set(_down_key(spec), True, FALLBACK_CACHE_SECONDS)
        raise _Unreachable from error
    finally:
        lock.release()


def _live_or_none(spec: ExchangeSpec, call: Callable[[ccxt.Exchange], Any]) -> Any:
    """`_live`, or None while the exchange cannot be reached (the caller answers from the replay)."""
    try:
        return _live(spec, call)
    except _Unreachable:
        return None


def _live_market(spec: ExchangeSpec, symbol: str, call: Callable[[ccxt.Exchange], dict]) -> dict | None:
    """`call(client)` for one market; None when the exchange does not list it or cannot be reached."""
    return _live_or_none(spec, lambda client: call(client) if symbol in client.load_markets() else None)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _live_ticker(symbol: str, raw: dict, spec: ExchangeSpec) -> Ticker | None:
    """A ccxt ticker as ours; None when the exchange left out a figure we show (the replay answers)."""
    last, high, low, volume = (_decimal(raw.get(name)) for name in ("last", "high", "low", "baseVolume"))
    change, opened = _decimal(raw.get("percentage")), _decimal(raw.get("open"))
    if change is None and opened and last is not None:
        change = (last - opened) / opened * 100
    quote_volume = _decimal(raw.get("quoteVolume"))
    if quote_volume is None and volume is not None and raw.get("vwap") is not None:
        quote_volume = volume * Decimal(str(raw["vwap"]))
    if last is None or high is None or low is None or volume is None or change is None or quote_volume is None:
        return None
    stamp = raw.get("timestamp")
    return Ticker(
        symbol=symbol,
        last=last,
        change_24h_pct=change.quantize(Decimal("0.01")),
        high_24h=high,
        low_24h=low,
        volume_24h=volume,
        quote_volume_24h=quote_volume,
        source=spec.id,
        source_label=_live_label(spec),
        updated_at=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else datetime.now(UTC),
    )


def _replay_ticker(symbol: str, now: float | None = None) -> Ticker | None:
    now = time.time() if now is None else now
    replayed = replay.quote(symbol, now=now)
    if replayed is None:
        return None
    return Ticker(
        symbol=symbol,
        last=replayed.last,
        change_24h_pct=replayed.change_24h_pct,
        high_24h=replayed.high_24h,
        low_24h=replayed.low_24h,
        volume_24h=replayed.volume_24h,
        quote_volume_24h=replayed.quote_volume_24h,
        source="replay",
        source_label=replay.label(now),
        updated_at=datetime.fromtimestamp(now, UTC),
    )


# What the app asks -----------------------------------------------------------------------------


def _all_tickers() -> tuple[list[Ticker], bool]:
    """Tickers for MARKET_SYMBOLS in their order, and whether all of them are live."""
    spec, symbols = _spec(), market_symbols()

    def fetch(client: ccxt.Exchange) -> dict:
        listed = [symbol for symbol in symbols if symbol in client.load_markets()]  # loaded once per client
        return client.fetch_tickers(listed) if listed else {}

    answer = _live_or_none(spec, fetch) or {}
    tickers, all_live = [], True
    now = time.time()
    for symbol in symbols:
        live = _live_ticker(symbol, answer[symbol], spec) if symbol in answer else None
        if live is None:
            all_live = False
            live = _replay_ticker(symbol, now)
        if live is not None:
            tickers.append(live)
    return tickers, all_live


def fresh_prices() -> list[Ticker]:
    """Uncached tickers for the publisher's every tick (one request per round once markets are loaded)."""
    return _all_tickers()[0]


def tickers() -> list[Ticker]:
    """Tickers for MARKET_SYMBOLS from the shared cache, refreshed from the exchange when stale."""
    key = f"market:tickers:{settings.MARKET_DATA_EXCHANGE}:{','.join(settings.MARKET_SYMBOLS)}"
    cached = _cache_get(key)
    if cached is not None:
        return cached
    result, all_live = _all_tickers()
    _cache_set(key, result, settings.MARKET_TICKERS_CACHE_SECONDS if all_live else FALLBACK_CACHE_SECONDS)
    return result


def ticker(symbol: str) -> Ticker:
    """One market's details (UnknownSymbol for one we do not follow), cached MARKET_DETAIL_CACHE_SECONDS."""
    symbol = parse_symbol(symbol)
    spec = _spec()
    key = f"market:ticker:{spec.id}:{symbol}"
    cached = _cache_get(key)
    if cached is not None:
        return cached

    raw = _live_market(spec, symbol, lambda client: client.fetch_ticker(symbol))
    result = _live_ticker(symbol, raw, spec) if raw is not None else None
    seconds = settings.MARKET_DETAIL_CACHE_SECONDS
    if result is None:
        result, seconds = _replay_ticker(symbol), FALLBACK_CACHE_SECONDS
    if result is None:
        raise MarketUnavailable()
    _cache_set(key, result, seconds)
    return result


def order_book(symbol: str, depth: int = 20) -> OrderBook:
    """The best `depth` bids and asks (1..MAX_DEPTH); live for ORDER_BOOK_CACHE_SECONDS, else a
    synthetic book around the replayed price, labelled so."""
    symbol = parse_symbol(symbol)
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise ValidationError({"depth": f"Ask for between 1 and {MAX_DEPTH} levels."})
    spec = _spec()
    key = f"market:book:{spec.id}:{symbol}:{depth}"
    cached = _cache_get(key)
    if cached is not None:
        return cached

    raw = _live_market(spec, symbol, lambda client: client.fetch_order_book(symbol, limit=depth))
    if raw is not None:
        stamp = raw.get("timestamp")
        book = OrderBook(
            symbol=symbol,
            bids=[(Decimal(str(price)), Decimal(str(amount))) for price, amount, *_ in raw["bids"][:depth]],
            asks=[(Decimal(str(price)), Decimal(str(amount))) for price, amount, *_ in raw["asks"][:depth]],
            source=spec.id,
            source_label=_live_label(spec),
            updated_at=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else datetime.now(UTC),
        )
        _cache_set(key, book, ORDER_BOOK_CACHE_SECONDS)
        return book
    now = time.time()
    levels = replay.book(symbol, depth, now=now)
    if levels is None:
        raise MarketUnavailable()
    return OrderBook(
        symbol=symbol,
        bids=levels[0],
        asks=levels[1],
        source="replay",
        source_label=replay.label(now) + BOOK_SYNTHETIC,
        updated_at=datetime.fromtimestamp(now, UTC),
    )
