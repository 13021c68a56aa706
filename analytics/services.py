"""Backtest jobs: created and cancelled by their owner, moved along by the worker.

`backtest_create` is the one place input becomes a stored backtest: the page, the API and
`manage.py backtest` all call it. Everything is checked before anything is stored, each problem on its
own field: the strategy (registered?), its parameters (`params.<name>`: types, bounds, fast < slow, by
the strategy's own `Params`), the execution model (`execution.<name>`), the market, the timeframe, the
range (start before end; not more than BACKTEST_MAX_CANDLES candles; candles stored there, which the
candle store is asked), and for a search its space, method and metric (`search.<name>`). The job is
queued after commit (the worker must find the row) and announced on /ws/events.

The worker's side (`backtest_claim`, `backtest_progress`, `backtest_steps`, `backtest_finish`,
`backtest_fail`) only ever changes a row by a conditional update (`filter(pk=..., status=...)`), so a
cancel racing the worker leaves exactly one outcome, two workers never run one job, and progress never
goes backwards. Each change is pushed to the owner's open pages after commit as `backtest.progress`
(`backtest.finished` for the last one) with the id, status, progress and message.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from analytics.backtest.execution import ExecutionModel
from analytics.backtest.jobs import RANK_METRICS, search_sets
from analytics.backtest.strategies import Strategy, get_strategy
from analytics.errors import BacktestNotActive
from analytics.models import ACTIVE_STATUSES, SUMMARY_KEYS, Backtest, BacktestKind, BacktestStatus
from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from cryptovault.events import broadcast, user_group
from security.audit import audit_record

logger = logging.getLogger(__name__)

MAX_INITIAL_CASH = Decimal(10) ** 12
MIN_WINDOW = 2


# --- settings (cryptovault/settings.py, BACKTEST_*) ----------------------------------------------------
def max_candles() -> int:
    """The most candles one backtest may read (BACKTEST_MAX_CANDLES)."""
    return int(settings.BACKTEST_MAX_CANDLES)


def max_parameter_sets() -> int:
    """The most parameter sets one optimisation or walk-forward may try (BACKTEST_MAX_PARAMETER_SETS)."""
    return int(settings.BACKTEST_MAX_PARAMETER_SETS)


def optimise_chunks() -> int:
    """How many Celery tasks an optimisation is split into (BACKTEST_OPTIMISE_CHUNKS): enough for every
    worker process to take some; each loads the candles once."""
    return int(settings.BACKTEST_OPTIMISE_CHUNKS)


def task_queue() -> str | None:
    return settings.BACKTEST_TASK_QUEUE or None


def tasks_eager() -> bool:
    """Run jobs in the process that queues them (the test suite; no worker needed)."""
    return settings.BACKTEST_TASKS_EAGER


# --- events ----------------------------------------------------------------------------------------------
# Called in-process on every change the worker's side makes (id, status, progress, message): how
# `manage.py backtest` prints progress while it runs a job in the foreground.
PROGRESS_HOOKS: list[Any] = []


def backtest_payload(backtest: Backtest) -> dict[str, Any]:
    return {
        "id": backtest.pk,
        "status": backtest.status,
        "progress": backtest.progress,
        "message": backtest.progress_message,
    }


def _announce(backtest: Backtest, event: str = "backtest.progress") -> None:
    """Tell the owner's open pages, once committed; a dead channel layer never fails the job."""
    group, payload = user_group(backtest.user_id), backtest_payload(backtest)

    def send() -> None:
        try:
            broadcast(group, event, payload)
        except Exception:
            logger.warning("backtest %s: the %s event could not be sent", payload["id"], event, exc_info=True)

    transaction.on_commit(send)


