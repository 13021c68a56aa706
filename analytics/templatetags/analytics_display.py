"""How the analytics page writes its figures: fractions as percentages, ratios to two places, a dash for none."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()
NONE = "\u2013"  # an en dash where a figure does not exist


@register.filter
def percent(value: Any) -> str:
    if value is None or value == "":
        return NONE
    return f"{float(value) * 100:.2f} %"


@register.filter
def lookup(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.simple_tag
def metric(summary: dict | None, key: str, kind: str) -> str:
    value = (summary or {}).get(key)
    if value is None:
        return NONE
    return percent(value) if kind == "pct" else f"{float(value):.2f}"
