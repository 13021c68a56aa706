"""Strategies that build a position in steps: dollar-cost averaging and a grid.

Both speak the same language as the others (a target exposure per close), in fractions: DCA raises
its target by 1/buys every `every` bars; the grid holds one more step of exposure per grid level the
close is below the top of the grid. Orders fill at the next open like every other order; a grid that
would need intrabar limit fills is approximated by its closes (document the difference to users).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.backtest.candles import Candles
from analytics.backtest.strategies.base import Params, Strategy, integer, number


@dataclass(frozen=True)
class DcaParams(Params):
    every: int = integer(24, minimum=1, maximum=100_000, help="Bars between two buys.")
    buys: int = integer(10, minimum=1, maximum=1_000, help="How many buys; the last one is all in.")


class Dca(Strategy):
    name = "dca"
    label = "Dollar-cost averaging"
    description = (
        "Buys in equal steps: every `every` bars the target exposure rises by 1/buys of equity, from the first "
        "candle's close, until all in; never sells."
    )
    params = DcaParams

    def targets(self, candles: Candles, params: DcaParams) -> np.ndarray:
        target = np.full(len(candles), np.nan)
        steps = np.arange(params.buys)
        bars = steps * params.every
        inside = bars < len(candles)
        target[bars[inside]] = (steps[inside] + 1) / params.buys
        return target

    def warmup(self, params: DcaParams) -> int:
        return 0


@dataclass(frozen=True)
class GridParams(Params):
    levels: int = integer(10, minimum=2, maximum=200, help="Grid levels (exposure steps of 1/levels).")
    spacing: float = number(
        0.01,
        minimum=0.0,
        maximum=0.5,
        exclusive_minimum=True,
        help="Distance between levels, a fraction of the centre.",
    )


class Grid(Strategy):
    name = "grid"
    label = "Grid"
    description = (
        "A grid of `levels` prices `spacing` apart, centred on the first close: each level the close falls "
        "below adds 1/levels of exposure, each level it climbs back sells it."
    )
    params = GridParams

    def targets(self, candles: Candles, params: GridParams) -> np.ndarray:
        close = candles.close
        if not len(close):
            return np.full(0, np.nan)
        centre = close[0]
        step = centre * params.spacing
        top = centre + step * params.levels / 2
        below = np.clip(np.floor((top - close) / step), 0, params.levels)
        return below / params.levels

    def warmup(self, params: GridParams) -> int:
        return 0
