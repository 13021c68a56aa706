"""Parameter search: the sets tried, chunks ranked alike wherever they ran, and walk-forward windows."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from analytics.backtest.candles import Candles
from analytics.backtest.engine import run_backtest
from analytics.backtest.optimise import evaluate_chunk, parameter_grid, random_parameter_sets, rank, score
from analytics.backtest.walk_forward import walk_forward, windows
from tests.analytics.backtest_data import shared_candles


def test_the_grid_holds_every_valid_combination_once_and_drops_fast_not_below_slow():
    sets = parameter_grid("sma_cross", {"fast": [5, 10, 20], "slow": [10, 20]})
    assert sets == [{"fast": 5, "slow": 10}, {"fast": 5, "slow": 20}, {"fast": 10, "slow": 20}]
    with pytest.raises(ValidationError):
        parameter_grid("sma_cross", {"speed": [1]})


def test_random_sets_are_valid_distinct_and_the_same_for_the_same_seed():
    space = {"fast": (2, 50), "slow": (10, 200)}
    sets = random_parameter_sets("sma_cross", space, 40, seed=3)
    assert len(sets) == 40 == len({(s["fast"], s["slow"]) for s in sets})
    assert all(2 <= s["fast"] < s["slow"] <= 200 for s in sets)
    assert random_parameter_sets("sma_cross", space, 40, seed=3) == sets
    assert random_parameter_sets("sma_cross", space, 40, seed=4) != sets
    reals = random_parameter_sets("bollinger_breakout", {"period": [10, 20], "k": (1.0, 3.0)}, 5, seed=1)
    assert all(1.0 <= s["k"] <= 3.0 and s["period"] in (10, 20) for s in reals)


def test_a_chunk_is_ranked_by_the_chosen_metric_and_chunks_merge_into_the_same_ranking():
    candles = shared_candles("SOL", "4h")[-2000:]
    sets = parameter_grid("sma_cross", {"fast": [5, 10, 20], "slow": [30, 60]})
    whole = evaluate_chunk(candles, "sma_cross", sets, metric="final_equity")
    finals = {tuple(s.values()): run_backtest(candles, "sma_cross", s).final_equity for s in sets}
    assert [row["metrics"]["final_equity"] for row in whole] == sorted(finals.values(), reverse=True)
    assert [row["score"] for row in whole] == sorted(finals.values(), reverse=True)
    halves = evaluate_chunk(candles, "sma_cross", sets[:3], metric="final_equity") + evaluate_chunk(
        candles, "sma_cross", sets[3:], metric="final_equity"
    )
    assert rank(halves) == whole


def test_an_unknown_metric_is_refused_naming_the_known_ones():
    with pytest.raises(ValidationError) as caught:
        evaluate_chunk(shared_candles("SOL", "4h")[-300:], "sma_cross", [{"fast": 5, "slow": 10}], metric="luck")
    assert "final_equity" in caught.value.message_dict["metric"][0]


def test_scores_are_higher_is_better_and_undefined_sorts_last():
    assert score({"volatility": 0.2}, "volatility") == -0.2
    assert score({"max_drawdown": -0.3}, "max_drawdown") == -0.3  # a shallower drawdown (-0.1) scores higher
    assert score({"sharpe": None}, "sharpe") == -np.inf
    rows = [
        {"params": {"a": 1}, "score": None},
        {"params": {"a": 2}, "score": -1.0},
        {"params": {"a": 3}, "score": 2.0},
    ]
    assert [row["params"]["a"] for row in rank(rows)] == [3, 2, 1]


def test_walk_forward_windows_tile_the_range_after_the_first_training_window():
    assert windows(70, 30, 10) == [(0, 30, 40), (10, 40, 50), (20, 50, 60), (30, 60, 70)]
    assert windows(69, 30, 10) == [(0, 30, 40), (10, 40, 50), (20, 50, 60)]
    assert windows(39, 30, 10) == []


def test_walk_forward_tests_each_window_with_the_in_sample_winner_and_chains_the_equity():
    candles = shared_candles("BTC", "1d")[-900:]
    sets = parameter_grid("sma_cross", {"fast": [5, 10, 20], "slow": [30, 50]})
    result = walk_forward(candles, "sma_cross", sets, train=300, test=100, metric="final_equity", initial_cash=1_000)

    assert len(result.windows) == 6
    assert len(result.equity) == len(result.times) == 600
    np.testing.assert_array_equal(result.times, candles.time[300:900])
    equity = 1_000.0
    for window in result.windows:
        best = evaluate_chunk(candles[window.train_start : window.train_end], "sma_cross", sets, metric="final_equity")[
            0
        ]
        assert window.params == best["params"]
        assert window.initial_equity == equity
        warmup = window.params["slow"] + 1
        alone = run_backtest(
            candles[window.train_end - warmup : window.test_end],
            "sma_cross",
            window.params,
            initial_cash=equity,
            start=warmup,
            close_at_end=True,
        )
        assert window.final_equity == alone.final_equity
        for trade in window.trades:  # traded inside its test window only, and flat at its end
            assert candles.time[window.train_end] < trade.entry_time <= candles.time[window.test_end - 1]
            assert trade.exit_time is not None
        equity = window.final_equity
    assert result.final_equity == equity


def test_walk_forward_choices_never_depend_on_the_candles_after_their_training_window():
    candles = shared_candles("ETH", "1d")[-700:]
    sets = parameter_grid("ema_cross", {"fast": [5, 10], "slow": [20, 40]})
    before = walk_forward(candles, "ema_cross", sets, train=300, test=100)
    changed_close = candles.close.copy()
    changed_close[500:] = changed_close[500:][::-1]
    changed = Candles(
        candles.time, candles.open, candles.high, candles.low, changed_close, candles.volume, "ETH/USDT", "1d"
    )
    after = walk_forward(changed, "ema_cross", sets, train=300, test=100)
    assert [w.params for w in after.windows[:3]] == [w.params for w in before.windows[:3]]  # trained before 500
    np.testing.assert_array_equal(after.equity[:200], before.equity[:200])


def test_walk_forward_refuses_a_range_too_short_for_one_window():
    with pytest.raises(ValidationError) as caught:
        walk_forward(shared_candles("BTC", "1d")[:100], "sma_cross", [{"fast": 5, "slow": 10}], train=80, test=30)
    assert "train" in caught.value.message_dict


def test_walk_forward_reports_each_window_as_it_finishes_and_stops_when_told():
    candles = shared_candles("BTC", "1d")[-700:]
    sets = parameter_grid("sma_cross", {"fast": [5, 10], "slow": [30]})
    seen: list[tuple[int, int]] = []
    walk_forward(
        candles, "sma_cross", sets, train=300, test=100, on_window=lambda done, total: seen.append((done, total))
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]

    class Cancelled(Exception):
        pass

    def cancel_after_two(done: int, total: int) -> None:
        if done == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        walk_forward(candles, "sma_cross", sets, train=300, test=100, on_window=cancel_after_two)
