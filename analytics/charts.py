"""The analytics page's pictures as server-side SVG and CSS classes (no inline style: the CSP forbids it).

The equity line is trading's (`trading.views.charts.equity_line`); the drawdown is the same kind of
line on a scale from the deepest fall to 0; the heatmap colours each correlation by one of eleven
`heat-<n>` classes from -1 (n = 0, red) through 0 (n = 5, neutral) to +1 (n = 10, blue).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT, PAD = 600, 160, 6


@dataclass(frozen=True)
class DrawdownLine:
    points: str
    width: int
    height: int
    label: str


def drawdown_line(points: Sequence[tuple[date, float]]) -> DrawdownLine | None:
    """Drawdowns (0 or negative fractions), oldest first, as an SVG polyline; None before two points."""
    if len(points) < 2:
        return None
    deepest = min(value for _, value in points)
    scale = -deepest if deepest < 0 else 1.0
    step = (WIDTH - 2 * PAD) / (len(points) - 1)
    coordinates = [
        (round(PAD + i * step, 1), round(PAD + (-value / scale) * (HEIGHT - 2 * PAD), 1))
        for i, (_, value) in enumerate(points)
    ]
    label = (
        f"Drawdown from the running high, {points[0][0]:%d %b %Y} to {points[-1][0]:%d %b %Y}: "
        f"deepest {deepest * 100:.1f} %."
    )
    return DrawdownLine(" ".join(f"{x},{y}" for x, y in coordinates), WIDTH, HEIGHT, label)


def heat_class(correlation: float | None) -> str:
    if correlation is None:
        return "heat-none"
    return f"heat-{round((max(-1.0, min(1.0, correlation)) + 1.0) * 5)}"
