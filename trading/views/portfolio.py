"""The portfolio page (/portfolio/) and the dashboard's portfolio card.

Both read `trading.selectors.portfolio_for` (holdings across accounts at the current prices, average
cost) and draw it server-side (trading/views/charts.py). The figures are one region of the page that
static/js/trade.js asks htmx to fetch again when an order event arrives on /ws/events (an order filled,
so the holdings changed) and now and then while ticks arrive (the prices changed): the page asks the
server rather than recomputing money in the browser.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exchanges.market.feed import MarketUnavailable
from trading.portfolio import Portfolio
from trading.selectors import accounts_for, equity_history_for, portfolio_for
from trading.views.charts import allocation, equity_line

EQUITY_DAYS = 365


def portfolio_summary(user: Any) -> dict[str, Any]:
    """What the dashboard's card and the portfolio page share: the portfolio and its allocation ring.

    When no price can be had at all (the exchange and the replay are both out), the page still says
    what is held, without values: `portfolio` is None and `prices_missing` True.
    """
    try:
        portfolio: Portfolio | None = portfolio_for(user)
    except MarketUnavailable:
        portfolio = None
    return {
        "portfolio": portfolio,
        "allocation": allocation(portfolio) if portfolio else None,
        "prices_missing": portfolio is None,
        "has_accounts": accounts_for(user).exists(),
    }


@login_required
@require_GET
def portfolio_page(request: HttpRequest) -> HttpResponse:
    context = portfolio_summary(request.user)
    snapshots = list(equity_history_for(request.user).values_list("date", "total_value"))[-EQUITY_DAYS:]
    context["equity"] = equity_line(snapshots)
    context["snapshot_count"] = len(snapshots)
    return render(request, "trading/portfolio.html", context)
