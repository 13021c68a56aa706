"""How a connection looks on its card: the status badge's colour, and the latency sparkline.

The sparkline is drawn here as an inline SVG's coordinates (no chart script, nothing the CSP has
to allow): passing checks make the line, failed checks are marked on the baseline instead of
stretching the scale with their timeouts. Its label says in words what the line shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from exchanges.auditor import KeyWarning, key_warnings
from exchanges.catalogue import ExchangeSpec, exchange_spec
from exchanges.models import ConnectionCheck, ExchangeConnection, Feature, Status

STATUS_BADGES = {
    Status.CONNECTED: "badge-good",
    Status.DEGRADED: "badge-warn",
    Status.ERROR: "badge-bad",
    Status.REVOKED: "badge-muted",
}
WARNING_CLASSES = {"danger": "callout-danger", "warning": "callout-warning", "info": "callout-info"}

WIDTH, HEIGHT, PAD = 160, 36, 4


@dataclass(frozen=True)
class Sparkline:
    lines: list[str]  # polylines of consecutive passing checks, "x,y x,y …"
    dots: list[tuple[float, float]]  # single passing checks with no neighbour to join
    failures: list[tuple[float, float]]
    label: str
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - PAD


def sparkline(checks: Sequence[ConnectionCheck]) -> Sparkline | None:
    if not checks:
        return None
    latencies = [check.latency_ms for check in checks if check.ok and check.latency_ms is not None]
    low, high = (min(latencies), max(latencies)) if latencies else (0, 0)
    span = max(high - low, 1)
    step = (WIDTH - 2 * PAD) / max(len(checks) - 1, 1)
    segments: list[list[tuple[float, float]]] = [[]]
    failures = []
    for index, check in enumerate(checks):
        x = round(PAD + index * step, 1)
        if check.ok and check.latency_ms is not None:
            level = (check.latency_ms - low) / span if high > low else 0.5  # one value: mid-height
            y = round(HEIGHT - PAD - level * (HEIGHT - 2 * PAD), 1)
            segments[-1].append((x, y))
        else:
            failures.append((x, float(HEIGHT - PAD)))
            segments.append([])
    lines = [segment for segment in segments if len(segment) > 1]
    dots = [segment[0] for segment in segments if len(segment) == 1]
    polylines = [" ".join(f"{x},{y}" for x, y in segment) for segment in lines]
    return Sparkline(lines=polylines, dots=dots, failures=failures, label=_label(checks, latencies, low, high))


def _label(checks: Sequence[ConnectionCheck], latencies: list[int], low: int, high: int) -> str:
    count = len(checks)
    text = f"Latency of the last {count} check{'s' if count != 1 else ''}"
    if latencies:
        latest = latencies[-1]
        text += f": {low} to {high} ms, latest passing {latest} ms" if low != high else f": {low} ms"
    failed = count - len(latencies)
    if failed:
        text += f"; {failed} failed (marked red on the baseline)"
    return text + "."


@dataclass
class ConnectionCard:
    connection: ExchangeConnection
    spec: ExchangeSpec
    badge: str
    features: list[str]
    warnings: list[KeyWarning] = field(default_factory=list)
    chart: Sparkline | None = None

    @property
    def key_age_days(self) -> int:
        return self.connection.key_age.days


def connection_card(connection: ExchangeConnection, checks: Sequence[ConnectionCheck] = ()) -> ConnectionCard:
    labels = dict(Feature.choices)
    return ConnectionCard(
        connection=connection,
        spec=exchange_spec(connection.exchange),
        badge=STATUS_BADGES.get(connection.status, ""),
        features=[labels.get(feature, feature) for feature in connection.features],
        warnings=key_warnings(connection),
        chart=sparkline(checks),
    )
