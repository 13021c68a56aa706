"""The emulator's market: ten USDT spot pairs, their trading rules, prices, candles and books.

Both emulated exchanges list the same pairs at the same prices, so a test can compare them. Prices
start at the last recorded daily close of the committed snapshot (`candles.json`, see
`snapshot.py`) and move only when a test calls `Emulator.set_price`, or, in the offline demo,
with the replay the site shows (`Emulator.follow`, `follow.py`). Daily candles are the real
recorded ones; shorter intervals are shaped deterministically inside each recorded day's range
(they are not real intraday prices, only plausible ones that agree with the daily candle); longer
intervals aggregate the days. Order books are synthetic, centred on the price.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import cache
from pathlib import Path

QUOTE = "USDT"
DAY_MS = 86_400_000
INTERVAL_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": 7 * DAY_MS,
}


@dataclass(frozen=True)
class PairRules:
    """Trading rules close to Binance's own for the pair (tick, lot step, minimums)."""

    base: str
    tick: Decimal
    step: Decimal
    name: str

    @property
    def binance_symbol(self) -> str:
        return f"{self.base}{QUOTE}"

    @property
    def kucoin_symbol(self) -> str:
        return f"{self.base}-{QUOTE}"

    @property
    def min_qty(self) -> Decimal:
        return self.step

    max_qty = Decimal("9000000")
    min_notional = Decimal("5")
    max_price = Decimal("1000000")


PAIRS: dict[str, PairRules] = {
    rules.base: rules
    for rules in (
        PairRules("BTC", Decimal("0.01"), Decimal("0.00001"), "Bitcoin"),
        PairRules("ETH", Decimal("0.01"), Decimal("0.0001"), "Ethereum"),
        PairRules("BNB", Decimal("0.01"), Decimal("0.001"), "BNB"),
        PairRules("SOL", Decimal("0.01"), Decimal("0.001"), "Solana"),
        PairRules("XRP", Decimal("0.0001"), Decimal("0.1"), "XRP"),
        PairRules("ADA", Decimal("0.0001"), Decimal("0.1"), "Cardano"),
        PairRules("DOGE", Decimal("0.00001"), Decimal("1"), "Dogecoin"),
        PairRules("AVAX", Decimal("0.01"), Decimal("0.01"), "Avalanche"),
        PairRules("DOT", Decimal("0.001"), Decimal("0.01"), "Polkadot"),
        PairRules("LINK", Decimal("0.01"), Decimal("0.01"), "Chainlink"),
    )
}
ASSETS = [QUOTE, *PAIRS]


@dataclass(frozen=True)
class Candle:
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    @property
    def quote_volume(self) -> Decimal:
        return (self.volume * (self.open + self.high + self.low + self.close) / 4).quantize(Decimal("0.00000001"))


@cache
def daily_candles() -> dict[str, tuple[Candle, ...]]:
    """The committed snapshot, read once per process."""
    snapshot = json.loads(Path(__file__).with_name("candles.json").read_text())
    return {
        base: tuple(Candle(row[0], *(Decimal(value) for value in row[1:])) for row in rows)
        for base, rows in snapshot["candles"].items()
        if base in PAIRS
    }


def initial_prices() -> dict[str, Decimal]:
    return {base: candles[-1].close for base, candles in daily_candles().items()}


def round_to(value: Decimal, increment: Decimal) -> Decimal:
    return (value / increment).to_integral_value(rounding=ROUND_DOWN) * increment


def _jitter(*parts: object) -> float:
    """A stable number in [0, 1) for the given parts: the same candle always has the same shape."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _intraday(base: str, day: Candle, interval_ms: int) -> list[Candle]:
    """Split a recorded day into `interval` candles that open at its open, close at its close and
    stay inside its high and low."""
    rules = PAIRS[base]
    count = DAY_MS // interval_ms
    low, high = float(day.low), float(day.high)
    path = []
    for i in range(count + 1):
        trend = float(day.open) + (float(day.close) - float(day.open)) * i / count
        swing = (high - low) * 0.35 * math.sin(math.pi * i / count) * (1 if _jitter(base, day.open_time) < 0.5 else -1)
        noise = (high - low) * 0.05 * (_jitter(base, day.open_time, i) - 0.5)
        path.append(min(high, max(low, trend + swing + noise)) if 0 < i < count else trend)
    candles = []
    for i in range(count):
        start, end = path[i], path[i + 1]
        spread = (high - low) * 0.02 * _jitter(base, day.open_time, i, "wick")
        values = [start, end, min(high, max(start, end) + spread), max(low, min(start, end) - spread)]
        o, c, h, lo = (round_to(Decimal(repr(value)), rules.tick) for value in values)
        volume = (day.volume / count * Decimal(repr(0.5 + _jitter(base, day.open_time, i, "vol")))).quantize(rules.step)
        candles.append(Candle(day.open_time + i * interval_ms, o, max(o, c, h), min(o, c, lo), c, volume))
    return candles


def _bucket_start(open_time: int, interval: str) -> int:
    if interval == "1w":  # Binance weeks open on Monday; 1970-01-01 was a Thursday
        days = open_time // DAY_MS
        return (days - (days + 3) % 7) * DAY_MS
    return open_time - open_time % INTERVAL_MS[interval]


def _aggregate(days: tuple[Candle, ...], interval: str) -> list[Candle]:
    buckets: dict[int, list[Candle]] = {}
    for day in days:
        buckets.setdefault(_bucket_start(day.open_time, interval), []).append(day)
    return [
        Candle(
            start,
            group[0].open,
            max(c.high for c in group),
            min(c.low for c in group),
            group[-1].close,
            sum((c.volume for c in group), Decimal(0)),
        )
        for start, group in sorted(buckets.items())
    ]


def candles(base: str, interval: str, start: int | None, end: int | None, limit: int) -> list[Candle]:
    """Candles of `interval` for the pair, oldest first, as Binance's klines selects them: from
    `start` if given, else the latest `limit` ending at `end` (or the last recorded one)."""
    days = daily_candles()[base]
    if start is not None:
        days = tuple(day for day in days if day.open_time + DAY_MS > start)
    if end is not None:
        days = tuple(day for day in days if day.open_time <= end)
    if interval == "1d":
        series = list(days)
    elif INTERVAL_MS[interval] < DAY_MS:
        per_day = DAY_MS // INTERVAL_MS[interval]
        needed_days = days if start is not None else days[-(limit // per_day + 1) :]
        series = [candle for day in needed_days for candle in _intraday(base, day, INTERVAL_MS[interval])]
    else:
        series = _aggregate(days, interval)
    series = [c for c in series if (start is None or c.open_time >= start) and (end is None or c.open_time <= end)]
    return series[:limit] if start is not None else series[-limit:]


def book_levels(
    base: str, price: Decimal, depth: int
) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """A synthetic book: levels about one basis point apart, each worth a few thousand USDT more
    than the one before, best bid one gap under the price and best ask one gap over it."""
    rules = PAIRS[base]
    gap = max(rules.tick, round_to(price / 10_000, rules.tick))
    bids, asks = [], []
    for level in range(depth):
        qty = max(rules.step, round_to(Decimal(2500 * (level + 1)) / price, rules.step))
        bid_price = price - gap * (level + 1)
        if bid_price > 0:
            bids.append((bid_price, qty))
        asks.append((price + gap * (level + 1), qty))
    return bids, asks


def last_day(base: str) -> Candle:
    return daily_candles()[base][-1]
