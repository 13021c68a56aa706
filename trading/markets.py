"""A market's trading rules: the smallest and largest quantity, the quantity step, the price tick, the
smallest order value, and the fees. Orders are checked against them before anything is reserved.

Where they come from:
- an exchange account: the exchange's own markets through ccxt (public endpoints, the connection's
  exchange and sandbox), with the per-market fees ccxt reports;
- a paper account: the markets of MARKET_DATA_EXCHANGE through ccxt when it can be reached (the same
  client the price feed uses, its markets loaded once per process), otherwise the shipped snapshot
  `trading/data/market_rules.json` (Binance's filters for the followed pairs). Paper fees are the
  exchange's base fees from the catalogue (`binance` when the prices are a replay).

Nothing is ever rounded to fit: a quantity with more decimals than the step allows is refused with
the step in the message, so what is stored is what the person typed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ccxt  # type: ignore[import-untyped]
from django.conf import settings

from exchanges.catalogue import ExchangeSpec, exchange_spec
from exchanges.client import api_overrides, exchange_client
from exchanges.market import feed

if TYPE_CHECKING:
    from trading.models import TradingAccount

logger = logging.getLogger(__name__)

SNAPSHOT = Path(__file__).resolve().parent / "data" / "market_rules.json"
MARKETS_TTL_SECONDS = 3600.0  # an exchange's rules change rarely; re-read them hourly per process
DEFAULT_MAX_PRICE = Decimal(10) ** 12


@dataclass(frozen=True)
class MarketRules:
    symbol: str
    min_qty: Decimal
    max_qty: Decimal
    qty_step: Decimal
    price_tick: Decimal
    min_notional: Decimal
    taker_fee: Decimal
    maker_fee: Decimal
    max_price: Decimal = DEFAULT_MAX_PRICE
    source: str = "snapshot"  # "binance" (its markets, live) or "snapshot"

    # --- the checks: a message naming the limit, or None -------------------------------------------------
    def quantity_error(self, quantity: Decimal) -> str | None:
        if quantity < self.min_qty:
            return f"The minimum for {self.symbol} is {_plain(self.min_qty)}."
        if quantity > self.max_qty:
            return f"The maximum for {self.symbol} is {_plain(self.max_qty)}."
        if self.qty_step > 0 and quantity % self.qty_step != 0:
            return (
                f"{self.symbol} trades in steps of {_plain(self.qty_step)}: {_plain(quantity)} has too many decimals."
            )
        return None

    def price_error(self, price: Decimal) -> str | None:
        if price > self.max_price:
            return f"The highest price for {self.symbol} is {_plain(self.max_price)}."
        if price < self.price_tick:
            return f"The lowest price for {self.symbol} is {_plain(self.price_tick)}."
        if self.price_tick > 0 and price % self.price_tick != 0:
            tick = _plain(self.price_tick)
            return f"{self.symbol} prices move in ticks of {tick}: {_plain(price)} has too many decimals."
        return None

    def notional_error(self, notional: Decimal) -> str | None:
        if notional < self.min_notional:
            least = _plain(self.min_notional)
            return f"An order on {self.symbol} must be worth at least {least} USDT ({_plain(notional)} here)."
        return None


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# --- the shipped snapshot ------------------------------------------------------------------------------
@cache
def _snapshot() -> dict[str, dict[str, str]]:
    return json.loads(SNAPSHOT.read_text())["markets"]


def snapshot_rules(symbol: str, spec: ExchangeSpec) -> MarketRules:
    """The shipped rules of `symbol`; a market missing from the file gets cautious generic ones."""
    row = _snapshot().get(symbol) or {
        "min_qty": "0.00000001",
        "max_qty": "9000000",
        "qty_step": "0.00000001",
        "price_tick": "0.00000001",
        "min_notional": "5",
    }
    return MarketRules(
        symbol=symbol,
        min_qty=Decimal(row["min_qty"]),
        max_qty=Decimal(row["max_qty"]),
        qty_step=Decimal(row["qty_step"]),
        price_tick=Decimal(row["price_tick"]),
        min_notional=Decimal(row["min_notional"]),
        max_price=Decimal(row.get("max_price", DEFAULT_MAX_PRICE)),
        taker_fee=spec.taker_fee,
        maker_fee=spec.maker_fee,
        source="snapshot",
    )


# --- from ccxt -----------------------------------------------------------------------------------------
def _step(value: Any, precision_mode: int) -> Decimal | None:
    """ccxt's precision as a step: a tick size already, or a number of decimal places."""
    number = _d(value)
    if number is None:
        return None
    if precision_mode == ccxt.DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(number))
    return number if number > 0 else None