# --- checking input --------------------------------------------------------------------------------------
def _prefixed(prefix: str, error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {f"{prefix}.{name}": messages for name, messages in error.message_dict.items()}
    return {prefix: error.messages}


def _check_fixed(strategy: Strategy, params: Mapping[str, Any]) -> dict[str, list[str]]:
    """The fixed parameters of a search, one by one: known names, right types, within bounds (the rules
    across parameters are applied to each combination the search makes)."""
    fields = strategy.params.fields()
    errors: dict[str, list[str]] = {}
    for name, value in params.items():
        spec = fields.get(name)
        if spec is None:
            errors[f"params.{str(name)[:40]}"] = [f"Unknown parameter; this strategy takes {', '.join(fields)}."]
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number) or (spec["type"] == "int" and not number.is_integer()):
            errors[f"params.{name}"] = [f"Give a {'whole ' if spec['type'] == 'int' else ''}number."]
        elif not spec["min"] <= number <= spec["max"]:
            errors[f"params.{name}"] = [f"Give a number from {spec['min']:g} to {spec['max']:g}, not {value}."]
    return errors


def _aware(moment: Any, name: str, errors: dict[str, list[str]], *, whole_day: bool = False) -> datetime | None:
    """A datetime, a date or its ISO text, in UTC (naive is UTC). A bare date is its 00:00, or with
    `whole_day` (the end of a range) its last second, so the day's candles all count: one meaning for the
    page, the API and `manage.py backtest`."""
    if isinstance(moment, str):
        from django.utils.dateparse import parse_date, parse_datetime

        text = moment.strip()
        try:
            # A date first: parse_datetime also reads "2024-01-31" (as its 00:00).
            parsed: datetime | date | None = parse_date(text) or parse_datetime(text)
        except ValueError:  # well formed but no such day (2024-02-30)
            parsed = None
        if parsed is None:
            errors[name] = ["Give a date (2024-01-31) or a date and time in UTC."]
            return None
        moment = parsed
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(23, 59, 59) if whole_day else time.min)
    if not isinstance(moment, datetime):
        errors[name] = ["Give a date (2024-01-31) or a date and time in UTC."]
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def _check_candles(symbol: str, timeframe: str, start: datetime, end: datetime) -> dict[str, list[str]]:
    """Not too many candles for one job, and some stored in the range. Asked as `load_candles` reads
    (through `candles_for`): the timeframe's bars opening within [start, end], served from any stored
    timeframe that divides it (its own rows, or finer ones aggregated: 1w from 1d), on the market data
    exchange or the shipped fixture's."""
    from exchanges.market.candles import SECONDS, bucket_start, served_timeframes
    from exchanges.market.data import FIXTURE_EXCHANGE
    from exchanges.models import Candle

    step = SECONDS[timeframe]
    bars = int((end - start).total_seconds() // step) + 1
    if bars > max_candles():
        return {
            "start": [
                f"That range holds about {bars:,} {timeframe} candles; a backtest may read at most "
                f"{max_candles():,}: shorten it or pick a longer timeframe."
            ]
        }
    stored = Candle.objects.filter(
        exchange__in=list(dict.fromkeys([settings.MARKET_DATA_EXCHANGE, FIXTURE_EXCHANGE])), symbol=symbol
    )
    if served_timeframes(symbol).get(timeframe) is None:
        if not stored.exists():
            return {
                "symbol": [f"No candles are stored for {symbol} yet (manage.py import_candles --offline loads them)."]
            }
        return {"timeframe": [f"No candles fine enough for {timeframe} are stored for {symbol}."]}
    sources = stored.filter(timeframe__in=[tf for tf, seconds in SECONDS.items() if step % seconds == 0])
    # The bars `candles_for` returns: the first opening at or after the start, to the one holding the end.
    first_s, last_s = int(start.timestamp()), int(end.timestamp())
    first_bar = bucket_start(first_s, timeframe)
    if first_bar < first_s:
        first_bar += step
    after_last = bucket_start(last_s, timeframe) + step
    if (
        first_bar >= after_last
        or not sources.filter(
            open_time__gte=datetime.fromtimestamp(first_bar, UTC), open_time__lt=datetime.fromtimestamp(after_last, UTC)
        ).exists()
    ):
        span = sources.aggregate(first=Min("open_time"), last=Max("open_time"))
        held = f" Stored: {span['first']:%Y-%m-%d} to {span['last']:%Y-%m-%d}." if span["first"] is not None else ""
        return {
            "start": [
                f"No {timeframe} candles of {symbol} are stored between {start:%Y-%m-%d %H:%M} and "
                f"{end:%Y-%m-%d %H:%M} UTC.{held}"
            ]
        }
    return {}


def backtest_check(
    *,
    kind: str,
    strategy: str,
    symbol: str,
    timeframe: str,
    start: Any,
    end: Any,
    params: Mapping[str, Any] | None = None,
    execution: Mapping[str, Any] | None = None,
    initial_cash: Decimal | str | int | float = Decimal("10000"),
    search: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Every input checked (see the module); the stored values, or a ValidationError naming each bad field."""
    from exchanges.errors import UnknownSymbol
    from exchanges.market.candles import SECONDS, TIMEFRAMES
    from exchanges.market.symbols import parse_symbol

    errors: dict[str, list[str]] = {}
    params = dict(params or {})
    search = dict(search or {})
    if not isinstance(kind, str) or kind not in BacktestKind.values:
        errors["kind"] = [f"Use one of {', '.join(BacktestKind.values)}."]
    chosen: Strategy | None = None
    try:
        chosen = get_strategy(strategy)
    except ValidationError as error:
        errors.update(error.message_dict)
    checked_params: dict[str, Any] = {}
    if chosen is not None:
        if kind == BacktestKind.SINGLE:
            try:
                checked_params = chosen.parse(params).as_dict()
            except ValidationError as error:
                errors.update(_prefixed("params", error))
        else:
            errors.update(_check_fixed(chosen, params))
            checked_params = params
    try:
        model = ExecutionModel.from_dict(execution or {})
    except ValidationError as error:
        errors.update(_prefixed("execution", error))
        model = None
    try:
        symbol = parse_symbol(symbol)
    except UnknownSymbol as error:
        errors["symbol"] = [error.message]
    if timeframe not in TIMEFRAMES:
        errors["timeframe"] = [f"Unknown timeframe {str(timeframe)[:16]!r}: use one of {', '.join(TIMEFRAMES)}."]
    start_at = _aware(start, "start", errors)
    end_at = _aware(end, "end", errors, whole_day=True)
    if start_at and end_at and start_at >= end_at:
        errors["start"] = ["The start must be before the end."]
    try:
        cash = Decimal(str(initial_cash))
        if not cash.is_finite() or cash <= 0 or cash > MAX_INITIAL_CASH:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["initial_cash"] = [f"Give an amount above 0 and at most {MAX_INITIAL_CASH:,}."]
        cash = Decimal("0")
    if not {"symbol", "timeframe", "start", "end"} & errors.keys() and start_at and end_at:
        errors.update(_check_candles(symbol, timeframe, start_at, end_at))

    stored_search: dict[str, Any] = {}
    if kind in (BacktestKind.OPTIMISATION, BacktestKind.WALK_FORWARD):
        metric = search.get("metric") or "sharpe"
        if not isinstance(metric, str) or metric not in RANK_METRICS:
            errors["search.metric"] = [f"Rank by one of {', '.join(RANK_METRICS)}."]
        if chosen is not None and not any(name.startswith("params.") for name in errors):
            try:
                sets = search_sets(chosen, params, search, limit=max_parameter_sets())
            except ValidationError as error:
                errors.update(
                    {
                        (name if name.startswith("search.") else f"search.{name}"): messages
                        for name, messages in error.message_dict.items()
                    }
                )
            else:
                stored_search = {
                    "method": search.get("method") or "grid",
                    "space": search.get("space"),
                    "metric": metric,
                    "sets": len(sets),
                }
                if stored_search["method"] == "random":
                    stored_search |= {"count": search.get("count"), "seed": search.get("seed") or 0}
        if kind == BacktestKind.WALK_FORWARD:
            for name in ("train", "test"):
                value = search.get(name)
                if isinstance(value, bool) or not isinstance(value, int) or value < MIN_WINDOW:
                    errors[f"search.{name}"] = [f"Give a whole number of candles, {MIN_WINDOW} or more."]
            if not {"search.train", "search.test", "start", "end", "timeframe"} & errors.keys() and start_at and end_at:
                bars = int((end_at - start_at).total_seconds() // SECONDS[timeframe]) + 1
                if search["train"] + search["test"] > bars:
                    errors["search.train"] = [
                        f"The range holds at most {bars:,} candles: fewer than one window of "
                        f"{search['train']:,} + {search['test']:,}."
                    ]
            stored_search |= {"train": search.get("train"), "test": search.get("test")}
    if errors:
        raise ValidationError(errors)
    assert chosen is not None and model is not None
    return {
        "kind": kind,
        "strategy": chosen.name,
        "params": checked_params,
        "search": stored_search,
        "symbol": symbol,
        "timeframe": timeframe,
        "start": start_at,
        "end": end_at,
        "execution": model.as_dict(),
        "initial_cash": cash,
    }


# --- the owner's side ------------------------------------------------------------------------------------
def backtest_create(
    *,
    actor: Actor,
    user: Any,
    strategy: str,
    symbol: str,
    timeframe: str,
    start: Any,
    end: Any,
    kind: str = BacktestKind.SINGLE,
    params: Mapping[str, Any] | None = None,
    execution: Mapping[str, Any] | None = None,
    initial_cash: Decimal | str | int | float = Decimal("10000"),
    search: Mapping[str, Any] | None = None,
    enqueue: bool = True,
) -> Backtest:
    """A queued backtest of `user`'s, run by the worker once committed (see the module for the checks).
    `enqueue=False` leaves it queued for the caller to run (`manage.py backtest` in the foreground)."""
    values = backtest_check(
        kind=kind,
        strategy=strategy,
        symbol=symbol,
        timeframe=timeframe,
        start=start,
        end=end,
        params=params,
        execution=execution,
        initial_cash=initial_cash,
        search=search,
    )
    backtest = Backtest(user=user, task_id=uuid.uuid4().hex, progress_message="Waiting for a worker", **values)
    backtest.full_clean()
    with transaction.atomic():
        backtest.save()
        audit_record(
            "backtest.created",
            actor=actor,
            user=user,
            backtest_id=backtest.pk,
            kind=backtest.kind,
            strategy=backtest.strategy,
            symbol=backtest.symbol,
            timeframe=backtest.timeframe,
        )
        _announce(backtest, "backtest.created")
        if enqueue:
            transaction.on_commit(lambda: backtest_enqueue(backtest.pk))
    return backtest


def backtest_enqueue(backtest_id: int) -> None:
    """Hand the job to the worker (or run it here when BACKTEST_TASKS_EAGER); a broker that is down fails it."""
    from analytics.tasks import backtest_run

    backtest = Backtest.objects.filter(pk=backtest_id).only("task_id").first()
    if backtest is None:
        return
    if tasks_eager():
        backtest_run.apply(args=[backtest_id], task_id=backtest.task_id)
        return
    try:
        backtest_run.apply_async(args=[backtest_id], task_id=backtest.task_id, queue=task_queue())
    except Exception:
        logger.exception("backtest %s could not be queued", backtest_id)
        backtest_fail(backtest_id, "The job queue is unavailable right now; start the backtest again in a minute.")


def backtest_cancel(*, actor: Actor, backtest: Backtest) -> Backtest:
    """Stop a queued or running backtest: the worker notices between steps and stores nothing more."""
    now = timezone.now()
    with transaction.atomic():
        changed = Backtest.objects.filter(pk=backtest.pk, status__in=ACTIVE_STATUSES).update(
            status=BacktestStatus.CANCELLED, finished_at=now, progress_message="Cancelled"
        )
        if not changed:
            raise BacktestNotActive()
        backtest.refresh_from_db()
        audit_record("backtest.cancelled", actor=actor, user=backtest.user, backtest_id=backtest.pk)
        _announce(backtest, "backtest.finished")
    return backtest


# --- the worker's side -----------------------------------------------------------------------------------
def _updated(backtest_id: int, event: str = "backtest.progress") -> Backtest | None:
    backtest = Backtest.objects.without_results().filter(pk=backtest_id).first()
    if backtest is not None:
        _announce(backtest, event)
        for hook in list(PROGRESS_HOOKS):
            hook(backtest)
    return backtest


def backtest_claim(backtest_id: int) -> Backtest | None:
    """queued -> running, for exactly one worker; None when it was cancelled or taken meanwhile."""
    changed = Backtest.objects.filter(pk=backtest_id, status=BacktestStatus.QUEUED).update(
        status=BacktestStatus.RUNNING, started_at=timezone.now(), progress=1, progress_message="Started"
    )
    return _updated(backtest_id) if changed else None


def backtest_progress(backtest_id: int, progress: int, message: str) -> bool:
    """Move a running job forward (never back); False once it is no longer running (cancelled)."""
    progress = max(0, min(99, int(progress)))
    changed = Backtest.objects.filter(pk=backtest_id, status=BacktestStatus.RUNNING, progress__lte=progress).update(
        progress=progress, progress_message=message[:200]
    )
    if changed:
        _updated(backtest_id)
        return True
    return Backtest.objects.filter(pk=backtest_id, status=BacktestStatus.RUNNING).exists()


def backtest_plan(backtest_id: int, steps: int, message: str) -> bool:
    """A search's total work (parameter sets), before its chunks start counting."""
    changed = Backtest.objects.filter(pk=backtest_id, status=BacktestStatus.RUNNING).update(
        steps_total=steps, steps_done=0
    )
    return bool(changed) and backtest_progress(backtest_id, 10, message)


def backtest_steps(backtest_id: int, done: int, *, low: int = 10, high: int = 90) -> bool:
    """`done` more steps of a search (from any worker, at once): progress from `low` to `high` %."""
    changed = Backtest.objects.filter(pk=backtest_id, status=BacktestStatus.RUNNING).update(
        steps_done=F("steps_done") + done
    )
    if not changed:
        return False
    done_so_far, total = Backtest.objects.filter(pk=backtest_id).values_list("steps_done", "steps_total").get()
    total = max(1, total)
    finished = min(done_so_far, total)
    return backtest_progress(
        backtest_id, low + (high - low) * finished // total, f"{finished:,} of {total:,} parameter sets tried"
    )


def backtest_finish(backtest_id: int, results: dict[str, Any]) -> bool:
    """running -> done with the results; False (nothing stored) when it was cancelled meanwhile."""
    changed = Backtest.objects.filter(pk=backtest_id, status=BacktestStatus.RUNNING).update(
        status=BacktestStatus.DONE,
        results=results,
        summary={key: (results.get("metrics") or {}).get(key) for key in SUMMARY_KEYS},
        progress=100,
        progress_message="Done",
        finished_at=timezone.now(),
    )
    if changed:
        _updated(backtest_id, "backtest.finished")
    return bool(changed)


def backtest_fail(backtest_id: int, error: str) -> bool:
    """queued or running -> failed with a message the owner can act on."""
    changed = Backtest.objects.filter(pk=backtest_id, status__in=ACTIVE_STATUSES).update(
        status=BacktestStatus.FAILED, error=error[:2000], progress_message="Failed", finished_at=timezone.now()
    )
    if changed:
        _updated(backtest_id, "backtest.finished")
    return bool(changed)


def error_text(error: Exception) -> str:
    """What the owner reads when a run fails on input the store no longer holds (candles deleted...)."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, DomainError):
        return error.message
    return "The backtest stopped on an unexpected error; the operators have the details."
