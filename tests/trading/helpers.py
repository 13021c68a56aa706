"""Plain helpers for the trading tests: alerts set through the service, ticks that are real
`exchanges.market.feed.Ticker`s as the publisher sends them, and paper accounts opened through
the service (fixtures live in conftest.py), orders placed through the service, and exchange
accounts read from the loopback emulator.

`tick` has two forms:
- `tick(symbol="BTC/USDT", last="65000", change="0", **overrides) -> Ticker` builds one Ticker
  (the price alert tests hand it to the service themselves);
- `tick({"BTC/USDT": "65000", "ETH/USDT": "3000"}) -> list[Ticker]` PUBLISHES a tick as the
  publisher does: kept as the publisher's last tick (what `trading.prices.current_ticker` reads, so
  a market order placed next fills at that price) and sent as `price_tick` to every receiver (the
  paper engine, the alerts).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from exchanges.market.feed import Ticker
from exchanges.market.publisher import LAST_TICK_KEY, last_tick_seconds, tick_payload
from exchanges.market.signals import price_tick
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from trading.models import Balance, Order, PriceAlert, TradingAccount
from trading.prices import last_tick_tickers
from trading.services.accounts import exchange_account_open, paper_account_open
from trading.services.alerts import alert_create, alerts_evaluate
from trading.services.live import account_sync
from trading.services.orders import PlaceResult, order_place

# A tick from the offline replay (what `make run` serves), as the pages label it.
REPLAYED = {"source": "replay", "source_label": "Replay of Binance candles from 2025-03-04"}
CENT = Decimal("0.01")


def tick(symbol: Any = "BTC/USDT", last: Any = "65000", change: str = "0", **overrides) -> Any:
    """One Ticker (`tick("ETH/USDT", "3000")`), or, given a {symbol: price} mapping, a published tick."""
    if isinstance(symbol, Mapping):
        return publish(symbol, **overrides)
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


def publish(prices: Mapping[str, Decimal | str], **overrides: Any) -> list[Ticker]:
    """Publish one tick of `prices` ({"BTC/USDT": "65000"}) as the publisher does; returns its tickers.

    The tick becomes the publisher's last tick (merged with the other symbols of the previous one
    still fresh), so `trading.prices.current_ticker` answers these prices, then `price_tick` runs
    every receiver (the paper engine evaluates the resting orders, the alerts fire).
    """
    tickers = [tick(symbol, str(last), **overrides) for symbol, last in prices.items()]
    kept = {**last_tick_tickers(), **{ticker.symbol: ticker for ticker in tickers}}
    cache.set(LAST_TICK_KEY, tick_payload(list(kept.values())), timeout=last_tick_seconds())
    price_tick.send(sender=None, tickers=tickers)
    return tickers


def paper_account(user) -> TradingAccount:
    """`user`'s paper account (10,000 USDT unless PAPER_STARTING_BALANCE says otherwise), opened through
    the service by a command actor; the same account on every call."""
    return paper_account_open(actor=TEST_ACTOR, user=user)


def placed(account: TradingAccount, **fields: Any) -> PlaceResult:
    """An order placed through the service by a command actor, on BTC/USDT unless `symbol` says otherwise."""
    return order_place(actor=TEST_ACTOR, account=account, **{"symbol": "BTC/USDT", **fields})


def place(account: TradingAccount, **fields: Any) -> Order:
    """`placed`'s order (an OCO's limit leg)."""
    return placed(account, **fields).order


def place_oco(account: TradingAccount, **fields: Any) -> tuple[Order, Order]:
    """An OCO placed through the service (see `placed`): its limit leg and its stop leg."""
    limit_leg = place(account, type="oco", **fields)
    return limit_leg, Order.objects.get(oco_group=limit_leg.oco_group, oco_leg="stop")


def synced_exchange_account(user, keys: dict[str, str], **connection: Any) -> TradingAccount:
    """The trading account of a new connection (`connect`), its balances read from the emulator by a sync."""
    account = exchange_account_open(actor=TEST_ACTOR, connection=connect(user, keys, **connection))
    assert account_sync(actor=TEST_ACTOR, account=account).ok, "the first sync reads the exchange's balances"
    return account


def btc_price_near(emulator, offset: Decimal | int = 0) -> Decimal:
    """The emulated Binance's BTC price plus `offset`, to the cent: a trigger or a limit near the market."""
    return (emulator.price("binance", "BTC") + offset).quantize(CENT)


def held(account: TradingAccount, asset: str) -> Balance:
    """`account`'s balance of `asset` as the database holds it now."""
    return Balance.objects.get(account=account, asset=asset)
