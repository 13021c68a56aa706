"""Stress scenarios, mean-variance weights and Kelly sizing against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.allocation import SCENARIOS, Scenario, implied_moves, kelly_fractions, optimise_weights, stress_test
from tests.analytics.test_metrics import daily_returns

BTC = daily_returns("BTC")[-730:]
ETH = daily_returns("ETH")[-730:]
SOL = daily_returns("SOL")[-730:]


def test_an_asset_twice_as_volatile_as_btc_falls_twice_as_far_and_a_stablecoin_not_at_all():
    moves = implied_moves({"BTC": BTC, "LEVERED": 2 * BTC, "USDT": np.zeros(BTC.size)}, {"BTC": -0.30})
    assert moves["BTC"] == -0.30
    assert moves["LEVERED"] == pytest.approx(-0.60)
    assert moves["USDT"] == 0.0


def test_a_stress_test_values_the_portfolio_after_the_implied_moves():
    scenario = Scenario("t", "BTC falls 30 %", {"BTC": -0.30})
    result = stress_test(
        {"BTC": 1000.0, "ETH": 500.0, "USDT": 250.0}, {"BTC": BTC, "ETH": ETH, "USDT": np.zeros(730)}, scenario
    )
    eth_beta = np.cov(ETH, BTC, ddof=0)[0, 1] / np.var(BTC)
    assert result.value_before == 1750.0
    assert result.value_after == pytest.approx(700.0 + 500.0 * (1 - 0.30 * eth_beta) + 250.0)
    assert result.change < 0 and -0.30 < result.change_fraction < 0
    assert {scenario.key for scenario in SCENARIOS} >= {"btc_minus_30"}


@pytest.mark.parametrize(
    "pair",
    [
        (BTC, ETH),  # ETH's risk is mostly BTC's: the unconstrained answer shorts ETH, long-only holds BTC alone
        tuple(np.random.default_rng(5).normal(0.001, [[0.02], [0.04]], (2, 730))),  # independent: 80 / 20
    ],
)
def test_minimum_variance_weights_equal_the_two_asset_closed_form_within_long_only_bounds(pair):
    first, second = pair
    covariance = np.cov(np.vstack([first, second]), ddof=1)
    closed_form = (covariance[1, 1] - covariance[0, 1]) / (covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    allocation = optimise_weights({"A": first, "B": second}, objective="min_variance")
    assert allocation.weights["A"] == pytest.approx(min(max(closed_form, 0.0), 1.0), abs=1e-5)
    assert sum(allocation.weights.values()) == pytest.approx(1.0)


def test_maximum_sharpe_weights_equal_the_tangency_portfolio_when_it_is_long_only():
    returns = {"BTC": BTC, "ETH": ETH, "SOL": SOL}
    matrix = np.vstack(list(returns.values()))
    mean, covariance = matrix.mean(axis=1) * 365, np.cov(matrix, ddof=1) * 365
    tangency = np.linalg.solve(covariance, mean)
    allocation = optimise_weights(returns, objective="max_sharpe")
    if np.all(tangency > 0):
        expected = tangency / tangency.sum()
        assert list(allocation.weights.values()) == pytest.approx(list(expected), abs=1e-4)
    best = allocation.sharpe
    for weights in ([1, 0, 0], [0, 1, 0], [0, 0, 1], [1 / 3, 1 / 3, 1 / 3]):
        w = np.array(weights)
        assert best >= (w @ mean) / np.sqrt(w @ covariance @ w) - 1e-9  # nothing long-only does better


def test_mean_variance_refuses_a_single_asset_and_an_unknown_objective():
    with pytest.raises(ValueError):
        optimise_weights({"BTC": BTC}, objective="min_variance")
    with pytest.raises(ValueError):
        optimise_weights({"BTC": BTC, "ETH": ETH}, objective="max_return")


def test_kelly_is_mean_over_variance_and_the_suggestion_half_of_it_within_the_account():
    sizing = kelly_fractions({"BTC": BTC, "USDT": np.zeros(730)})
    assert sizing["BTC"]["kelly"] == pytest.approx(BTC.mean() / BTC.var(ddof=1))
    assert sizing["BTC"]["suggested"] == pytest.approx(min(max(sizing["BTC"]["kelly"] / 2, 0), 1))
    assert sizing["USDT"] == {"kelly": None, "suggested": None}
