"""What-if and how-much for a portfolio: stress scenarios, mean-variance weights, Kelly sizing.

Pure numpy/scipy over aligned periodic returns per asset (same periods, no NaN); the portfolio
service feeds it the user's holdings and the candles of their markets.

- Stress test: a scenario shocks some assets (BTC -30 %); every other asset moves by its regression
  on the shocked one (beta = corr * sigma_asset / sigma_shocked), the move the correlations imply.
  Stablecoins never vary, so their beta is 0 and they keep their value.
- Mean-variance (Markowitz), long-only, fully invested: minimum variance minimises w' S w; maximum
  Sharpe maximises (w' mu - rf) / sqrt(w' S w). mu and S are annualised (mean * n, covariance * n).
  Solved with scipy's SLSQP from equal weights; weights below 1e-6 are reported as 0.
- Kelly: for one asset with log-normal-ish returns the growth-optimal fraction is (mu - rf) / sigma^2
  (the continuous Kelly criterion); suggestions are half of it (the usual hedge against estimation
  error), clipped to [0, 1] for a long-only account without leverage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analytics.metrics import DEFAULT_PERIODS_PER_YEAR, period_rate

Array = NDArray[np.float64]
KELLY_SHARE = 0.5
ZERO_WEIGHT = 1e-6


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    shocks: Mapping[str, float]  # asset -> move, -0.30 = falls 30 %


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("btc_minus_30", "BTC falls 30 %", {"BTC": -0.30}),
    Scenario("btc_minus_50", "Crypto winter: BTC falls 50 %", {"BTC": -0.50}),
    Scenario("eth_minus_40", "ETH falls 40 %", {"ETH": -0.40}),
    Scenario("btc_plus_20", "BTC rises 20 %", {"BTC": 0.20}),
)


@dataclass(frozen=True)
class StressResult:
    scenario: Scenario
    moves: dict[str, float]  # every held asset's implied move
    value_before: float
    value_after: float

    @property
    def change(self) -> float:
        return self.value_after - self.value_before

    @property
    def change_fraction(self) -> float | None:
        return self.change / self.value_before if self.value_before else None


def _matrix(returns: Mapping[str, Array]) -> tuple[list[str], Array]:
    names = list(returns)
    if not names:
        return names, np.empty((0, 0))
    matrix = np.vstack([np.asarray(returns[name], dtype=np.float64) for name in names])
    if not np.all(np.isfinite(matrix)):
        raise ValueError("Returns must be finite numbers (drop missing periods first).")
    return names, matrix


def implied_moves(returns: Mapping[str, Array], shocks: Mapping[str, float]) -> dict[str, float]:
    """Each asset's move given the shocked ones: its own shock, else the sum over shocked assets of
    beta(asset on shocked) * shock (one shocked asset in every shipped scenario)."""
    names, matrix = _matrix(returns)
    moves: dict[str, float] = {}
    for i, name in enumerate(names):
        if name in shocks:
            moves[name] = float(shocks[name])
            continue
        move = 0.0
        for shocked, shock in shocks.items():
            if shocked not in returns:
                continue
            driver = matrix[names.index(shocked)]
            variance = np.var(driver)
            if variance > 0:
                move += float(np.mean((matrix[i] - matrix[i].mean()) * (driver - driver.mean())) / variance) * shock
        moves[name] = max(move, -1.0)  # nothing falls more than all of its value
    return moves


def stress_test(values: Mapping[str, float], returns: Mapping[str, Array], scenario: Scenario) -> StressResult:
    """The portfolio's value before and after `scenario`, from each asset's value and its returns."""
    moves = implied_moves({name: returns[name] for name in values if name in returns}, scenario.shocks)
    before = float(sum(values.values()))
    after = float(sum(value * (1.0 + moves.get(name, 0.0)) for name, value in values.items()))
    return StressResult(scenario=scenario, moves=moves, value_before=before, value_after=after)


@dataclass(frozen=True)
class Allocation:
    weights: dict[str, float]
    annual_return: float
    volatility: float
    sharpe: float | None


def _annualised(matrix: Array, periods_per_year: int) -> tuple[Array, Array]:
    mean = matrix.mean(axis=1) * periods_per_year
    covariance = np.atleast_2d(np.cov(matrix, ddof=1)) * periods_per_year
    return mean, covariance


def _allocation(names: list[str], weights: Array, mean: Array, covariance: Array, risk_free: float) -> Allocation:
    weights = np.where(weights < ZERO_WEIGHT, 0.0, weights)
    weights = weights / weights.sum()
    expected = float(weights @ mean)
    volatility = float(np.sqrt(max(weights @ covariance @ weights, 0.0)))
    sharpe = (expected - risk_free) / volatility if volatility > 0 else None
    return Allocation(
        weights={name: float(weight) for name, weight in zip(names, weights, strict=True)},
        annual_return=expected,
        volatility=volatility,
        sharpe=sharpe,
    )


def optimise_weights(
    returns: Mapping[str, Array],
    *,
    objective: str,
    risk_free: float = 0.0,
    periods_per_year: int = DEFAULT_PERIODS_PER_YEAR,
) -> Allocation:
    """Long-only, fully invested weights for `objective` "min_variance" or "max_sharpe"."""
    from scipy.optimize import minimize

    names, matrix = _matrix(returns)
    if len(names) < 2 or matrix.shape[1] < 3:
        raise ValueError("Mean-variance weights need at least two assets with three periods of returns each.")
    mean, covariance = _annualised(matrix, periods_per_year)

    def variance(weights: Array) -> float:
        return float(weights @ covariance @ weights)

    def negative_sharpe(weights: Array) -> float:
        spread = np.sqrt(max(variance(weights), 1e-18))
        return -float((weights @ mean - risk_free) / spread)

    if objective not in ("min_variance", "max_sharpe"):
        raise ValueError(f"Unknown objective {objective!r}: min_variance or max_sharpe.")
    result = minimize(
        variance if objective == "min_variance" else negative_sharpe,
        np.full(len(names), 1.0 / len(names)),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * len(names),
        constraints=[{"type": "eq", "fun": lambda weights: weights.sum() - 1.0}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    return _allocation(names, np.clip(result.x, 0.0, 1.0), mean, covariance, risk_free)


def kelly_fractions(
    returns: Mapping[str, Array], *, risk_free: float = 0.0, periods_per_year: int = DEFAULT_PERIODS_PER_YEAR
) -> dict[str, dict[str, float | None]]:
    """Per asset: the full continuous Kelly fraction (mu - rf) / sigma^2 on per-period returns, and the
    suggested share of the account (half of it, clipped to [0, 1]); None for an asset that never varies."""
    names, matrix = _matrix(returns)
    rate = period_rate(risk_free, periods_per_year)
    suggestions: dict[str, dict[str, float | None]] = {}
    for name, series in zip(names, matrix, strict=True):
        variance = float(np.var(series, ddof=1)) if series.size > 1 else 0.0
        if variance <= 0:
            suggestions[name] = {"kelly": None, "suggested": None}
            continue
        kelly = float((series.mean() - rate) / variance)
        suggestions[name] = {"kelly": kelly, "suggested": float(np.clip(kelly * KELLY_SHARE, 0.0, 1.0))}
    return suggestions
