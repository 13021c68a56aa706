"""Reads of backtests for the pages, the API and the command: every one starts from the read gate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from analytics.errors import BacktestCompareInvalid
from analytics.models import Backtest, BacktestStatus

COMPARE_MIN, COMPARE_MAX = 2, 4


def backtests_for(*, user: Any) -> QuerySet[Backtest]:
    """The user's backtests, newest first, without their results (lists show `summary`)."""
    return Backtest.objects.visible_to(user).without_results().order_by("-created_at", "-id")


def backtest_for(*, user: Any, pk: Any) -> Backtest:
    """The user's backtest `pk` with its results; `Backtest.DoesNotExist` otherwise."""
    return Backtest.objects.visible_to(user).get(pk=pk)


def parse_ids(raw: str | Sequence[Any] | None) -> list[int]:
    """`1,2,3` (or a list) -> distinct ids in order; BacktestCompareInvalid when not 2 to 4 numbers."""
    parts = raw.split(",") if isinstance(raw, str) else list(raw or [])
    ids: list[int] = []
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        if not text.isdigit() or len(text) > 18:
            raise BacktestCompareInvalid(f"{text[:20]!r} is not a backtest id.")
        if int(text) not in ids:
            ids.append(int(text))
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        raise BacktestCompareInvalid()
    return ids


def backtests_to_compare(*, user: Any, ids: Sequence[int]) -> list[Backtest]:
    """The user's finished backtests `ids`, in that order; another user's id is simply not found."""
    found = {backtest.pk: backtest for backtest in Backtest.objects.visible_to(user).filter(pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise Backtest.DoesNotExist(f"No backtest {', '.join(missing)} of yours.")
    unfinished = [str(pk) for pk in ids if found[pk].status != BacktestStatus.DONE]
    if unfinished:
        raise BacktestCompareInvalid(f"Backtest {', '.join(unfinished)} has no results yet: compare finished ones.")
    return [found[pk] for pk in ids]


def compared(backtest: Backtest) -> dict[str, Any]:
    """One backtest as the comparison shows it: its label, metrics and equity curve."""
    from analytics.backtest.strategies import STRATEGIES

    strategy = STRATEGIES.get(backtest.strategy)
    results = backtest.results or {}
    equity = results.get("equity") or (results.get("walk_forward") or {}).get("equity") or []
    params = backtest.results.get("best_params") or backtest.params
    label = " ".join(
        part
        for part in (
            f"#{backtest.pk}",
            strategy.label if strategy else backtest.strategy,
            f"({', '.join(f'{name} {value}' for name, value in params.items())})" if params else "",
            f"{backtest.symbol} {backtest.timeframe}",
        )
        if part
    )
    return {
        "id": backtest.pk,
        "label": label,
        "kind": backtest.kind,
        "strategy": backtest.strategy,
        "params": params,
        "symbol": backtest.symbol,
        "timeframe": backtest.timeframe,
        "start": backtest.start,
        "end": backtest.end,
        "metrics": results.get("metrics") or {},
        "equity": equity,
    }
