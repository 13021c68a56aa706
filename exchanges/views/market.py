"""The market pages: the dashboard's ticker strip, the list of markets (/market/) and one market's chart
(/market/<symbol>/).

The pages render the prices the feed has now, server-side, so a page without JavaScript (or before the
socket connects) still shows them; static/js/prices.js then moves them in place from /ws/prices. The chart
is drawn in the browser (static/js/chart.js) from the market API, which this page only points at through
data-* attributes: the CSP allows no inline script, so no JSON is embedded either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from exchanges.errors import UnknownSymbol
from exchanges.market import feed, replay
from exchanges.market.candles import served_timeframes
from exchanges.market.symbols import market_symbols, parse_symbol, url_symbol

# How far back each timeframe's chart reaches: a few hundred candles, enough for a 50-period average.
TIMEFRAME_DAYS = {"5m": 3, "15m": 10, "1h": 45, "4h": 180, "1d": 1_000, "1w": 3_000}
PREFERRED_TIMEFRAMES = ("1h", "4h", "1d", "1w", "15m", "5m")
INDICATORS = (
    # (the API's key for it, as analytics.indicators.IndicatorSpec.key spells it; button label; where it draws)
    ("sma:20", "SMA 20", "overlay"),
    ("ema:50", "EMA 50", "overlay"),
    ("bbands:20:2", "Bollinger 20, 2", "overlay"),
    ("rsi:14", "RSI 14", "pane"),
    ("macd:12:26:9", "MACD 12, 26, 9", "pane"),
)


def price_text(value: Decimal | float | None) -> str:
    """About six significant digits, grouped: 87,512.40 · 2.1534 · 0.16843. static/js/prices.js formats the same
    way, so a value the socket moves looks like the one the server rendered."""
    if value is None:
        return "—"
    number = float(value)
    if number == 0:
        return "0.00"
    if not math.isfinite(number):  # beyond a float: said as written rather than a 500
        return f"{value:,}" if isinstance(value, Decimal) else str(value)
    decimals = min(8, max(2, 4 - math.floor(math.log10(abs(number)))))
    return f"{number:,.{decimals}f}"


def change_text(value: Decimal | float | None) -> tuple[str, str]:
    """("+1.23%", "up") for a rise; a fall gets a real minus sign, so it reads as one."""
    if value is None:
        return "—", "flat"
    number = round(float(value), 2)
    if number > 0:
        return f"+{number:.2f}%", "up"
    if number < 0:
        return f"\u2212{abs(number):.2f}%", "down"
    return "0.00%", "flat"


@dataclass(frozen=True)
class TickerRow:
    """One market as the pages show it, formatted the way prices.js formats a tick."""

    ticker: feed.Ticker
    url_symbol: str
    last: str
    change: str
    direction: str
    high: str
    low: str
    quote_volume: str

    @classmethod
    def of(cls, ticker: feed.Ticker) -> TickerRow:
        change, direction = change_text(ticker.change_24h_pct)
        return cls(
            ticker=ticker,
            url_symbol=url_symbol(ticker.symbol),
            last=price_text(ticker.last),
            change=change,
            direction=direction,
            high=price_text(ticker.high_24h),
            low=price_text(ticker.low_24h),
            quote_volume=f"{float(ticker.quote_volume_24h or 0):,.0f}",
        )


def market_strip() -> dict[str, Any]:
    """What the dashboard's ticker strip and the markets list render: a row per followed symbol and the
    labels of the sources they came from (one, unless the feed fell back for some symbols only)."""
    rows = [TickerRow.of(ticker) for ticker in feed.tickers()]
    labels = list(dict.fromkeys(row.ticker.source_label for row in rows))
    sources = list(dict.fromkeys(row.ticker.source for row in rows))
    return {
        "rows": rows,
        "source_labels": labels,
        "source": sources[0] if len(sources) == 1 else "mixed",
        "offline": any(row.ticker.source == "replay" for row in rows),
        "socket": "/ws/prices/",
    }


def _timeframe_buttons(available: dict[str, str | None]) -> tuple[list[dict[str, Any]], str | None, str]:
    finest = next((source for source in available.values() if source), None)
    buttons = [
        {
            "value": timeframe,
            "days": TIMEFRAME_DAYS[timeframe],
            "available": source is not None,
            "why_not": None
            if source
            else (
                f"No {timeframe} candles: the finest stored for this market are {finest}."
                if finest
                else "No candles are stored for this market yet."
            ),
        }
        for timeframe, source in available.items()
    ]
    default = next((tf for tf in PREFERRED_TIMEFRAMES if available.get(tf)), None)
    missing = [button["value"] for button in buttons if not button["available"]]
    note = ""
    if missing and finest:
        note = (
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not available: the finest candles stored for "
            f"this market are {finest}. An operator can import finer ones with manage.py import_candles."
        )
    elif not finest:
        note = "No candles are stored for this market yet. An operator can load them with manage.py import_candles."
    return buttons, default, note


@login_required
@require_GET
def markets(request: HttpRequest) -> HttpResponse:
    return render(request, "market/markets.html", {"market": market_strip()})


@login_required
@require_GET
def chart(request: HttpRequest, symbol: str) -> HttpResponse:
    try:
        canonical = parse_symbol(symbol)
    except UnknownSymbol:
        context = {"asked": symbol, "symbols": [(s, url_symbol(s)) for s in market_symbols()]}
        return render(request, "market/unknown_symbol.html", context, status=404)
    if symbol != url_symbol(canonical):  # btc-usdt, BTCUSDT: one address per market
        return redirect("market:chart", symbol=url_symbol(canonical), permanent=True)
    buttons, default, note = _timeframe_buttons(served_timeframes(canonical))
    path_symbol = url_symbol(canonical)
    try:
        row: TickerRow | None = TickerRow.of(feed.ticker(canonical))
    except feed.MarketUnavailable:
        row = None  # the chart still draws the stored candles; the socket brings a price when there is one
    first, end = replay.window()
    context = {
        "symbol": canonical,
        "path_symbol": path_symbol,
        "row": row,
        "timeframes": buttons,
        "default_timeframe": default or "",
        "timeframe_note": note,
        "indicators": INDICATORS,
        "candles_url": reverse("v1:exchanges:market-candles", kwargs={"symbol": path_symbol}),
        "indicators_url": reverse("v1:exchanges:market-indicators", kwargs={"symbol": path_symbol}),
        "socket": "/ws/prices/",
        # The replay is a pure function of the clock (exchanges.market.replay.replayed_time); chart.js computes
        # the same market instant from these, so a replayed tick lands in the candle it belongs to.
        "replay": {"first": first, "end": end, "speed": settings.MARKET_REPLAY_SPEED},
        "mode": "replay" if row is None or row.ticker.source == "replay" else "live",
        "symbols": [(s, url_symbol(s)) for s in market_symbols()],
    }
    return render(request, "market/chart.html", context)
