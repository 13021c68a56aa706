"""The strategy registry: name -> strategy. See `base.py` for how to add one."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from analytics.backtest.strategies.accumulation import Dca, Grid
from analytics.backtest.strategies.base import FastSlow, Params, Strategy, crossings, levels
from analytics.backtest.strategies.reversion import RsiReversion
from analytics.backtest.strategies.trend import BollingerBreakout, EmaCross, Macd, SmaCross

STRATEGIES: dict[str, Strategy] = {
    strategy.name: strategy
    for strategy in (SmaCross(), EmaCross(), RsiReversion(), BollingerBreakout(), Macd(), Dca(), Grid())
}


def get_strategy(name: str) -> Strategy:
    """The registered strategy called `name`, or a ValidationError on `strategy` listing the known ones."""
    try:
        return STRATEGIES[name]
    except (KeyError, TypeError):
        raise ValidationError(
            {"strategy": f"Unknown strategy {str(name)[:40]!r}: use one of {', '.join(STRATEGIES)}."}
        ) from None


__all__ = ["STRATEGIES", "FastSlow", "Params", "Strategy", "crossings", "get_strategy", "levels"]
