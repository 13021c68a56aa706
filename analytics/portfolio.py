"""A user's portfolio analytics: what their equity did, and what their current holdings risk.

Two return series, because they answer different questions:

- **Equity** (what happened): the daily equity snapshots (`trading.EquitySnapshot`), made
  time-weighted so deposits and withdrawals are not mistaken for gains or losses:
  r_t = (V_t - F_t) / V_{t-1} - 1, F_t the net flow into the accounts between the two snapshots
  (ledger `deposit`, `withdrawal` and paper `reset` entries), valued at the day's snapshot price.
- **Holdings** (what the current portfolio risks): today's weights applied to the last `days` daily
  returns of each held asset's market, from the stored candles. The correlation heatmap, VaR, the
  stress scenarios, beta against BTC and the mean-variance weights all read this series.

Reads only (the trading selectors are the gate); numbers leave as floats, money as strings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError

from analytics import allocation, metrics
from exchanges.market.candles import candles_for
from trading.models import EntryKind, LedgerEntry
from trading.models.accounts import QUOTE_CURRENCY
from trading.selectors import equity_history_for, portfolio_for
from trading.services.portfolio import utc_today

MIN_DAYS, MAX_DAYS = 30, 1825
BENCHMARK_ASSET = "BTC"
FLOW_KINDS = (EntryKind.DEPOSIT, EntryKind.WITHDRAWAL, EntryKind.RESET)


@dataclass(frozen=True)
class AnalyticsInput:
    days: int
    risk_free: float
    periods_per_year: int


def parse_input(data: dict[str, Any]) -> AnalyticsInput:
    """`days` (30-1825, default 365) and `risk_free` (annual, 0-1, default ANALYTICS_RISK_FREE_RATE)."""
    errors: dict[str, str] = {}
    days, risk_free = 365, float(settings.ANALYTICS_RISK_FREE_RATE)
    raw_days = data.get("days")
    if raw_days not in (None, ""):
        try:
            days = int(str(raw_days))
        except ValueError:
            errors["days"] = "A whole number of days."
        else:
            if not MIN_DAYS <= days <= MAX_DAYS:
                errors["days"] = f"Between {MIN_DAYS} and {MAX_DAYS} days."
    raw_rate = data.get("risk_free")
    if raw_rate not in (None, ""):
        try:
            risk_free = float(str(raw_rate))
        except ValueError:
            errors["risk_free"] = "An annual rate as a fraction: 0.04 for 4 %."
        else:
            if not (0.0 <= risk_free <= 1.0):  # also refuses nan and inf
                errors["risk_free"] = "An annual rate between 0 and 1 (0.04 for 4 %)."
    if errors:
        raise ValidationError(errors)
    return AnalyticsInput(days=days, risk_free=risk_free, periods_per_year=settings.ANALYTICS_PERIODS_PER_YEAR)


@dataclass(frozen=True)
class EquityPoint:
    date: date
    value: float
    flow: float  # net deposits (+) and withdrawals (-) since the previous point, in USDT
    drawdown: float


@dataclass
class PortfolioAnalytics:
    days: int
    risk_free: float
    periods_per_year: int
    total_value: float
    allocation: list[dict[str, Any]]
    equity: list[EquityPoint]
    equity_metrics: dict[str, Any] | None
    holdings_metrics: dict[str, Any] | None
    correlation: dict[str, dict[str, float | None]]
    stress: list[dict[str, Any]]
    optimisation: dict[str, Any] | None
    kelly: dict[str, dict[str, float | None]]
    candles_source: str
    notes: list[str] = field(default_factory=list)


def _snapshot_prices(holdings: dict[str, Any]) -> dict[str, float]:
    prices: dict[str, float] = {QUOTE_CURRENCY: 1.0}
    for asset, row in holdings.items():
        try:
            quantity, value = float(row.get("quantity") or 0), float(row.get("value") or 0)
        except (TypeError, ValueError, AttributeError):
            continue
        if quantity > 0 and value > 0:
            prices[asset] = value / quantity
    return prices


def equity_series(user: Any, since: date) -> tuple[list[EquityPoint], np.ndarray]:
    """The snapshots from `since` with their flows and drawdowns, and the time-weighted daily returns."""
    snapshots = list(equity_history_for(user).filter(date__gte=since).only("date", "total_value", "holdings"))
    if not snapshots:
        return [], np.empty(0)
    flows_by_day: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    entries = (
        LedgerEntry.objects.visible_to(user)
        .filter(kind__in=FLOW_KINDS, created_at__date__gte=snapshots[0].date)
        .values_list("created_at", "asset", "amount")
    )
    for created_at, asset, amount in entries:
        flows_by_day[created_at.date()][asset] += amount
    points: list[EquityPoint] = []
    returns: list[float] = []
    peak = 0.0
    for previous, current in zip([None, *snapshots[:-1]], snapshots, strict=True):
        value = float(current.total_value)
        flow = 0.0
        if previous is not None:
            prices = _snapshot_prices(current.holdings or {})
            fallback = _snapshot_prices(previous.holdings or {})
            day = previous.date
            while day < current.date:
                for asset, amount in flows_by_day.get(day, {}).items():
                    flow += float(amount) * prices.get(asset, fallback.get(asset, 0.0))
                day += timedelta(days=1)
            before = float(previous.total_value)
            if before > 0:
                returns.append((value - flow) / before - 1.0)
        peak = max(peak, value)
        points.append(EquityPoint(current.date, value, flow, value / peak - 1.0 if peak > 0 else 0.0))
    return points, np.asarray(returns, dtype=np.float64)


def _daily_returns(asset: str, days: int) -> tuple[dict[int, float], str]:
    series = candles_for(symbol=f"{asset}/{QUOTE_CURRENCY}", timeframe="1d", days=days + 1)
    closes = series.closes()
    times = [bar.time for bar in series.bars]
    returns = {times[i]: closes[i] / closes[i - 1] - 1.0 for i in range(1, len(closes)) if closes[i - 1] > 0}
    return returns, series.source_label


def holdings_returns(assets: list[str], days: int) -> tuple[dict[str, np.ndarray], str, list[str]]:
    """Each asset's daily returns over the same days (the days every one of them has a candle)."""
    by_asset: dict[str, dict[int, float]] = {}
    notes: list[str] = []
    source = ""
    for asset in assets:
        try:
            by_asset[asset], source = _daily_returns(asset, days)
        except ValidationError:
            notes.append(f"{asset}: no daily candles stored, left out of the risk figures.")
    if not by_asset:
        return {}, source, notes
    common = sorted(set.intersection(*(set(returns) for returns in by_asset.values())))
    return {asset: np.array([returns[t] for t in common]) for asset, returns in by_asset.items()}, source, notes


