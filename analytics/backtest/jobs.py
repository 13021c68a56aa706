"""From the engine's answers to the stored results of a backtest job, and from people's input to a search.

Pure functions (no models, no tasks): `analytics.tasks` runs the engine and stores what these build, so
the page, the API and `manage.py backtest` read one JSON document. Times are UTC milliseconds, as in
the engine; every number is a plain float or None (NaN and infinities are None: JSON has neither).

Long runs stay small to store and draw: the equity, drawdown and benchmark curves keep at most
`MAX_CURVE_POINTS` points (each bucket's lowest and highest, so no drawdown disappears from the chart),
the chart's candles at most `MAX_CHART_CANDLES` (consecutive candles merged, as a coarser timeframe
would), trade markers fall on the merged candle that holds their fill, and the stored trade list keeps
the first `MAX_STORED_TRADES` (the count of all of them is beside it). The metrics are always computed
on the whole run.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError

from analytics.backtest.candles import Candles
from analytics.backtest.strategies import Strategy

MAX_CURVE_POINTS = 1_500
MAX_CHART_CANDLES = 1_500
MAX_STORED_TRADES = 2_000
MAX_MARKERS = 1_000
RANKING_ROWS = 50
SEARCH_METHODS = ("grid", "random")
# What an optimisation may rank by: "higher is better" after analytics.backtest.optimise.score.
RANK_METRICS = {
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "calmar": "Calmar ratio",
    "omega": "Omega ratio",
    "total_return": "Total return",
    "annual_return": "Annual return",
    "net_return": "Net return",
    "final_equity": "Final equity",
    "max_drawdown": "Maximum drawdown (shallowest first)",
    "profit_factor": "Profit factor",
    "win_rate": "Win rate",
    "expectancy": "Expectancy per trade",
}


# --- JSON ------------------------------------------------------------------------------------------------
def json_safe(value: Any) -> Any:
    """Plain JSON: numpy scalars and arrays become Python numbers and lists, NaN and inf None."""
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.ndarray):
        return [json_safe(item) for item in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


# --- curves ----------------------------------------------------------------------------------------------
def drawdown_of(equity: np.ndarray) -> np.ndarray:
    """Each point's fall from the running high: equity / max(equity so far) - 1 (0 or negative)."""
    if not len(equity):
        return np.empty(0)
    highs = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(highs > 0, equity / highs - 1.0, 0.0)


