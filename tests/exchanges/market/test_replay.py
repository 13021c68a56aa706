"""The offline replay: real 4h Binance candles played MARKET_REPLAY_SPEED times faster, as a pure
function of the clock. The clock is passed in (`now=`), so each test names the instant it checks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exchanges.market import replay
from exchanges.market.data import fixture_path, read_candles

FOUR_HOURS = 14_400


def candles(symbol: str, timeframe: str = "4h"):
    return list(read_candles(fixture_path(symbol, timeframe)))


def at(market_time: float) -> float:
    """The wall-clock instant at which the replay plays `market_time`."""
    return replay.instant_for(market_time)


def test_the_same_instant_always_gives_the_same_price():
    instant = 1_790_000_123.5
    assert replay.quote("ETH/USDT", now=instant) == replay.quote("ETH/USDT", now=instant)
    assert replay.label(instant) == replay.label(instant)


def test_prices_move_as_wall_time_passes_60_times_faster_than_recorded(settings):
    assert settings.MARKET_REPLAY_SPEED == 60
    instant = 1_790_000_000.0
    assert replay.replayed_time(instant + 60) - replay.replayed_time(instant) == pytest.approx(3_600)
    prices = [replay.quote("BTC/USDT", now=instant + seconds).last for seconds in range(0, 600, 30)]
    assert len(set(prices)) > 10  # ten minutes of wall time: ten market hours, a moving price

    settings.MARKET_REPLAY_SPEED = 1
    assert replay.replayed_time(instant + 60) - replay.replayed_time(instant) == pytest.approx(60)


def test_within_a_candle_the_price_walks_from_open_through_its_extremes_to_close():
    rows = candles("BTC/USDT")
    candle = next(row for row in rows[100:] if float(row.close) > float(row.open))  # one that closed up
    opened = candle.time
    walk = [replay.quote("BTC/USDT", now=at(opened + FOUR_HOURS * i / 240)).last for i in range(240)]
    high, low = Decimal(candle.high), Decimal(candle.low)

    assert walk[0] == Decimal(candle.open)
    assert replay.quote("BTC/USDT", now=at(opened + FOUR_HOURS - 0.001)).last == pytest.approx(
        Decimal(candle.close), abs=Decimal("0.02")
    )
    assert all(low <= price <= high for price in walk)
    assert walk.index(min(walk)) < walk.index(max(walk))  # closed up: it dipped first, then rallied
    assert min(walk) == pytest.approx(low, abs=Decimal("5")) and max(walk) == pytest.approx(high, abs=Decimal("5"))


def test_a_replayed_day_has_the_24h_figures_binance_recorded_for_it():
    """At midnight the last 24 hours are exactly one of Binance's daily candles."""
    march_4 = int(datetime(2025, 3, 4, tzinfo=UTC).timestamp())
    day = next(row for row in candles("SOL/USDT", "1d") if row.time == march_4)
    quote = replay.quote("SOL/USDT", now=at(day.time + 86_400))
    next_open = next(row for row in candles("SOL/USDT") if row.time == day.time + 86_400).open

    assert quote.replayed_at == datetime(2025, 3, 5, tzinfo=UTC)
    assert quote.open_24h == Decimal(day.open)
    assert quote.last == Decimal(next_open)
    assert quote.high_24h == max(Decimal(day.high), quote.last)
    assert quote.low_24h == min(Decimal(day.low), quote.last)
    assert quote.volume_24h == pytest.approx(Decimal(day.volume), rel=Decimal("1e-6"))
    assert quote.change_24h_pct == ((quote.last - quote.open_24h) / quote.open_24h * 100).quantize(Decimal("0.01"))
    assert replay.label(at(day.time + 86_400)) == "Replay of Binance candles from 2025-03-05"


def test_the_24h_range_always_holds_the_price_and_the_replay_starts_over_at_the_end():
    first, end = replay.window()
    for step in range(0, 50):
        market_time = first + (end - first) * step / 50 + 1_234
        quote = replay.quote("DOGE/USDT", now=at(market_time))
        assert quote.low_24h <= quote.last <= quote.high_24h
        assert quote.low_24h <= quote.open_24h <= quote.high_24h
        assert quote.volume_24h > 0
    later = replay.instant_for(first + 3_600, cycle=1)
    assert replay.quote("ADA/USDT", now=later) == replay.quote("ADA/USDT", now=at(first + 3_600))


def test_a_market_without_shipped_candles_has_no_replay():
    assert replay.quote("PEPE/USDT", now=1_790_000_000) is None
    assert not replay.has_symbol("PEPE/USDT") and replay.has_symbol("LINK/USDT")
