"""Trend followers: moving-average crossovers, MACD and the Bollinger breakout.

All are long-only and all in when their sign says so: target 1 on the bar where the fast line crosses
above the slow one, 0 where it crosses below (`crossings`: a strict change of sign, a touch is no
cross). The averages are computed on the candles given (the range alone, no warm-up from before it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from analytics import indicators
from analytics.backtest.candles import Candles
from analytics.backtest.strategies.base import FastSlow, Params, Strategy, crossings, levels, number, period
from analytics.indicators import MAX_K

# Below this relative gap, fast and slow are recomputed exactly (see sma_difference).
TIE_TOLERANCE = 1e-8


@njit(cache=True, nogil=True)
def rolling_mean(values, period):
    """The mean of each window of `period` values (NaN before the first full window), as a running sum
    re-summed from scratch every `period` candles: linear (about 3 additions a candle), and the rounding
    error never outlives a window, so it stays near period x 1e-16 of the window's own values however long
    the series. (A prefix sum, as analytics.indicators.sma uses, carries the error of everything before:
    on millions of candles, or a cheap coin after an expensive one, it reaches 1e-6 of the average and
    decides crosses. Its 50,000-candle charts never get there.)"""
    n = len(values)
    out = np.full(n, np.nan)
    if n < period:
        return out
    total = 0.0
    for i in range(period):
        total += values[i]
    out[period - 1] = total / period
    for i in range(period, n):
        if i % period == 0:
            total = 0.0
            for j in range(i - period + 1, i + 1):
                total += values[j]
        else:
            total += values[i] - values[i - period]
        out[i] = total / period
    return out


@njit(cache=True, nogil=True)
def _window_sum(values, period, i):
    total = 0.0
    for j in range(i - period + 1, i + 1):
        total += values[j]
    return total


@njit(cache=True, nogil=True)
def _sma_difference(close, fast, slow, tolerance):
    """rolling_mean(fast) - rolling_mean(slow) in one pass (each running sum re-summed from scratch every
    `period` candles), and the candles where the two are within `tolerance` of each other (relative): no
    temporaries, so 10M candles cost one output array."""
    n = len(close)
    difference = np.full(n, np.nan)
    near = np.empty(n, np.int64)
    count = 0
    if n < slow:
        return difference, near[:0]
    fast_total = _window_sum(close, fast, slow - 1)
    slow_total = _window_sum(close, slow, slow - 1)
    fast_left = fast
    slow_left = slow
    for i in range(slow - 1, n):
        if i >= slow:
            fast_left -= 1
            if fast_left == 0:
                fast_total = _window_sum(close, fast, i)
                fast_left = fast
            else:
                fast_total += close[i] - close[i - fast]
            slow_left -= 1
            if slow_left == 0:
                slow_total = _window_sum(close, slow, i)
                slow_left = slow
            else:
                slow_total += close[i] - close[i - slow]
        fast_avg = fast_total / fast
        slow_avg = slow_total / slow
        gap = fast_avg - slow_avg
        difference[i] = gap
        if abs(gap) <= tolerance * (abs(fast_avg) + abs(slow_avg)):
            near[count] = i
            count += 1
    return difference, near[:count]


def sma_difference(close: np.ndarray, fast: int, slow: int) -> np.ndarray:
    """SMA(fast) - SMA(slow) (NaN until both exist), with ties settled exactly.

    Away from a tie any accurate average gives the sign (running sums as in `rolling_mean`). At a tie it
    is the rounding that would decide: real prices are quantised (0.001 steps), so exact ties are common
    with short periods, and a flat stretch makes every average equal. So where |fast - slow| <=
    TIE_TOLERANCE x (|fast| + |slow|), both are recomputed as the correctly rounded window sum
    (math.fsum) over the period: a true tie is exactly 0 (no cross) and a near tie gets its true sign.
    This is also exactly how backtrader computes its SMA, which is why the comparison in the tests holds
    trade for trade.
    """
    close = np.ascontiguousarray(close, dtype=np.float64)
    difference, near = _sma_difference(close, fast, slow, TIE_TOLERANCE)
    for i in near.tolist():
        exact_fast = math.fsum(close[i - fast + 1 : i + 1].tolist()) / fast
        exact_slow = math.fsum(close[i - slow + 1 : i + 1].tolist()) / slow
        difference[i] = exact_fast - exact_slow
    return difference


class SmaCross(Strategy):
    name = "sma_cross"
    label = "SMA crossover"
    description = "Long when the fast simple moving average crosses above the slow one; flat when it crosses below."
    params = FastSlow

    def targets(self, candles: Candles, params: FastSlow) -> np.ndarray:
        return crossings(sma_difference(candles.close, params.fast, params.slow))


class EmaCross(Strategy):
    name = "ema_cross"
    label = "EMA crossover"
    description = "Long when the fast exponential moving average crosses above the slow one; flat below."
    params = FastSlow

    def targets(self, candles: Candles, params: FastSlow) -> np.ndarray:
        close = candles.close
        return crossings(indicators.ema(close, params.fast) - indicators.ema(close, params.slow))


@dataclass(frozen=True)
class MacdParams(FastSlow):
    fast: int = period(12, help="Bars in the fast EMA.")
    slow: int = period(26, help="Bars in the slow EMA.")
    signal: int = period(9, minimum=1, help="Bars in the EMA of the MACD line (its signal line).")


class Macd(Strategy):
    name = "macd"
    label = "MACD"
    description = "Long when the MACD line crosses above its signal line; flat when it crosses below."
    params = MacdParams

    def targets(self, candles: Candles, params: MacdParams) -> np.ndarray:
        line, signal, _histogram = indicators.macd(candles.close, params.fast, params.slow, params.signal)
        return crossings(line - signal)

    def warmup(self, params: MacdParams) -> int:
        return params.slow + params.signal


@dataclass(frozen=True)
class BollingerParams(Params):
    period: int = period(20, help="Bars in the middle band (an SMA) and the deviation.")
    k: float = number(2.0, minimum=0.0, maximum=MAX_K, exclusive_minimum=True, help="Band width in deviations.")


class BollingerBreakout(Strategy):
    name = "bollinger_breakout"
    label = "Bollinger breakout"
    description = "Long when a close breaks above the upper band; flat when a close falls below the middle band."
    params = BollingerParams

    def targets(self, candles: Candles, params: BollingerParams) -> np.ndarray:
        upper, middle, _lower = indicators.bbands(candles.close, params.period, params.k)
        close = candles.close
        with np.errstate(invalid="ignore"):
            return levels(close > upper, close < middle)
