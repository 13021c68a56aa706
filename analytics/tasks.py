"""Backtest jobs on the Celery worker: ids in, the engine run, results stored through analytics.services.

- `analytics.backtest_run` claims a queued job (a conditional update: one worker only) and runs it by kind:
  a single run (candles, the run, metrics, Monte Carlo on its trades); a walk-forward; or an optimisation,
  which it splits into a chord:
- `analytics.backtest_chunk` x N: each loads the candles once and backtests its share of the parameter
  sets (`evaluate_chunk`), counting its work into the job's progress; chunks run on whichever workers
  are free, so more worker machines (or processes: `--concurrency`) finish the search sooner with no
  change here;
- `analytics.backtest_rank`, the chord's callback: ranks every chunk's rows by the chosen metric, runs the
  best parameters in full (trades, curves, Monte Carlo) and stores it all.

A chunk that fails fails the job (the callback then finds it no longer running and stops). A job cancelled
meanwhile is noticed at the next progress update: nothing more is computed or stored. The chunks go to the
queue the job came from, so a worker on a dedicated queue (BACKTEST_TASK_QUEUE) keeps the whole search.
When the job itself runs eagerly (BACKTEST_TASKS_EAGER, the tests) the chord runs eagerly too.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import chord, shared_task
from django.core.exceptions import ValidationError

from analytics.backtest.candles import Candles, load_candles
from analytics.backtest.execution import ExecutionModel
from analytics.backtest.jobs import (
    RANKING_ROWS,
    monte_carlo_payload,
    ranking_payload,
    run_payload,
    search_sets,
    split,
    walk_forward_equity_returns,
    walk_forward_payload,
)
from analytics.backtest.strategies import get_strategy
from analytics.models import Backtest, BacktestKind, BacktestStatus
from analytics.services import (
    backtest_claim,
    backtest_fail,
    backtest_finish,
    backtest_plan,
    backtest_progress,
    backtest_steps,
    error_text,
    max_parameter_sets,
    optimise_chunks,
    task_queue,
)

logger = logging.getLogger(__name__)


class Cancelled(Exception):
    """The job stopped running (cancelled, or failed by another chunk): stop quietly."""


def _step(backtest_id: int, progress: int, message: str) -> None:
    if not backtest_progress(backtest_id, progress, message):
        raise Cancelled


def _candles(backtest: Backtest) -> Candles:
    return load_candles(backtest.symbol, backtest.timeframe, backtest.start, backtest.end)


def _with_monte_carlo(payload: dict[str, Any], equity_returns: Any, backtest: Backtest) -> dict[str, Any]:
    payload["monte_carlo"] = monte_carlo_payload(equity_returns, initial_equity=float(backtest.initial_cash))
    return payload


def _run_in_full(backtest: Backtest, candles: Candles, params: dict[str, Any]) -> dict[str, Any]:
    from analytics.backtest.engine import run_backtest

    result = run_backtest(
        candles,
        backtest.strategy,
        params,
        ExecutionModel.from_dict(backtest.execution),
        initial_cash=float(backtest.initial_cash),
    )
    _step(backtest.pk, 80, f"{result.metrics.get('round_trips', 0)} round trips; Monte Carlo on the trades")
    return _with_monte_carlo(run_payload(result), result.closed_equity_returns, backtest)


def _guarded(backtest_id: int, work) -> Any:
    """Run `work`; an error fails the job with words the owner can read (and the traceback in the log)."""
    try:
        return work()
    except Cancelled:
        return None
    except ValidationError as error:  # the input was fine when stored; the candles may have changed since
        backtest_fail(backtest_id, error_text(error))
    except Exception as error:
        logger.exception("backtest %s failed", backtest_id)
        backtest_fail(backtest_id, error_text(error))
    return None


@shared_task(name="analytics.backtest_run", bind=True)
def backtest_run(self, backtest_id: int) -> str:
    backtest = backtest_claim(backtest_id)
    if backtest is None:
        return "not queued"
    if backtest.kind == BacktestKind.OPTIMISATION:
        started = _guarded(backtest_id, lambda: _start_optimisation(self, backtest))
        return "searching" if started else _status(backtest_id)
    work = _single if backtest.kind == BacktestKind.SINGLE else _walk_forward
    _guarded(backtest_id, lambda: work(backtest))
    return _status(backtest_id)


def _status(backtest_id: int) -> str:
    return Backtest.objects.filter(pk=backtest_id).values_list("status", flat=True).first() or "gone"


def _single(backtest: Backtest) -> None:
    _step(backtest.pk, 5, "Loading candles")
    candles = _candles(backtest)
    _step(backtest.pk, 30, f"{len(candles):,} candles loaded; running the strategy")
    backtest_finish(backtest.pk, {"kind": backtest.kind} | _run_in_full(backtest, candles, backtest.params))


def _walk_forward(backtest: Backtest) -> None:
    from analytics.backtest.walk_forward import walk_forward

    strategy = get_strategy(backtest.strategy)
    search = backtest.search
    sets = search_sets(strategy, backtest.params, search, limit=max_parameter_sets())
    _step(backtest.pk, 5, "Loading candles")
    candles = _candles(backtest)
    _step(backtest.pk, 20, f"{len(candles):,} candles loaded; optimising {len(sets):,} parameter sets per window")

    def on_window(done: int, total: int) -> None:
        _step(backtest.pk, 20 + 65 * done // max(1, total), f"{done} of {total} windows tested")

    result = walk_forward(
        candles,
        strategy,
        sets,
        ExecutionModel.from_dict(backtest.execution),
        train=search["train"],
        test=search["test"],
        metric=search.get("metric") or "sharpe",
        initial_cash=float(backtest.initial_cash),
        on_window=on_window,
    )
    _step(backtest.pk, 85, f"{len(result.windows)} windows tested; Monte Carlo on the out-of-sample trades")
    payload = _with_monte_carlo(walk_forward_payload(result), walk_forward_equity_returns(result), backtest)
    payload["metrics"] |= {
        "net_return": result.final_equity / result.initial_cash - 1.0,
        "round_trips": sum(window["trades"] for window in payload["windows"]),
    }
    backtest_finish(backtest.pk, {"kind": backtest.kind, "walk_forward": payload, "metrics": payload["metrics"]})


def _start_optimisation(task, backtest: Backtest) -> bool:
    strategy = get_strategy(backtest.strategy)
    sets = search_sets(strategy, backtest.params, backtest.search, limit=max_parameter_sets())
    parts = split(sets, optimise_chunks())
    if not backtest_plan(backtest.pk, len(sets), f"{len(sets):,} parameter sets in {len(parts)} chunks"):
        raise Cancelled
    queue = ((task.request.delivery_info or {}).get("routing_key")) or task_queue()
    header = [backtest_chunk.s(backtest.pk, part).set(queue=queue) for part in parts]
    callback = backtest_rank.s(backtest.pk).set(queue=queue)
    if task.request.is_eager:
        chord(header, callback).apply()
    else:
        chord(header)(callback)
    return True


@shared_task(name="analytics.backtest_chunk", bind=True)
def backtest_chunk(self, backtest_id: int, param_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Backtest `param_sets` on the job's candles (loaded once here); the best RANKING_ROWS rows."""
    from analytics.backtest.optimise import evaluate_chunk

    backtest = Backtest.objects.without_results().filter(pk=backtest_id, status=BacktestStatus.RUNNING).first()
    if backtest is None:
        return []

    def work() -> list[dict[str, Any]]:
        candles = _candles(backtest)
        rows = evaluate_chunk(
            candles,
            backtest.strategy,
            param_sets,
            ExecutionModel.from_dict(backtest.execution),
            backtest.search.get("metric") or "sharpe",
            initial_cash=float(backtest.initial_cash),
        )
        backtest_steps(backtest_id, len(param_sets))
        return rows[:RANKING_ROWS]

    return _guarded(backtest_id, work) or []


