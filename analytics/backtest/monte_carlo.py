"""Monte Carlo on trades: how much of a backtest's result was the order its trades happened to come in.

Each simulation draws a sequence of as many trades as the backtest closed from its trades' returns on
equity (`Trade.equity_return`: pnl / equity when the trade opened) and compounds them from the initial
equity: E_k = E_0 x prod_{j<=k} (1 + r_j). Two ways to draw, seeded so a result can be reproduced:

- "bootstrap" (default): with replacement, so a run may repeat its worst trade; final equity varies;
- "shuffle": a permutation of the same trades; the final equity is the backtest's own, only the path
  (and so the drawdown) changes.

Answers, over the simulations: percentiles of final equity and of the maximum drawdown (the deepest
fall of E from its running high, the initial equity counting as a high; a negative fraction, as
analytics.metrics reports it), and the probability of ruin: the share of paths whose equity falls to
(1 - ruin_threshold) x E_0 or below at any point (ruin_threshold 0.5: losing half).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from numpy.typing import ArrayLike

PERCENTILES = (5, 25, 50, 75, 95)
METHODS = ("bootstrap", "shuffle")
MAX_CELLS = 4_000_000  # simulations x trades held in memory at once


@dataclass(frozen=True)
class MonteCarloResult:
    simulations: int
    trades: int
    method: str
    seed: int
    ruin_threshold: float
    final_equity: dict[int, float]  # percentile -> value
    max_drawdown: dict[int, float]  # percentile -> depth (negative fraction; the 5th is the worst tail)
    probability_of_ruin: float
    mean_final_equity: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "simulations": self.simulations,
            "trades": self.trades,
            "method": self.method,
            "seed": self.seed,
            "ruin_threshold": self.ruin_threshold,
            "final_equity": {f"p{key}": value for key, value in self.final_equity.items()},
            "max_drawdown": {f"p{key}": value for key, value in self.max_drawdown.items()},
            "probability_of_ruin": self.probability_of_ruin,
            "mean_final_equity": self.mean_final_equity,
        }


def paths(returns: np.ndarray, initial_equity: float) -> np.ndarray:
    """Equity after each trade of each row of trade returns (simulations x trades)."""
    return initial_equity * np.cumprod(1.0 + returns, axis=1)


def max_drawdowns(equity: np.ndarray, initial_equity: float) -> np.ndarray:
    """Per row: min over k of E_k / max(E_0, E_1..E_k) - 1 (0 when it never fell)."""
    highs = np.maximum(np.maximum.accumulate(equity, axis=1), initial_equity)
    return np.minimum((equity / highs - 1.0).min(axis=1), 0.0)


def monte_carlo(
    trade_returns: ArrayLike,
    *,
    initial_equity: float = 10_000.0,
    simulations: int = 1_000,
    seed: int = 0,
    method: str = "bootstrap",
    ruin_threshold: float = 0.5,
    percentiles: Sequence[int] = PERCENTILES,
) -> MonteCarloResult:
    """Resample the trades' returns on equity (see the module docstring). Raises ValidationError on
    bad input: no trades, a method we do not know, thresholds out of (0, 1], simulations out of range."""
    returns = np.asarray(trade_returns, dtype=np.float64)
    errors = {}
    if returns.ndim != 1 or returns.size == 0:
        errors["trades"] = "Monte Carlo needs at least one closed trade."
    elif not np.isfinite(returns).all() or (returns <= -1.0).any():
        errors["trades"] = "Trade returns must be finite and above -100%."
    if method not in METHODS:
        errors["method"] = f"Use one of {', '.join(METHODS)}."
    if not 1 <= simulations <= 100_000:
        errors["simulations"] = "Give from 1 to 100,000 simulations."
    if not 0 < ruin_threshold <= 1:
        errors["ruin_threshold"] = "Give a fraction above 0 and at most 1 (0.5: losing half)."
    if errors:
        raise ValidationError(errors)

    rng = np.random.default_rng(seed)
    count = returns.size
    finals = np.empty(simulations)
    drawdowns = np.empty(simulations)
    ruined = 0
    floor = initial_equity * (1.0 - ruin_threshold)
    rows = max(1, MAX_CELLS // count)
    for first in range(0, simulations, rows):
        size = min(rows, simulations - first)
        if method == "bootstrap":
            drawn = returns[rng.integers(0, count, size=(size, count))]
        else:
            drawn = rng.permuted(np.broadcast_to(returns, (size, count)), axis=1)
        equity = paths(drawn, initial_equity)
        finals[first : first + size] = equity[:, -1]
        drawdowns[first : first + size] = max_drawdowns(equity, initial_equity)
        ruined += int(np.count_nonzero(equity.min(axis=1) <= floor))
    return MonteCarloResult(
        simulations=simulations,
        trades=count,
        method=method,
        seed=seed,
        ruin_threshold=ruin_threshold,
        final_equity={p: float(np.percentile(finals, p)) for p in percentiles},
        max_drawdown={p: float(np.percentile(drawdowns, p)) for p in percentiles},
        probability_of_ruin=ruined / simulations,
        mean_final_equity=float(finals.mean()),
    )
