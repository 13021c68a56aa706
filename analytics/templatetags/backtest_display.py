"""How the backtest pages write a figure of a given kind: pct (a fraction as %), ratio, money, int;
an en dash where none exists. And times in UTC milliseconds (the engine's) as dates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import template

register = template.Library()
NONE = "\u2013"


@register.filter
def figure(value: Any, kind: str = "ratio") -> str:
    if value is None or value == "":
        return NONE
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if kind == "pct":
        return f"{number * 100:,.2f} %"
    if kind == "money":
        return f"{number:,.2f}"
    if kind == "int":
        return f"{number:,.0f}"
    return f"{number:,.2f}"


@register.filter
def from_ms(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


@register.filter
def params_text(params: Any) -> str:
    if not isinstance(params, dict) or not params:
        return NONE
    return ", ".join(
        f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}" for name, value in params.items()
    )


@register.filter
def strategy_label(name: str) -> str:
    from analytics.backtest.strategies import STRATEGIES

    strategy = STRATEGIES.get(name)
    return strategy.label if strategy else name


@register.filter
def lookup_key(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