@shared_task(name="analytics.backtest_rank", bind=True)
def backtest_rank(self, chunk_rows: list[list[dict[str, Any]]], backtest_id: int) -> str:
    """The chord's callback: rank, run the best in full, store."""
    backtest = Backtest.objects.without_results().filter(pk=backtest_id, status=BacktestStatus.RUNNING).first()
    if backtest is None:
        return _status(backtest_id)
    _guarded(backtest_id, lambda: rank_and_finish(backtest, chunk_rows))
    return _status(backtest_id)


def rank_and_finish(backtest: Backtest, chunk_rows: list[list[dict[str, Any]]]) -> None:
    """Every chunk's rows ranked by the search's metric; the best run in full; all of it stored."""
    from analytics.backtest.optimise import rank

    metric = backtest.search.get("metric") or "sharpe"
    rows = rank([row for rows in chunk_rows for row in rows], metric)
    if not rows:
        backtest_fail(backtest.pk, "No parameter set could be evaluated.")
        return
    best = rows[0]
    _step(backtest.pk, 92, f"Ranked by {metric}; running the best parameters in full")
    payload = _run_in_full(backtest, _candles(backtest), best["params"])
    payload |= {
        "kind": backtest.kind,
        "best_params": best["params"],
        "ranking": ranking_payload(rows, metric=metric, total=backtest.steps_total or len(rows)),
    }
    backtest_finish(backtest.pk, payload)
