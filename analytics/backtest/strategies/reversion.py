"""Mean reversion: buy what is oversold, sell what is overbought (RSI with Wilder's smoothing)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics import indicators
from analytics.backtest.candles import Candles
from analytics.backtest.strategies.base import Params, Strategy, levels, number, period


@dataclass(frozen=True)
class RsiParams(Params):
    period: int = period(14, help="Bars in the RSI.")
    lower: float = number(30.0, minimum=1.0, maximum=99.0, help="Buy when the RSI closes below this.")
    upper: float = number(70.0, minimum=1.0, maximum=99.0, help="Sell when the RSI closes above this.")

    def check(self) -> dict[str, str]:
        if self.lower >= self.upper:
            return {"lower": f"The lower threshold ({self.lower:g}) must be below the upper one ({self.upper:g})."}
        return {}


class RsiReversion(Strategy):
    name = "rsi_reversion"
    label = "RSI mean reversion"
    description = "Long when the RSI closes below the lower threshold; flat when it closes above the upper one."
    params = RsiParams

    def targets(self, candles: Candles, params: RsiParams) -> np.ndarray:
        value = indicators.rsi(candles.close, params.period)
        with np.errstate(invalid="ignore"):
            return levels(value < params.lower, value > params.upper)