def rules_from_ccxt(symbol: str, market: dict, *, precision_mode: int, spec: ExchangeSpec) -> MarketRules:
    """A ccxt market as our rules; what the exchange leaves out falls back to the snapshot's value."""
    fallback = snapshot_rules(symbol, spec)
    limits, precision = market.get("limits") or {}, market.get("precision") or {}
    amount, cost, price = limits.get("amount") or {}, limits.get("cost") or {}, limits.get("price") or {}
    step = _step(precision.get("amount"), precision_mode) or fallback.qty_step
    tick = _step(precision.get("price"), precision_mode) or fallback.price_tick
    return MarketRules(
        symbol=symbol,
        min_qty=_d(amount.get("min")) or step,
        max_qty=_d(amount.get("max")) or fallback.max_qty,
        qty_step=step,
        price_tick=tick,
        min_notional=_d(cost.get("min")) or Decimal(0),
        max_price=_d(price.get("max")) or fallback.max_price,
        taker_fee=_d(market.get("taker")) or spec.taker_fee,
        maker_fee=_d(market.get("maker")) or spec.maker_fee,
        source=spec.id,
    )


_markets: dict[tuple, tuple[float, dict, int]] = {}
_markets_lock = threading.Lock()


def _exchange_markets(spec: ExchangeSpec, *, sandbox: bool) -> tuple[dict, int] | None:
    """The exchange's spot markets (public), kept per process for MARKETS_TTL_SECONDS; None if unreachable."""
    key = (spec.id, sandbox, api_overrides().get(spec.id, ""))
    with _markets_lock:
        kept = _markets.get(key)
        if kept is not None and time.monotonic() - kept[0] < MARKETS_TTL_SECONDS:
            return kept[1], kept[2]
    client = exchange_client(spec, sandbox=sandbox)
    try:
        markets = client.load_markets()
    except Exception as error:
        logger.warning("Markets of %s unreachable (%s); using the shipped rules", spec.id, type(error).__name__)
        return None
    with _markets_lock:
        _markets[key] = (time.monotonic(), markets, int(client.precisionMode))
    return markets, int(client.precisionMode)


def market_rules(account: TradingAccount, symbol: str) -> MarketRules:
    """The rules an order of `account` on `symbol` (BASE/QUOTE, already parsed) must follow."""
    connection = account.connection if account.connection_id is not None else None
    if connection is not None:
        spec = exchange_spec(connection.exchange)
        found = _exchange_markets(spec, sandbox=connection.sandbox)
        if found is not None and symbol in found[0]:
            return rules_from_ccxt(symbol, found[0][symbol], precision_mode=found[1], spec=spec)
        return snapshot_rules(symbol, spec)
    spec = paper_fee_spec()
    if settings.MARKET_DATA_EXCHANGE == feed.OFFLINE:
        return snapshot_rules(symbol, spec)
    live = feed._live_or_none(spec, lambda client: (client.load_markets().get(symbol), int(client.precisionMode)))
    if live is not None and live[0] is not None:
        rules = rules_from_ccxt(symbol, live[0], precision_mode=live[1], spec=spec)
        # Paper fees are the exchange's base fees (the catalogue's), whatever tier a market lists.
        return replace(rules, taker_fee=spec.taker_fee, maker_fee=spec.maker_fee)
    return snapshot_rules(symbol, spec)


def paper_fee_spec() -> ExchangeSpec:
    """Whose fees (and rules) paper orders follow: the market-data exchange, Binance for the replay."""
    return exchange_spec("binance" if settings.MARKET_DATA_EXCHANGE == feed.OFFLINE else settings.MARKET_DATA_EXCHANGE)
