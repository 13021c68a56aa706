"""Real candles from ../shared/data for the backtest tests (read once per process).

The folder sits beside the checkout locally and in CI. Without it the tests that need it skip locally
and fail when CI is set, so CI cannot pass them by accident.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

from analytics.backtest.candles import Candles, from_csv


def _shared_data() -> Path:
    """CRYPTOVAULT_SHARED_DATA if set; else ../shared/data beside the checkout; else the workplace's copy
    (/work/shared/data), so a clone made anywhere on a developer or CI machine finds it."""
    candidates = [
        Path(os.environ["CRYPTOVAULT_SHARED_DATA"]) if os.environ.get("CRYPTOVAULT_SHARED_DATA") else None,
        Path(__file__).resolve().parents[3] / "shared" / "data",
        Path("/work/shared/data"),
    ]
    return next((path for path in candidates if path is not None and path.is_dir()), candidates[1])


SHARED_DATA = _shared_data()
SYMBOLS = ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK")
TIMEFRAMES = ("1h", "4h", "1d")


def require_shared_data() -> None:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATA} is missing: CI must lay ../shared beside the checkout")
        pytest.skip(f"{SHARED_DATA} is not here (the shared market data sits beside the checkout)")


@cache
def shared_candles(base: str, timeframe: str) -> Candles:
    """Every closed candle of `base`/USDT at `timeframe` in the shared data."""
    require_shared_data()
    return from_csv(SHARED_DATA / f"binance-{timeframe}" / f"{base}USDT_{timeframe}.csv.gz")
