"""Candle timeframes and their length in seconds: what exchanges serve and may be stored.

Django-free, so the backtest engine and the benchmarks read the same table without settings.
"""

from __future__ import annotations

SECONDS = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1_800,
    "1h": 3_600,
    "2h": 7_200,
    "4h": 14_400,
    "6h": 21_600,
    "8h": 28_800,
    "12h": 43_200,
    "1d": 86_400,
    "1w": 604_800,
}
