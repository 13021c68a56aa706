"""The engine's rules on small series worked out by hand, and the promise of no look-ahead."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

from analytics.backtest.candles import Candles
from analytics.backtest.engine import run_backtest
from analytics.backtest.execution import ExecutionModel
from analytics.backtest.strategies import STRATEGIES
from tests.analytics.backtest_data import shared_candles

HOUR = 3_600_000


def candles_of(close, open_=None, high=None, low=None, volume=None):
    close = np.asarray(close, dtype=float)
    open_ = np.asarray(open_ if open_ is not None else close, dtype=float)
    high = np.asarray(high if high is not None else np.maximum(open_, close), dtype=float)
    low = np.asarray(low if low is not None else np.minimum(open_, close), dtype=float)
    volume = np.asarray(volume if volume is not None else np.full(len(close), 1_000.0), dtype=float)
    return Candles(np.arange(len(close)) * HOUR, open_, high, low, close, volume, "BTC/USDT", "1h")


# SMA(2) - SMA(3) from bar 2: -, -, + (cross up on bar 4), +, 0 (a touch), -, -, 0, +,
# - (cross down on bar 11), + (bar 12, the last)
CLOSE = [10, 9, 8, 9, 11, 12, 10, 8, 7, 9, 6, 5, 13]
OPEN = [10, 10.5, 9.5, 8.5, 9.5, 11.5, 12.5, 10.5, 8.5, 7.5, 9.5, 6.5, 5.5]


def test_a_cross_fills_at_the_next_open_all_in_with_the_fee_and_a_touch_is_no_cross():
    result = run_backtest(candles_of(CLOSE, OPEN), "sma_cross", {"fast": 2, "slow": 3})

    qty = 10_000 / (11.5 * 1.001)
    assert [(fill.time // HOUR, fill.side, fill.price) for fill in result.fills] == [
        (5, "buy", 11.5),
        (12, "sell", 5.5),
    ]
    assert result.fills[0].qty == pytest.approx(qty, rel=1e-12)
    assert result.equity[4] == 10_000  # the signal bar: nothing bought yet
    assert result.equity[5] == pytest.approx(qty * 12, rel=1e-12)  # cash spent to the cent, marked at the close
    assert result.final_equity == pytest.approx(qty * 5.5 * 0.999, rel=1e-12)
    (trade,) = result.trades
    assert (trade.entry_time, trade.exit_time, trade.entry_price, trade.exit_price) == (5 * HOUR, 12 * HOUR, 11.5, 5.5)
    assert trade.pnl == pytest.approx(qty * 5.5 * 0.999 - 10_000, rel=1e-12)


def test_a_signal_on_the_last_candle_is_never_filled_and_an_open_position_is_marked_at_the_last_close():
    result = run_backtest(candles_of(CLOSE[:12], OPEN[:12]), "sma_cross", {"fast": 2, "slow": 3})

    assert [fill.side for fill in result.fills] == ["buy"]  # the cross down on bar 11 is the last candle's
    qty = 10_000 / (11.5 * 1.001)
    assert result.final_equity == pytest.approx(qty * 5, rel=1e-12)
    assert result.trades[0].exit_time is None
    assert result.exposure == pytest.approx(7 / 12)


def test_buy_and_hold_is_the_benchmark_from_the_first_open():
    result = run_backtest(candles_of(CLOSE, OPEN), "sma_cross", {"fast": 2, "slow": 3})
    assert result.benchmark[-1] == pytest.approx(10_000 / (10 * 1.001) * 13, rel=1e-12)


def test_fixed_slippage_moves_both_fills_against_the_trader():
    model = ExecutionModel(slippage="fixed", slippage_bps=10)
    result = run_backtest(candles_of(CLOSE, OPEN), "sma_cross", {"fast": 2, "slow": 3}, model)
    buy, sell = result.fills
    assert buy.price == pytest.approx(11.5 * 1.001)
    assert sell.price == pytest.approx(5.5 * 0.999)
    assert result.final_equity < run_backtest(candles_of(CLOSE, OPEN), "sma_cross", {"fast": 2, "slow": 3}).final_equity


def test_volume_slippage_grows_with_the_share_of_the_previous_candles_volume_up_to_its_cap():
    thin = np.full(len(CLOSE), 100.0)
    model = ExecutionModel(slippage="volume", slippage_bps=1, impact_bps=2, slippage_cap_bps=50)
    result = run_backtest(candles_of(CLOSE, OPEN, volume=thin), "sma_cross", {"fast": 2, "slow": 3}, model)
    buy = result.fills[0]
    participation = (10_000 / 11.5) / 100.0  # qty at the open / the previous candle's volume: 87% of it
    assert buy.price == pytest.approx(11.5 * (1 + min(50, 1 + 2 * 100 * participation) / 10_000))
    assert buy.price == pytest.approx(11.5 * 1.005)  # capped
    thick = np.full(len(CLOSE), 1e9)
    result = run_backtest(candles_of(CLOSE, OPEN, volume=thick), "sma_cross", {"fast": 2, "slow": 3}, model)
    assert result.fills[0].price == pytest.approx(11.5 * (1 + (1 + 2 * 100 * (10_000 / 11.5) / 1e9) / 10_000))


def test_fixed_fraction_sizing_holds_that_share_of_equity():
    model = ExecutionModel(sizing="fixed_fraction", fraction=0.25)
    result = run_backtest(candles_of(CLOSE, OPEN), "sma_cross", {"fast": 2, "slow": 3}, model)
    buy = result.fills[0]
    assert buy.qty * buy.price == pytest.approx(2_500)
    assert result.cash == pytest.approx(10_000 - 2_500 * 1.001 + buy.qty * 5.5 * 0.999)


def test_kelly_sizing_uses_the_fraction_until_enough_signals_closed_then_their_edge_capped():
    # a rising market traded in and out every two candles: every round trip wins, so once two have
    # closed Kelly's estimate (no losses yet) is the cap
    close = np.linspace(10, 50, 60)
    candles = candles_of(close, np.concatenate(([10.0], close[:-1])))
    targets = np.full(60, np.nan)
    targets[0::4], targets[2::4] = 1.0, 0.0
    model = ExecutionModel(sizing="kelly", fraction=0.1, kelly_cap=0.3, kelly_min_trades=2)
    result = run_backtest(candles, "sma_cross", None, model, targets=targets)
    buys = [fill for fill in result.fills if fill.side == "buy"]
    assert len(buys) == 15
    for index, buy in enumerate(buys):
        bar = buy.time // HOUR
        share = 0.1 if index < 2 else 0.3
        worth = result.equity[bar - 1]  # flat since the last sale: equity is cash, unchanged by the open
        assert buy.qty * buy.price == pytest.approx(share * worth, rel=1e-12)


def test_a_stop_loss_fills_at_its_price_inside_the_candle_or_at_the_open_when_it_gaps_through():
    # entry 11.5 on bar 5; a 15% stop sits at 9.775: bar 6 (12.5 -> 10) stays above it, bar 7 (10.5 -> 8) goes through
    model = ExecutionModel(stop_loss=0.15)
    result = run_backtest(candles_of(CLOSE, OPEN), "sma_cross", {"fast": 2, "slow": 3}, model)
    stop = result.fills[1]
    assert (stop.time // HOUR, stop.reason, stop.price) == (7, "stop_loss", pytest.approx(11.5 * 0.85))
    assert len(result.fills) == 2  # after a stop, no re-entry until the strategy signals again
    assert result.trades[0].reason == "stop_loss"

    gap_open = list(OPEN)
    gap_open[7] = 9.0  # opens below the stop: filled at the open
    result = run_backtest(candles_of(CLOSE, gap_open), "sma_cross", {"fast": 2, "slow": 3}, model)
    assert (result.fills[1].time // HOUR, result.fills[1].price) == (7, 9.0)


def test_take_profit_fills_at_its_price_and_a_candle_reaching_both_counts_as_the_stop():
    high = np.maximum(OPEN, CLOSE).astype(float)
    high[5] = 13.0  # the entry candle itself trades up to 13 after its 11.5 open
    result = run_backtest(
        candles_of(CLOSE, OPEN, high=high), "sma_cross", {"fast": 2, "slow": 3}, ExecutionModel(take_profit=0.1)
    )
    assert (result.fills[1].time // HOUR, result.fills[1].reason, result.fills[1].price) == (
        5,
        "take_profit",
        pytest.approx(11.5 * 1.1),
    )
    low = np.minimum(OPEN, CLOSE).astype(float)
    low[5] = 10.0
    both = ExecutionModel(take_profit=0.1, stop_loss=0.1)
    result = run_backtest(candles_of(CLOSE, OPEN, high=high, low=low), "sma_cross", {"fast": 2, "slow": 3}, both)
    assert result.fills[1].reason == "stop_loss"


def test_close_at_end_sells_at_the_last_close_with_the_fee():
    result = run_backtest(candles_of(CLOSE[:12], OPEN[:12]), "sma_cross", {"fast": 2, "slow": 3}, close_at_end=True)
    qty = 10_000 / (11.5 * 1.001)
    assert result.fills[-1].reason == "end"
    assert result.final_equity == pytest.approx(qty * 5 * 0.999, rel=1e-12)


def test_dca_buys_in_equal_steps_and_the_grid_buys_as_the_price_falls():
    close = np.linspace(100, 50, 40)
    candles = candles_of(close, np.concatenate(([100.0], close[:-1])))
    dca = run_backtest(candles, "dca", {"every": 5, "buys": 4}, ExecutionModel(fee=0))
    assert [fill.time // HOUR for fill in dca.fills] == [1, 6, 11, 16]
    assert dca.average_exposure > 0.5
    assert dca.position[-1] > 0 and dca.cash == pytest.approx(0, abs=1e-9)
    grid = run_backtest(candles, "grid", {"levels": 10, "spacing": 0.05}, ExecutionModel(fee=0))
    positions = grid.position
    assert all(later >= earlier for earlier, later in itertools.pairwise(positions))  # falling: only buys
    assert {fill.side for fill in grid.fills} == {"buy"}


@pytest.mark.parametrize("name", list(STRATEGIES))
@pytest.mark.parametrize(
    "model",
    [
        ExecutionModel(),
        ExecutionModel(
            slippage="volume", slippage_bps=2, impact_bps=5, sizing="kelly", stop_loss=0.03, take_profit=0.06
        ),
        ExecutionModel(sizing="fixed_fraction", fraction=0.5, slippage="fixed", slippage_bps=5),
    ],
    ids=["simple", "volume-kelly-stops", "fraction-fixed-slippage"],
)
def test_changing_future_candles_never_changes_past_fills_or_equity(name, model):
    candles = shared_candles("ETH", "4h")[-3000:]
    params = {"dca": {"every": 20, "buys": 50}, "grid": {"levels": 20, "spacing": 0.01}}.get(name)
    before = run_backtest(candles, name, params, model)
    rng = np.random.default_rng(7)
    for cut in (500, 1500, 2500):
        noise = rng.uniform(0.5, 1.5, len(candles) - cut - 1)
        changed = [column.copy() for column in (candles.open, candles.high, candles.low, candles.close, candles.volume)]
        for column in changed:
            column[cut + 1 :] *= noise
        changed[1] = np.maximum.reduce(changed[:4])  # keep high >= the others, low <= them
        changed[2] = np.minimum.reduce(changed[:4])
        after = run_backtest(Candles(candles.time, *changed, candles.symbol, candles.timeframe), name, params, model)
        past = [fill for fill in before.fills if fill.time <= candles.time[cut]]
        assert [fill for fill in after.fills if fill.time <= candles.time[cut]] == past
        np.testing.assert_array_equal(after.equity[: cut + 1], before.equity[: cut + 1])
    assert before.fills, "the strategy should trade on two years of 4h candles"


def test_results_carry_trades_equity_exposure_benchmark_and_metrics():
    result = run_backtest(shared_candles("BTC", "1d"), "ema_cross", {"fast": 12, "slow": 26})
    figures = result.figures()
    assert figures["round_trips"] == len([trade for trade in result.trades if trade.exit_time is not None]) > 10
    assert 0 < figures["exposure"] < 1
    assert len(result.equity) == len(result.benchmark) == len(result.candles)
    if importlib.util.find_spec("analytics.metrics") is None:
        pytest.skip("analytics/metrics.py (the metrics module) is not in this checkout yet")
    metrics = result.metrics
    for key in ("sharpe", "sortino", "max_drawdown", "var_95", "beta", "win_rate", "profit_factor", "final_equity"):
        assert key in metrics
    assert metrics["periods_per_year"] == 365
    assert metrics["total_return"] == pytest.approx(result.final_equity / 10_000 - 1)
