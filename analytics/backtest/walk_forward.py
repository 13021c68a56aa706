"""Walk-forward analysis: optimise on a window, test the winner on the window after it, roll on.

Windows, in candles: in-sample [a, a + train), out-of-sample [a + train, a + train + test), then a
moves on by `test` (so the out-of-sample windows tile the range without overlap; what does not fill
a whole test window at the end is left out). Per window:

1. every parameter set is backtested on the in-sample candles (`evaluate_chunk`), ranked by `metric`;
2. the best is run on the out-of-sample window, starting flat with the equity the previous window
   ended with. Its signals see the `warmup` candles before the window (the in-sample tail, already in
   the past), but it trades only inside the window, and whatever it holds at the window's last close
   is sold there (fee and slippage charged), so no position is carried over unpaid.

The out-of-sample equity curves, stitched end to end, are the honest figure: every point of it was
produced by parameters chosen without seeing it. Its metrics come from analytics.metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError

from analytics.backtest.candles import Candles
from analytics.backtest.engine import DEFAULT_INITIAL_CASH, Trade, run_backtest
from analytics.backtest.execution import ExecutionModel
from analytics.backtest.optimise import evaluate_chunk
from analytics.backtest.strategies import Strategy, get_strategy


@dataclass(frozen=True)
class Window:
    train_start: int
    train_end: int  # exclusive; the test window starts here
    test_end: int  # exclusive
    params: dict[str, Any]
    in_sample_score: float | None
    initial_equity: float
    final_equity: float
    trades: list[Trade] = field(repr=False)


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    candles: Candles
    strategy: str
    metric: str
    initial_cash: float
    windows: list[Window]
    times: np.ndarray  # the out-of-sample candles' open times, ms
    equity: np.ndarray  # stitched out-of-sample equity at those candles' closes

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1]) if len(self.equity) else self.initial_cash

    @cached_property
    def returns(self) -> np.ndarray:
        previous = np.concatenate(([self.initial_cash], self.equity[:-1]))
        return self.equity / previous - 1.0

    @cached_property
    def metrics(self) -> dict[str, Any]:
        from analytics.metrics import metrics_summary

        summary = dict(metrics_summary(self.returns, periods_per_year=self.candles.periods_per_year))
        summary["final_equity"] = self.final_equity
        summary["windows"] = len(self.windows)
        return summary


def windows(length: int, train: int, test: int) -> list[tuple[int, int, int]]:
    """(train_start, train_end, test_end) of each whole window pair that fits in `length` candles."""
    spans = []
    start = 0
    while start + train + test <= length:
        spans.append((start, start + train, start + train + test))
        start += test
    return spans


def walk_forward(
    candles: Candles,
    strategy: Strategy | str,
    param_sets: Sequence[Mapping[str, Any]],
    execution: ExecutionModel | None = None,
    *,
    train: int,
    test: int,
    metric: str = "sharpe",
    initial_cash: float = DEFAULT_INITIAL_CASH,
    on_window: Callable[[int, int], None] | None = None,
) -> WalkForwardResult:
    """Rolling optimisation over `param_sets` (e.g. `parameter_grid(...)`), in-sample `train` candles,
    out-of-sample `test` candles; see the module's docstring. `on_window(done, total)` runs after each
    window (a job's progress); an exception it raises ends the run there (a cancelled job)."""
    strategy = get_strategy(strategy) if isinstance(strategy, str) else strategy
    if not param_sets:
        raise ValidationError({"params": "Give at least one parameter set to choose from."})
    if train < 2 or test < 2:
        raise ValidationError({"train": "The in-sample and out-of-sample windows need 2 candles or more."})
    spans = windows(len(candles), train, test)
    if not spans:
        raise ValidationError(
            {"train": f"{len(candles):,} candles do not hold one window of {train:,} + {test:,} candles."}
        )
    equity = initial_cash
    done: list[Window] = []
    curves: list[np.ndarray] = []
    for train_start, train_end, test_end in spans:
        ranked = evaluate_chunk(candles[train_start:train_end], strategy, param_sets, execution, metric)
        best = ranked[0]
        params = strategy.parse(best["params"])
        warmup = min(strategy.warmup(params), train_end - train_start)
        first = train_end - warmup
        result = run_backtest(
            candles[first:test_end], strategy, params, execution, initial_cash=equity, start=warmup, close_at_end=True
        )
        curves.append(result.equity)
        done.append(
            Window(
                train_start,
                train_end,
                test_end,
                best["params"],
                best["score"],
                equity,
                result.final_equity,
                result.trades,
            )
        )
        equity = result.final_equity
        if on_window is not None:
            on_window(len(done), len(spans))
    first_test = spans[0][1]
    return WalkForwardResult(
        candles=candles,
        strategy=strategy.name,
        metric=metric,
        initial_cash=float(initial_cash),
        windows=done,
        times=candles.time[first_test : spans[-1][2]],
        equity=np.concatenate(curves),
    )
