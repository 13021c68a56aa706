"""Shared helpers of the backtest job tests (not collected: no `test_` prefix): the shipped daily BTC
candles imported into the test database, and a backtest made through the service, run eagerly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from analytics.models import Backtest
from analytics.services import backtest_create
from exchanges.market.candles import import_candles_csv
from exchanges.market.data import fixture_path
from tests.factories import TEST_ACTOR

START = datetime(2022, 1, 1, tzinfo=UTC)
END = datetime(2024, 12, 31, tzinfo=UTC)


def import_daily(*bases: str) -> None:
    for base in bases or ("BTC",):
        import_candles_csv(path=fixture_path(f"{base}/USDT", "1d"), symbol=f"{base}/USDT", timeframe="1d")


def create(user, **overrides: Any) -> Backtest:
    """An SMA(10/30) crossover on daily BTC/USDT over 2022-2024 unless told otherwise (not run yet)."""
    values: dict[str, Any] = {
        "strategy": "sma_cross",
        "symbol": "BTC/USDT",
        "timeframe": "1d",
        "start": START,
        "end": END,
        "params": {"fast": 10, "slow": 30},
    }
    return backtest_create(actor=TEST_ACTOR, user=user, **(values | overrides))


def run(capture, user, **overrides: Any) -> Backtest:
    """Created and run (eagerly, once the creation commits), then read back."""
    with capture(execute=True):
        backtest = create(user, **overrides)
    backtest.refresh_from_db()
    return backtest
