"""The portfolio's two pictures, drawn here as SVG coordinates: the allocation ring and the equity line.

Server-side SVG needs no chart script and nothing the CSP has to allow (an inline `style` would need
'unsafe-inline'; SVG presentation attributes do not), so the figures are right before any script runs
and in a page that htmx swaps in. Each picture carries a sentence that says what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from trading.portfolio import Holding, Portfolio

SLICES = 6  # the largest holdings get a colour each; the rest are one "Other" slice
MIN_SLICE = Decimal("0.5")  # a share smaller than this (in %) would be an invisible sliver: it joins Other


@dataclass(frozen=True)
class Slice:
    label: str
    pct: Decimal
    value: Decimal
    colour: int  # the palette index: the `alloc-<n>` class in app.css
    dash: str  # stroke-dasharray on a circle whose circumference is 100
    offset: str  # stroke-dashoffset: where the slice starts, clockwise from the top


@dataclass(frozen=True)
class Allocation:
    slices: tuple[Slice, ...]
    label: str


def allocation(portfolio: Portfolio) -> Allocation | None:
    """The valued holdings' shares of the total, largest first; None when nothing is valued."""
    valued = [h for h in portfolio.holdings if h.value and h.allocation_pct is not None and h.value > 0]
    if not valued or not portfolio.total_value:
        return None
    named: list[Holding] = []
    other_pct, other_value = Decimal(0), Decimal(0)
    for holding in valued:
        pct = holding.allocation_pct or Decimal(0)
        if len(named) < SLICES and pct >= MIN_SLICE:
            named.append(holding)
        else:
            other_pct += pct
            other_value += holding.value or Decimal(0)
    parts = [(holding.asset, holding.allocation_pct or Decimal(0), holding.value or Decimal(0)) for holding in named]
    if other_pct:
        parts.append(("Other", other_pct, other_value))
    slices, start = [], Decimal(0)
    for index, (label, pct, value) in enumerate(parts):
        slices.append(
            Slice(
                label=label,
                pct=pct,
                value=value,
                colour=index,
                dash=f"{pct:.2f} {Decimal(100) - pct:.2f}",
                offset=f"{Decimal(25) - start:.2f}",
            )
        )
        start += pct
    words = ", ".join(f"{label} {pct:.2f}%" for label, pct, _ in parts)
    return Allocation(slices=tuple(slices), label=f"Allocation by value: {words}.")


WIDTH, HEIGHT, PAD = 640, 180, 8


@dataclass(frozen=True)
class EquityLine:
    points: str  # the polyline, "x,y x,y ..."
    dots: tuple[tuple[float, float], ...]
    width: int
    height: int
    first: date
    last: date
    low: Decimal
    high: Decimal
    label: str


def equity_line(history: Sequence[tuple[date, Decimal]]) -> EquityLine | None:
    """The daily equity snapshots (oldest first) as a line; None before there are two days to join."""
    if len(history) < 2:
        return None
    values = [value for _, value in history]
    low, high = min(values), max(values)
    span = high - low
    step = (WIDTH - 2 * PAD) / (len(history) - 1)
    coordinates = []
    for index, (_, value) in enumerate(history):
        level = float((value - low) / span) if span else 0.5  # a flat history: a line at mid-height
        coordinates.append((round(PAD + index * step, 1), round(HEIGHT - PAD - level * (HEIGHT - 2 * PAD), 1)))
    first_day, last_day = history[0][0], history[-1][0]
    label = (
        f"Total value at the end of each day, {first_day:%d %b %Y} to {last_day:%d %b %Y}: "
        f"from {values[0]:,.2f} to {values[-1]:,.2f} USDT (lowest {low:,.2f}, highest {high:,.2f})."
    )
    return EquityLine(
        points=" ".join(f"{x},{y}" for x, y in coordinates),
        dots=tuple(coordinates[-1:]),
        width=WIDTH,
        height=HEIGHT,
        first=first_day,
        last=last_day,
        low=low,
        high=high,
        label=label,
    )
