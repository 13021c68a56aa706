"""The offline price source: real 4h Binance candles replayed MARKET_REPLAY_SPEED times faster.

A pure function of the wall clock, with no state: the replayed instant is
`window_start + (now * speed) mod window_length`, so every process (web workers, the publisher,
Celery) computes the same price at the same moment without talking to the others, and a restart
changes nothing. The window is the span of the shipped 4h candles that all ten majors cover (two
years, about twelve days of wall time at 60x); at its end the replay starts over.

Inside a candle the price walks open -> low -> high -> close when the candle closed up (it dipped
first, then rallied) and open -> high -> low -> close when it closed down, each leg taking time in
proportion to its length, so the price moves at a steady pace and never leaves the candle's range.
24h figures come from the same walk over the 24 market hours before the replayed instant, so they
agree with the price (the high is never below the last price), and volumes accrue evenly in time.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from django.conf import settings

from exchanges.market.data import FIXTURE_EXCHANGE, fixture_files, fixture_path, read_candles

FOUR_HOURS = 14_400
DAY = 86_400
TIMEFRAME = "4h"


@dataclass(frozen=True)
class _Series:
    times: tuple[int, ...]
    candles: tuple[tuple[float, float, float, float, float], ...]  # open, high, low, close, volume
    price_step: Decimal
    volume_step: Decimal


@dataclass(frozen=True)
class ReplayQuote:
    """One symbol's replayed price and its 24h figures, at `replayed_at` (the real market time)."""

    symbol: str
    last: Decimal
    open_24h: Decimal
    high_24h: Decimal
    low_24h: Decimal
    volume_24h: Decimal
    quote_volume_24h: Decimal
    replayed_at: datetime

    @property
    def change_24h_pct(self) -> Decimal:
        if not self.open_24h:
            return Decimal("0.00")
        return ((self.last - self.open_24h) / self.open_24h * 100).quantize(Decimal("0.01"))


def _places(values: list[str]) -> int:
    return max((len(value.partition(".")[2].rstrip("0")) for value in values), default=0)


@cache
def _series(symbol: str) -> _Series | None:
    path = fixture_path(symbol, TIMEFRAME)
    if not path.exists():
        return None
    rows = list(read_candles(path))
    prices = [value for row in rows[-500:] for value in (row.open, row.high, row.low, row.close)]
    return _Series(
        times=tuple(row.time for row in rows),
        candles=tuple(
            (float(row.open), float(row.high), float(row.low), float(row.close), float(row.volume)) for row in rows
        ),
        price_step=Decimal(1).scaleb(-_places(prices)),
        volume_step=Decimal(1).scaleb(-_places([row.volume for row in rows[-500:]])),
    )


@cache
def window() -> tuple[int, int]:
    """(first, end) unix seconds of the replayed span: where every shipped 4h series has candles,
    starting a day in so the first instant already has 24 hours behind it."""
    entries = [entry for entry in fixture_files() if entry["timeframe"] == TIMEFRAME]
    return max(entry["first"] for entry in entries) + DAY, min(entry["last"] for entry in entries) + FOUR_HOURS


def has_symbol(symbol: str) -> bool:
    return _series(symbol) is not None


def replayed_time(now: float | None = None) -> float:
    """The real market instant (unix seconds) replayed at wall-clock `now` (default: time.time())."""
    now = time.time() if now is None else now
    first, end = window()
    return first + (now * settings.MARKET_REPLAY_SPEED) % (end - first)


def instant_for(market_time: float, *, cycle: int = 0) -> float:
    """The wall-clock instant at which the replay plays `market_time` (its `cycle`-th time round)."""
    first, end = window()
    return ((market_time - first) + cycle * (end - first)) / settings.MARKET_REPLAY_SPEED


def label(now: float | None = None) -> str:
    """What every replayed price says about itself, naming the real day being replayed."""
    day = datetime.fromtimestamp(replayed_time(now), UTC)
    return f"Replay of {FIXTURE_EXCHANGE.capitalize()} candles from {day:%Y-%m-%d}"


def _walk(candle: tuple[float, ...]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The candle's path: its four prices and the fraction of the candle's time at which each is reached."""
    open_, high, low, close = candle[:4]
    points = (open_, low, high, close) if close >= open_ else (open_, high, low, close)
    legs = [abs(points[i + 1] - points[i]) for i in range(3)]
    total = sum(legs)
    if total == 0:
        return points, (0.0, 1 / 3, 2 / 3, 1.0)
    return points, (0.0, legs[0] / total, (legs[0] + legs[1]) / total, 1.0)


def _along(points: tuple[float, ...], fractions: tuple[float, ...], x: float) -> float:
    for i in range(3):
        if x <= fractions[i + 1]:
            span = fractions[i + 1] - fractions[i]
            share = 0.0 if span == 0 else (x - fractions[i]) / span
            return points[i] + (points[i + 1] - points[i]) * share
    return points[3]


def _index(series: _Series, moment: float) -> int:
    return max(0, bisect_right(series.times, moment) - 1)


def _fraction(series: _Series, index: int, moment: float) -> float:
    return min(1.0, max(0.0, (moment - series.times[index]) / FOUR_HOURS))


def _price_at(series: _Series, moment: float) -> float:
    index = _index(series, moment)
    points, fractions = _walk(series.candles[index])
    return _along(points, fractions, _fraction(series, index, moment))


def quote(symbol: str, *, now: float | None = None) -> ReplayQuote | None:
    """The replayed price of `symbol` and its 24h figures; None if the fixture has no such market."""
    series = _series(symbol)
    if series is None:
        return None
    moment = replayed_time(now)
    since = moment - DAY
    last, opened = _price_at(series, moment), _price_at(series, since)
    high, low = max(last, opened), min(last, opened)
    volume = quote_volume = 0.0
    for index in range(_index(series, since), _index(series, moment) + 1):
        candle = series.candles[index]
        start, stop = _fraction(series, index, since), _fraction(series, index, moment)
        if stop <= start:
            continue
        points, fractions = _walk(candle)
        inside = [_along(points, fractions, start), _along(points, fractions, stop)]
        inside += [points[i] for i in range(4) if start < fractions[i] < stop]
        high, low = max(high, *inside), min(low, *inside)
        volume += candle[4] * (stop - start)
        quote_volume += candle[4] * (stop - start) * sum(candle[:4]) / 4

    def price(value: float) -> Decimal:
        return Decimal(repr(value)).quantize(series.price_step)

    return ReplayQuote(
        symbol=symbol,
        last=price(last),
        open_24h=price(opened),
        high_24h=price(high),
        low_24h=price(low),
        volume_24h=Decimal(repr(volume)).quantize(series.volume_step),
        quote_volume_24h=Decimal(repr(quote_volume)).quantize(Decimal("0.01")),
        replayed_at=datetime.fromtimestamp(moment, UTC),
    )


def book(
    symbol: str, depth: int, *, now: float | None = None
) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]] | None:
    """A synthetic book centred on the replayed price (candles carry no orders): levels about one
    basis point apart, each worth 2,500 USDT more than the one before. Labelled as synthetic by the caller."""
    series, replayed = _series(symbol), quote(symbol, now=now)
    if series is None or replayed is None:
        return None
    price = replayed.last
    gap = max(series.price_step, (price / 10_000).quantize(series.price_step))
    bids, asks = [], []
    for level in range(1, depth + 1):
        qty = max(series.volume_step, (Decimal(2500 * level) / price).quantize(series.volume_step))
        if price - gap * level > 0:
            bids.append((price - gap * level, qty))
        asks.append((price + gap * level, qty))
    return bids, asks
