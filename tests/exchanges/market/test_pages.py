"""The market pages as a trader's browser receives them: the dashboard's ticker strip, the markets table
and one market's chart page, against the loopback exchange (live prices through real ccxt) and with it
down (the labelled replay). The chart itself is drawn by static/js/chart.js from the API URLs the page
carries in data-* attributes; tests/browser/test_market_journey.py watches it draw.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from exchanges.market.candles import import_candles_csv
from exchanges.market.data import fixture_path
from exchanges.models import Candle
from tests.helpers import text

pytestmark = pytest.mark.django_db

MAJORS = [f"{base}/USDT" for base in ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK")]


def attribute(page: str, name: str) -> str:
    match = re.search(rf'\s{name}="([^"]*)"', page)
    assert match, f"the page carries {name}"
    return match.group(1)


def store_candles(symbol: str, timeframe: str, count: int = 3) -> None:
    start = datetime(2025, 1, 6, tzinfo=UTC)
    step = {"4h": timedelta(hours=4), "1d": timedelta(days=1)}[timeframe]
    Candle.objects.bulk_create(
        Candle(
            exchange="binance",
            symbol=symbol,
            timeframe=timeframe,
            open_time=start + i * step,
            open=Decimal("100"),
            high=Decimal("110"),
            low=Decimal("95"),
            close=Decimal("105"),
            volume=Decimal("12.5"),
        )
        for i in range(count)
    )


# --- the dashboard's ticker strip -----------------------------------------------------------------------
def test_the_dashboard_shows_the_ten_majors_live_from_the_exchange_with_links_to_their_charts(
    owner_client, exchange_emulator
):
    exchange_emulator.set_price("binance", "BTC", "65432.1")
    exchange_emulator.set_price("binance", "DOGE", "0.123456")

    page = text(owner_client.get("/"))

    strip = page[page.index('data-testid="ticker-strip"') :]
    assert re.findall(r'data-ticker="([A-Z]+/USDT)"', strip) == MAJORS
    assert 'data-prices-socket="/ws/prices/"' in page
    btc = strip[strip.index('data-ticker="BTC/USDT"') :]
    assert 'href="/market/BTC-USDT/"' in btc and 'data-field="last" data-testid="ticker-last">65,432.10<' in btc
    assert 'data-testid="ticker-last">0.12346<' in strip[strip.index('data-ticker="DOGE/USDT"') :]
    assert re.search(r'class="ticker-change change-(up|down|flat)" data-field="change"[^>]*>[+\u22120]', btc)
    assert re.search(r'data-testid="prices-source">Binance \(live, via 127.0.0.1:\d+\)<', page)
    assert "Connecting to the price feed…" in page


def test_with_the_exchange_down_the_strip_shows_replayed_prices_and_says_so(owner_client, exchange_emulator):
    exchange_emulator.stop()

    page = text(owner_client.get("/"))

    assert len(re.findall(r'data-testid="ticker"', page)) == 10
    source = re.search(r'class="badge (badge-\w+)"[^>]*data-testid="prices-source">([^<]+)<', page)
    assert source and source.group(1) == "badge-warn"
    assert re.fullmatch(r"Replay of Binance candles from \d{4}-\d\d-\d\d", source.group(2))
    assert "Binance (live" not in page


# --- the markets list -----------------------------------------------------------------------------------
def test_the_markets_page_lists_every_major_with_its_24h_figures_and_source(owner_client, exchange_emulator):
    exchange_emulator.set_price("binance", "ETH", "3210.5")

    answer = owner_client.get("/market/")

    assert answer.status_code == 200
    page = text(answer)
    assert re.findall(r'<tr data-ticker="([A-Z]+/USDT)" data-testid="market-row">', page) == MAJORS
    eth = page[page.index('data-ticker="ETH/USDT"') :]
    assert '<a href="/market/ETH-USDT/">ETH/USDT</a>' in eth and 'data-field="last">3,210.50<' in eth
    assert 'data-field="source">Binance (live, via 127.0.0.1:' in eth
    assert 'aria-current="page">Markets</a>' in page, "the main navigation marks where the trader is"


# --- one market's chart ---------------------------------------------------------------------------------
def test_the_chart_page_points_the_script_at_the_api_and_offers_the_stored_timeframes(owner_client, exchange_emulator):
    store_candles("BTC/USDT", "4h")
    store_candles("BTC/USDT", "1d")

    answer = owner_client.get("/market/BTC-USDT/")

    assert answer.status_code == 200
    page = text(answer)
    assert "<h1>BTC/USDT</h1>" in page
    assert attribute(page, "data-candles-url") == "/api/v1/market/BTC-USDT/candles/"
    assert attribute(page, "data-indicators-url") == "/api/v1/market/BTC-USDT/indicators/"
    assert attribute(page, "data-symbol") == "BTC/USDT" and attribute(page, "data-prices-symbols") == "BTC/USDT"
    assert attribute(page, "data-timeframe") == "4h", "the finest stored timeframe people read most"
    assert attribute(page, "data-mode") == "live"
    for timeframe in ("4h", "1d", "1w"):  # 1w is aggregated from 1d
        button = re.search(rf'<button[^>]*data-timeframe-option="{timeframe}"[^>]*>', page).group(0)
        assert "disabled" not in button
    for timeframe in ("5m", "15m", "1h"):
        button = re.search(rf'<button[^>]*data-timeframe-option="{timeframe}"[^>]*>', page).group(0)
        assert "disabled" in button and "the finest stored for this market are 4h" in button
    assert "5m, 15m, 1h are not available: the finest candles stored for this market are 4h." in page
    for key in ("sma:20", "ema:50", "bbands:20:2", "rsi:14", "macd:12:26:9"):
        assert f'data-indicator="{key}"' in page
    assert "Loading candles…" in page and "Binance spot market data" in page
    assert re.search(r'data-testid="prices-source">Binance \(live, via 127.0.0.1:\d+\)<', page)
    assert 'src="/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js"' in page


def test_the_api_answers_the_chart_page_with_the_browser_session(owner_client, exchange_emulator):
    """What chart.js does first: GET the candles URL the page names, with the session cookie (no CSRF for a GET)."""
    import_candles_csv(path=fixture_path("BTC/USDT", "4h"), symbol="BTC/USDT", timeframe="4h")
    page = text(owner_client.get("/market/BTC-USDT/"))
    days = re.search(r'data-timeframe-option="4h" data-days="(\d+)"', page).group(1)

    candles = owner_client.get(attribute(page, "data-candles-url"), {"timeframe": "4h", "days": days})
    indicators = owner_client.get(
        attribute(page, "data-indicators-url"), {"timeframe": "4h", "days": days, "names": "rsi:14,macd:12:26:9"}
    )

    assert candles.status_code == 200, candles.content
    body = candles.json()
    assert body["source_label"] == "Binance spot market data, 4h candles"
    assert len(body["candles"]) == int(days) * 6
    assert set(body["candles"][-1]) == {"time", "open", "high", "low", "close", "volume"}
    assert indicators.status_code == 200
    assert indicators.json()["time"] == [bar["time"] for bar in body["candles"]]
    assert set(indicators.json()["indicators"]) == {"rsi:14", "macd:12:26:9"}, "the page's keys are the API's"


def test_a_market_without_stored_candles_says_so_instead_of_offering_dead_buttons(owner_client, exchange_emulator):
    page = text(owner_client.get("/market/ETH-USDT/"))

    assert attribute(page, "data-timeframe") == ""
    assert len(re.findall(r'data-timeframe-option="[^"]+"[^>]*disabled', page)) == 6
    assert "No candles are stored for ETH/USDT yet." in page
    assert "An operator can load them with manage.py import_candles." in page


def test_with_the_exchange_down_the_chart_page_follows_the_replay_and_says_so(owner_client, exchange_emulator):
    store_candles("SOL/USDT", "4h")
    exchange_emulator.stop()

    page = text(owner_client.get("/market/SOL-USDT/"))

    assert attribute(page, "data-mode") == "replay"
    first, end, speed = (int(attribute(page, f"data-replay-{name}")) for name in ("first", "end", "speed"))
    assert first < end and speed == 60
    assert re.search(r'data-testid="prices-source">Replay of Binance candles from \d{4}-\d\d-\d\d<', page)


def test_other_spellings_of_a_market_lead_to_its_one_address(owner_client, exchange_emulator):
    for spelling in ("btc-usdt", "BTCUSDT", "btc_usdt"):
        answer = owner_client.get(f"/market/{spelling}/")
        assert (answer.status_code, answer["Location"]) == (301, "/market/BTC-USDT/")


def test_an_unknown_market_is_a_404_page_that_lists_the_ones_we_follow(owner_client):
    answer = owner_client.get("/market/PEPE-USDT/")

    assert answer.status_code == 404
    page = text(answer)
    assert "We do not follow “PEPE-USDT”" in page
    assert '<a href="/market/LINK-USDT/">LINK/USDT</a>' in page


def test_market_pages_are_for_signed_in_traders(db):
    anonymous = Client()
    for path in ("/market/", "/market/BTC-USDT/"):
        answer = anonymous.get(path)
        assert (answer.status_code, answer["Location"]) == (302, f"/accounts/login/?next={path}")


def test_market_pages_hold_no_inline_script_or_style_so_the_csp_can_hold(owner_client, exchange_emulator):
    store_candles("BTC/USDT", "4h")
    for path in ("/", "/market/", "/market/BTC-USDT/"):
        page = owner_client.get(path).content.decode()
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
        assert scripts and all("src=" in attributes and body.strip() == "" for attributes, body in scripts)
        assert not re.search(r"\son[a-z]+\s*=", page), "no inline event handlers"
        assert not re.search(r"<style\b|\sstyle\s*=", page), "no inline styles"
