"""Parameter search: which parameter sets to try (grid or random), and scoring a chunk of them.

The search is split by the caller (analytics.tasks: a Celery chord of chunks, candles loaded once per
chunk); everything here is pure, so a chunk gives the same answer on any worker:

    sets = parameter_grid(strategy, {"fast": range(5, 50, 5), "slow": [50, 100, 200]})
    rows = evaluate_chunk(candles, strategy, sets[:100], execution, "sharpe")
    best = rank(rows_from_every_chunk, "sharpe")

Invalid combinations (fast >= slow, out of range) are dropped by the generators, never run. Scores
are "higher is better" after `score`: a metric where lower is better (volatility, how long the
drawdown lasted) is negated; drawdowns and VaR are negative fractions, so higher already means a
shallower loss. A run whose metric is undefined (no trade, no variance) scores None and sorts last.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError

from analytics.backtest.candles import Candles
from analytics.backtest.engine import DEFAULT_INITIAL_CASH, run_backtest
from analytics.backtest.execution import ExecutionModel
from analytics.backtest.strategies import Strategy, get_strategy

# Figures every run has without the metrics module (cheap): rank on these and no metric is computed.
CHEAP_METRICS = ("final_equity", "net_return", "exposure", "round_trips", "fees")
LOWER_IS_BETTER = frozenset({"volatility", "max_drawdown_duration", "fees"})
MAX_SETS = 100_000


def _strategy(strategy: Strategy | str) -> Strategy:
    return get_strategy(strategy) if isinstance(strategy, str) else strategy


def _valid(strategy: Strategy, candidate: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        return strategy.parse(candidate).as_dict()
    except ValidationError:
        return None


def parameter_grid(strategy: Strategy | str, space: Mapping[str, Iterable[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values listed per parameter (others at their defaults), checked;
    the invalid ones (fast >= slow...) dropped, duplicates once, in a stable order."""
    strategy = _strategy(strategy)
    names = list(space)
    values = [list(space[name]) for name in names]
    if math.prod(len(options) for options in values) > MAX_SETS:
        raise ValidationError({"space": f"That grid holds more than {MAX_SETS:,} parameter sets."})
    unknown = set(names) - set(strategy.params.fields())
    if unknown:
        raise ValidationError({"space": f"Unknown parameters: {', '.join(sorted(unknown))}."})
    seen: set[tuple] = set()
    sets = []
    for combination in itertools.product(*values):
        checked = _valid(strategy, dict(zip(names, combination, strict=True)))
        if checked is not None and (key := tuple(sorted(checked.items()))) not in seen:
            seen.add(key)
            sets.append(checked)
    return sets


def random_parameter_sets(
    strategy: Strategy | str, space: Mapping[str, Sequence[Any] | tuple[float, float]], count: int, *, seed: int = 0
) -> list[dict[str, Any]]:
    """`count` distinct valid sets drawn with `seed`: a list of values is sampled from, a (low, high)
    pair is a range (whole numbers for integer parameters, uniform reals otherwise). Gives fewer when the
    space holds fewer valid sets (it stops after 50 x count draws)."""
    strategy = _strategy(strategy)
    fields = strategy.params.fields()
    unknown = set(space) - set(fields)
    if unknown:
        raise ValidationError({"space": f"Unknown parameters: {', '.join(sorted(unknown))}."})
    rng = np.random.default_rng(seed)
    seen: set[tuple] = set()
    sets: list[dict[str, Any]] = []
    for _ in range(50 * count):
        if len(sets) >= count:
            break
        candidate = {}
        for name, options in space.items():
            if isinstance(options, tuple) and len(options) == 2:
                low, high = options
                if fields[name]["type"] == "int":
                    candidate[name] = int(rng.integers(int(low), int(high) + 1))
                else:
                    candidate[name] = float(rng.uniform(float(low), float(high)))
            else:
                candidate[name] = list(options)[int(rng.integers(len(options)))]
        checked = _valid(strategy, candidate)
        if checked is not None and (key := tuple(sorted(checked.items()))) not in seen:
            seen.add(key)
            sets.append(checked)
    return sets


def score(metrics: Mapping[str, Any], metric: str) -> float:
    """The metric as a "higher is better" number; -inf when undefined."""
    value = metrics.get(metric)
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return -math.inf
    return -float(value) if metric in LOWER_IS_BETTER else float(value)


def evaluate_chunk(
    candles: Candles,
    strategy: Strategy | str,
    param_sets: Sequence[Mapping[str, Any]],
    execution: ExecutionModel | None = None,
    metric: str = "sharpe",
    *,
    initial_cash: float = DEFAULT_INITIAL_CASH,
    start: int = 0,
) -> list[dict[str, Any]]:
    """Backtest each parameter set on the same candles; rows {params, score, metric, metrics} ranked
    best first. `metrics` holds the cheap figures, plus the full metrics when `metric` needs them."""
    strategy = _strategy(strategy)
    rows = []
    for params in param_sets:
        result = run_backtest(candles, strategy, params, execution, initial_cash=initial_cash, start=start)
        figures = result.figures() if metric in CHEAP_METRICS else result.metrics
        if metric not in figures:
            known = ", ".join(key for key, value in figures.items() if isinstance(value, int | float | None))
            raise ValidationError({"metric": f"Unknown metric {str(metric)[:40]!r}: rank by one of {known}."})
        rows.append(
            {
                "params": dict(result.params),
                "score": _json(score(figures, metric)),
                "metric": metric,
                "metrics": {key: _json(value) for key, value in figures.items()},
            }
        )
    return rank(rows, metric)


def rank(rows: Iterable[Mapping[str, Any]], metric: str | None = None) -> list[dict[str, Any]]:
    """Rows of one or many chunks, best first (ties: the parameters' order, so results are stable)."""

    def key(row: Mapping[str, Any]) -> tuple:
        value = row["score"]
        return (math.inf if value is None else -value, sorted(row["params"].items()))

    return sorted((dict(row) for row in rows), key=key)


def _json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
