"""Monte Carlo over trades, on inputs small enough to enumerate by hand."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from analytics.backtest.engine import run_backtest
from analytics.backtest.monte_carlo import monte_carlo
from tests.analytics.backtest_data import shared_candles


def test_shuffling_keeps_the_final_equity_and_moves_only_the_path():
    # +10% then -50%: 11,000 then 5,500 (drawdown -50%); -50% then +10%: 5,000 (ruin at half) then 5,500
    result = monte_carlo([0.1, -0.5], simulations=4000, seed=1, method="shuffle", ruin_threshold=0.5)
    assert list(result.final_equity.values()) == pytest.approx([5_500] * 5)
    assert list(result.max_drawdown.values()) == pytest.approx([-0.5] * 5)
    assert result.probability_of_ruin == pytest.approx(0.5, abs=0.03)


def test_bootstrapping_draws_with_replacement():
    # four equally likely sequences: 12,100 / 5,500 / 5,500 / 2,500;
    # ruined (at or below 5,000 at some point): the two starting with -50%
    result = monte_carlo([0.1, -0.5], simulations=4000, seed=2)
    assert result.final_equity[5] == pytest.approx(2_500)
    assert result.final_equity[50] == pytest.approx(5_500)
    assert result.final_equity[95] == pytest.approx(12_100)
    assert result.mean_final_equity == pytest.approx((12_100 + 5_500 * 2 + 2_500) / 4, rel=0.03)
    assert result.max_drawdown[95] == pytest.approx(0.0)  # +10% twice never falls
    assert result.max_drawdown[5] == pytest.approx(-0.75)  # -50% twice
    assert result.probability_of_ruin == pytest.approx(0.5, abs=0.03)


def test_the_same_seed_gives_the_same_answer_and_another_seed_another():
    returns = [0.05, -0.02, 0.03, -0.04, 0.01, 0.02, -0.03]
    first = monte_carlo(returns, simulations=500, seed=9)
    assert monte_carlo(returns, simulations=500, seed=9) == first
    assert monte_carlo(returns, simulations=500, seed=10).mean_final_equity != first.mean_final_equity


def test_a_backtests_trades_feed_it_and_its_summary_is_json_ready():
    result = run_backtest(shared_candles("BNB", "4h")[-3000:], "sma_cross", {"fast": 10, "slow": 30})
    returns = result.closed_equity_returns
    assert len(returns) > 20
    summary = monte_carlo(returns, simulations=300, seed=0).as_dict()
    assert summary["trades"] == len(returns)
    assert summary["final_equity"]["p5"] <= summary["final_equity"]["p50"] <= summary["final_equity"]["p95"]
    shuffled = monte_carlo(returns, simulations=50, seed=0, method="shuffle")
    # every permutation ends where the backtest's closed trades ended
    closed_final = 10_000 * float((1 + returns).prod())
    assert shuffled.final_equity[50] == pytest.approx(closed_final, rel=1e-9)


def test_bad_input_is_refused_per_field():
    with pytest.raises(ValidationError) as caught:
        monte_carlo([], method="tarot", simulations=0, ruin_threshold=2)
    assert set(caught.value.message_dict) == {"trades", "method", "simulations", "ruin_threshold"}