def portfolio_analytics(*, user: Any, params: AnalyticsInput) -> PortfolioAnalytics:
    portfolio = portfolio_for(user)
    values = {h.asset: float(h.value) for h in portfolio.holdings if h.value is not None and h.value > 0}
    total = float(sum(values.values()))
    allocation_rows = [
        {"asset": asset, "value": value, "weight": value / total if total else None}
        for asset, value in sorted(values.items(), key=lambda item: -item[1])
    ]
    notes: list[str] = []
    equity, equity_returns = equity_series(user, utc_today() - timedelta(days=params.days))
    equity_metrics = None
    if equity_returns.size >= 2:
        equity_metrics = metrics.metrics_summary(
            equity_returns, periods_per_year=params.periods_per_year, risk_free=params.risk_free
        )
    else:
        notes.append("Equity metrics need at least three daily snapshots; they are taken every night.")

    risky = [asset for asset in values if asset != QUOTE_CURRENCY]
    assets = list(dict.fromkeys([*risky, BENCHMARK_ASSET]))
    returns, source, missing = holdings_returns(assets, params.days)
    notes += missing
    benchmark = returns.get(BENCHMARK_ASSET)
    held = {asset: series for asset, series in returns.items() if asset in values}
    holdings_metrics = None
    correlation: dict[str, dict[str, float | None]] = {}
    stress: list[dict[str, Any]] = []
    optimisation = None
    kelly: dict[str, dict[str, float | None]] = {}
    if held and total > 0 and next(iter(held.values())).size >= 2:
        # Cash (USDT) earns nothing and never moves: it counts in the weights with zero returns.
        length = next(iter(held.values())).size
        weighted = sum((values[asset] / total) * series for asset, series in held.items())
        holdings_metrics = metrics.metrics_summary(
            np.asarray(weighted, dtype=np.float64).reshape(length),
            periods_per_year=params.periods_per_year,
            risk_free=params.risk_free,
            benchmark_returns=benchmark,
        )
        correlation = metrics.correlation_matrix(held)
        stress_returns = dict(held) | ({BENCHMARK_ASSET: benchmark} if benchmark is not None else {})
        for scenario in allocation.SCENARIOS:
            outcome = allocation.stress_test(values, stress_returns, scenario)
            stress.append(
                {
                    "key": scenario.key,
                    "label": scenario.label,
                    "value_before": outcome.value_before,
                    "value_after": outcome.value_after,
                    "change": outcome.change,
                    "change_fraction": outcome.change_fraction,
                    "moves": outcome.moves,
                }
            )
        kelly = allocation.kelly_fractions(held, risk_free=params.risk_free, periods_per_year=params.periods_per_year)
        if len(held) >= 2 and length >= 3:
            optimisation = {
                objective: _allocation_dict(
                    allocation.optimise_weights(
                        held,
                        objective=objective,
                        risk_free=params.risk_free,
                        periods_per_year=params.periods_per_year,
                    )
                )
                for objective in ("min_variance", "max_sharpe")
            }
        else:
            notes.append("Mean-variance weights need at least two priced assets besides USDT.")
    elif total > 0:
        notes.append("Risk figures need holdings other than USDT with stored daily candles.")
    return PortfolioAnalytics(
        days=params.days,
        risk_free=params.risk_free,
        periods_per_year=params.periods_per_year,
        total_value=total,
        allocation=allocation_rows,
        equity=equity,
        equity_metrics=equity_metrics,
        holdings_metrics=holdings_metrics,
        correlation=correlation,
        stress=stress,
        optimisation=optimisation,
        kelly=kelly,
        candles_source=source,
        notes=notes,
    )


def _allocation_dict(result: allocation.Allocation) -> dict[str, Any]:
    return {
        "weights": result.weights,
        "annual_return": result.annual_return,
        "volatility": result.volatility,
        "sharpe": result.sharpe,
    }
