"""The portfolio analytics page (/analytics/): equity and drawdown, allocation, risk, correlations,
stress scenarios and suggested weights, from `analytics.portfolio.portfolio_analytics` (the API's
answer too). Bad query parameters are shown on the page with the figures for the defaults."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics.charts import drawdown_line, heat_class
from analytics.portfolio import MAX_DAYS, MIN_DAYS, parse_input, portfolio_analytics
from exchanges.market.feed import MarketUnavailable
from trading.views.charts import equity_line

METRIC_ROWS = (
    ("total_return", "Total return", "pct"),
    ("annual_return", "Annual return", "pct"),
    ("volatility", "Volatility (annual)", "pct"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("calmar", "Calmar", "ratio"),
    ("omega", "Omega", "ratio"),
    ("max_drawdown", "Maximum drawdown", "pct"),
    ("var_95", "VaR 95 % (historical, 1 day)", "pct"),
    ("cvar_95", "CVaR 95 % (historical)", "pct"),
    ("var_99", "VaR 99 % (historical)", "pct"),
    ("cvar_99", "CVaR 99 % (historical)", "pct"),
    ("var_95_parametric", "VaR 95 % (parametric)", "pct"),
    ("var_95_monte_carlo", "VaR 95 % (Monte Carlo)", "pct"),
    ("beta", "Beta against BTC", "ratio"),
)


def _rows(summary: dict | None) -> list[dict]:
    if not summary:
        return []
    return [
        {"key": key, "label": label, "kind": kind, "value": summary.get(key)}
        for key, label, kind in METRIC_ROWS
        if key in summary
    ]


@login_required
@require_GET
def portfolio_analytics_page(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    try:
        params = parse_input(request.GET.dict())
    except ValidationError as exc:
        errors = exc.message_dict
        params = parse_input({})
    try:
        result = portfolio_analytics(user=request.user, params=params)
    except MarketUnavailable:
        return render(request, "analytics/portfolio.html", {"unavailable": True, "errors": errors}, status=503)
    names = list(result.correlation)
    heatmap = [
        {
            "asset": row,
            "cells": [
                {"value": result.correlation[row][col], "css": heat_class(result.correlation[row][col])}
                for col in names
            ],
        }
        for row in names
    ]
    context = {
        "result": result,
        "errors": errors,
        "min_days": MIN_DAYS,
        "max_days": MAX_DAYS,
        "equity_chart": equity_line([(point.date, point.value) for point in result.equity]),
        "drawdown_chart": drawdown_line([(point.date, point.drawdown) for point in result.equity]),
        "equity_rows": _rows(result.equity_metrics),
        "holdings_rows": _rows(result.holdings_metrics),
        "heat_names": names,
        "heatmap": heatmap,
    }
    return render(request, "analytics/portfolio.html", context)