def keep_indices(values: np.ndarray, limit: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Indices to draw `values` with at most about `limit` points: all of them when few; otherwise the
    first, the last and each bucket's lowest and highest, in order."""
    n = len(values)
    if n <= limit:
        return np.arange(n)
    buckets = max(1, limit // 2 - 1)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    keep = {0, n - 1}
    for first, last in itertools.pairwise(edges.tolist()):
        if last > first:
            part = values[first:last]
            keep.add(first + int(np.nanargmin(part)) if not np.isnan(part).all() else first)
            keep.add(first + int(np.nanargmax(part)) if not np.isnan(part).all() else first)
    return np.array(sorted(keep), dtype=np.int64)


def curve(times: np.ndarray, values: np.ndarray, limit: int = MAX_CURVE_POINTS) -> list[list[Any]]:
    """[[time_ms, value], ...] downsampled by `keep_indices`."""
    index = keep_indices(values, limit)
    return [[int(times[i]), json_safe(values[i])] for i in index.tolist()]


def chart_candles(candles: Candles, limit: int = MAX_CHART_CANDLES) -> tuple[int, list[list[Any]]]:
    """(merge factor k, [[time_ms, open, high, low, close], ...]): every k consecutive candles as one."""
    n = len(candles)
    k = max(1, math.ceil(n / limit)) if n else 1
    if n == 0:
        return k, []
    starts = np.arange(0, n, k)
    ends = np.minimum(starts + k, n) - 1
    opens = candles.open[starts]
    highs = np.maximum.reduceat(candles.high, starts)
    lows = np.minimum.reduceat(candles.low, starts)
    closes = candles.close[ends]
    rows = np.column_stack((opens, highs, lows, closes))
    return k, [[int(t), *json_safe(row)] for t, row in zip(candles.time[starts].tolist(), rows.tolist(), strict=True)]


def _bucket_time(candles: Candles, time_ms: int, k: int) -> int:
    index = int(np.searchsorted(candles.time, time_ms, side="right")) - 1
    index = max(0, index)
    return int(candles.time[(index // k) * k])


# --- one run ---------------------------------------------------------------------------------------------
def trade_row(trade: Any) -> dict[str, Any]:
    return json_safe(
        {
            "entry_time": trade.entry_time,
            "entry_price": trade.entry_price,
            "exit_time": trade.exit_time,
            "exit_price": trade.exit_price,
            "qty": trade.qty,
            "fees": trade.fees,
            "pnl": trade.pnl,
            "return_pct": trade.return_pct,
            "reason": trade.reason,
        }
    )


def run_payload(result: Any) -> dict[str, Any]:
    """What one run stores: metrics, trades, curves, the benchmark, exposure and the chart."""
    candles: Candles = result.candles
    traded = candles[result.start :]
    times = result.times
    equity = np.asarray(result.equity, dtype=np.float64)
    k, bars = chart_candles(traded)
    markers = [
        {
            "time": _bucket_time(traded, fill.time, k),
            "fill_time": fill.time,
            "side": fill.side,
            "price": json_safe(fill.price),
            "reason": fill.reason,
        }
        for fill in result.fills[:MAX_MARKERS]
    ]
    trades = result.trades
    metrics = json_safe(result.metrics)
    benchmark_final = float(result.benchmark[-1]) if len(result.benchmark) else result.initial_cash
    return {
        "candles": len(traded),
        "first_time": int(times[0]) if len(times) else None,
        "last_time": int(times[-1]) if len(times) else None,
        "metrics": metrics,
        "exposure": json_safe(result.exposure),
        "average_exposure": json_safe(result.average_exposure),
        "benchmark": {
            "name": "Buy and hold",
            "final_equity": json_safe(benchmark_final),
            "return": json_safe(benchmark_final / result.initial_cash - 1.0),
            "max_drawdown": json_safe(float(drawdown_of(result.benchmark).min()) if len(result.benchmark) else None),
        },
        "trades_total": len(trades),
        "trades": [trade_row(trade) for trade in trades[:MAX_STORED_TRADES]],
        "equity": curve(times, equity),
        "drawdown": curve(times, drawdown_of(equity)),
        "benchmark_equity": curve(times, np.asarray(result.benchmark, dtype=np.float64)),
        "chart": {"merged": k, "candles": bars, "markers": markers},
    }


def monte_carlo_payload(equity_returns: Sequence[float] | np.ndarray, *, initial_equity: float, **options: Any) -> dict:
    """Monte Carlo over the closed trades, or why there is none (no closed trade)."""
    from analytics.backtest.monte_carlo import monte_carlo

    returns = np.asarray(equity_returns, dtype=np.float64)
    if returns.size == 0:
        return {"skipped": "No closed trade to resample."}
    try:
        return json_safe(monte_carlo(returns, initial_equity=initial_equity, **options).as_dict())
    except ValidationError as error:
        return {"skipped": " ".join(error.messages)}


# --- a search --------------------------------------------------------------------------------------------
_RANGE = re.compile(r"^\s*(-?[\d.]+)\s*:\s*(-?[\d.]+)\s*(?::\s*(-?[\d.]+)\s*)?$")


def parse_space_text(lines: Iterable[str]) -> dict[str, Any]:
    """`fast=5:50:5` (from 5 to 50 by 5), `slow=50,100,200` (those values), `k=1.5:3` (a range, for a
    random search) -> the JSON space `search_sets` takes. Blank lines are skipped."""
    space: dict[str, Any] = {}
    errors: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        name, sep, spec = line.partition("=")
        name = name.strip()
        if not sep or not name or not spec.strip():
            errors.append(f"{line[:40]!r}: write name=from:to:step or name=a,b,c.")
            continue
        match = _RANGE.match(spec)
        if match:
            low, high, step = match.groups()
            space[name] = {"min": _number(low), "max": _number(high)} | ({"step": _number(step)} if step else {})
        else:
            space[name] = [_number(item) for item in spec.split(",") if item.strip()]
    if errors:
        raise ValidationError({"search.space": errors})
    return space


def space_text(space: Mapping[str, Any]) -> str:
    """The inverse of `parse_space_text`, for showing a stored search."""
    lines = []
    for name, spec in space.items():
        if isinstance(spec, Mapping):
            step = f":{spec['step']}" if spec.get("step") is not None else ""
            lines.append(f"{name}={spec.get('min')}:{spec.get('max')}{step}")
        else:
            lines.append(f"{name}={','.join(str(value) for value in spec)}")
    return "\n".join(lines)


def _number(text: str) -> Any:
    text = str(text).strip()
    try:
        value = float(text)
    except ValueError:
        return text  # the strategy's parameter check names it
    return int(value) if value.is_integer() and "." not in text else value


def _grid_values(name: str, spec: Any, kind: str) -> list[Any]:
    if isinstance(spec, Mapping):
        try:
            low, high = float(spec["min"]), float(spec["max"])
            given = spec.get("step")  # 0 is a step given (and refused), not the default
            step = float(given if given is not None else (1 if kind == "int" else (high - low) / 10 or 1))
        except (KeyError, TypeError, ValueError):
            raise ValidationError({"search.space": f"{name}: a range needs numbers min, max and step."}) from None
        if step <= 0 or high < low or not all(math.isfinite(x) for x in (low, high, step)):
            raise ValidationError({"search.space": f"{name}: give min <= max and a positive step."})
        count = math.floor((high - low) / step + 1e-9) + 1
        if count > 100_000:
            raise ValidationError({"search.space": f"{name}: that range holds more than 100,000 values."})
        values = [low + i * step for i in range(count)]
        return [round(v) for v in values] if kind == "int" else [round(v, 12) for v in values]
    if isinstance(spec, list | tuple) and spec:
        return list(spec)
    raise ValidationError({"search.space": f"{name}: give a list of values or a range."})


def search_sets(
    strategy: Strategy, fixed: Mapping[str, Any], search: Mapping[str, Any], *, limit: int
) -> list[dict[str, Any]]:
    """The checked parameter sets a search tries: every parameter of `fixed` at its value, the ones in
    `search["space"]` varied (grid: every combination; random: `count` draws with `seed`, among a list's
    values and on a range's step as the grid's, anywhere in [min, max] for a range without one; a space
    of no more sets than `count` is tried whole). Invalid combinations (fast >= slow, out of range) are
    left out; none left, or more than `limit`, is an error."""
    from analytics.backtest.optimise import parameter_grid, random_parameter_sets

    method = search.get("method") or "grid"
    space = search.get("space") or {}
    fields = strategy.params.fields()
    if method not in SEARCH_METHODS:
        raise ValidationError({"search.method": f"Use one of {', '.join(SEARCH_METHODS)}."})
    if not isinstance(space, Mapping) or not space:
        raise ValidationError({"search.space": "Give at least one parameter to vary."})
    unknown = sorted(str(name) for name in space if name not in fields)
    if unknown:
        raise ValidationError(
            {"search.space": f"Unknown parameters: {', '.join(unknown)}; this strategy takes {', '.join(fields)}."}
        )
    merged: dict[str, Any] = {name: [value] for name, value in fixed.items() if name not in space}
    if method == "grid":
        for name, spec in space.items():
            merged[name] = _grid_values(name, spec, fields[name]["type"])
        total = math.prod(len(values) for values in merged.values())
        if total > limit:
            raise ValidationError(
                {"search.space": f"That grid holds {total:,} combinations; at most {limit:,} are allowed."}
            )
        sets = parameter_grid(strategy, merged)
    else:
        count = search.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= limit:
            raise ValidationError({"search.count": f"Give a whole number of draws from 1 to {limit:,}."})
        for name, spec in space.items():
            if isinstance(spec, Mapping) and spec.get("step") is None:  # no step: any value in [min, max]
                try:
                    low, high = float(spec["min"]), float(spec["max"])
                except (KeyError, TypeError, ValueError):
                    raise ValidationError({"search.space": f"{name}: a range needs numbers min and max."}) from None
                if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                    raise ValidationError({"search.space": f"{name}: give finite numbers with min <= max."})
                merged[name] = (low, high)
            else:  # a list, or a range with a step: draws are among its values, as the grid's
                merged[name] = _grid_values(name, spec, fields[name]["type"])
        seed = search.get("seed") or 0
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValidationError({"search.seed": "Give a whole number."})
        if all(isinstance(values, list) for values in merged.values()) and (
            math.prod(len(values) for values in merged.values()) <= count
        ):
            sets = parameter_grid(strategy, merged)  # no more sets than draws: each of them once
        else:
            sets = random_parameter_sets(strategy, merged, count, seed=seed)
    if not sets:
        raise ValidationError(
            {"search.space": "No combination in that space is valid (check the ranges: fast must stay below slow)."}
        )
    return sets


def split(items: Sequence[Any], chunks: int) -> list[list[Any]]:
    """`items` in at most `chunks` contiguous parts of nearly equal size (none empty)."""
    chunks = max(1, min(chunks, len(items)))
    size = math.ceil(len(items) / chunks)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def evaluate_job(job: tuple) -> tuple[int, list[dict[str, Any]]]:
    """One chunk of a search in a local worker process (`manage.py backtest --workers`): (candles, strategy
    name, parameter sets, execution settings, metric, initial cash) -> (sets done, its best rows)."""
    from analytics.backtest.execution import ExecutionModel
    from analytics.backtest.optimise import evaluate_chunk

    candles, strategy, sets, execution, metric, cash = job
    rows = evaluate_chunk(candles, strategy, sets, ExecutionModel.from_dict(execution), metric, initial_cash=cash)
    return len(sets), rows[:RANKING_ROWS]


def ranking_payload(rows: Sequence[Mapping[str, Any]], *, metric: str, total: int) -> dict[str, Any]:
    return {
        "metric": metric,
        "metric_label": RANK_METRICS.get(metric, metric),
        "evaluated": total,
        "rows": json_safe([dict(row) for row in rows[:RANKING_ROWS]]),
    }


def walk_forward_payload(result: Any) -> dict[str, Any]:
    """Windows (times, chosen parameters, in-sample score, equity in and out) and the stitched curve."""
    candles: Candles = result.candles
    time = candles.time
    windows = []
    trades = []
    for window in result.windows:
        windows.append(
            {
                "train_start": int(time[window.train_start]),
                "train_end": int(time[window.train_end - 1]),
                "test_start": int(time[window.train_end]),
                "test_end": int(time[window.test_end - 1]),
                "params": json_safe(window.params),
                "in_sample_score": json_safe(window.in_sample_score),
                "initial_equity": json_safe(window.initial_equity),
                "final_equity": json_safe(window.final_equity),
                "return": json_safe(window.final_equity / window.initial_equity - 1.0)
                if window.initial_equity
                else None,
                "trades": len(window.trades),
            }
        )
        trades.extend(window.trades)
    equity = np.asarray(result.equity, dtype=np.float64)
    return {
        "metric": result.metric,
        "windows": windows,
        "metrics": json_safe(result.metrics),
        "equity": curve(result.times, equity),
        "drawdown": curve(result.times, drawdown_of(equity)),
        "trades_total": len(trades),
        "trades": [trade_row(trade) for trade in trades[:MAX_STORED_TRADES]],
    }


def walk_forward_equity_returns(result: Any) -> list[float]:
    """The out-of-sample trades' returns on equity, what Monte Carlo resamples."""
    return [
        float(trade.equity_return)
        for window in result.windows
        for trade in window.trades
        if trade.exit_time is not None
    ]
