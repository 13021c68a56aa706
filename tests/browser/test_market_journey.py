"""Watching the market in a real browser: the dashboard's ticker strip moving without a reload when the
publisher pushes a tick, and a chart page that draws real Binance candles (the shipped offline fixture,
imported by the importer), switches timeframe, adds indicator panes, moves its last candle with the ticks
and explains a failed load. No console error and no CSP violation along the way.

Prices come live from the loopback exchange emulator through real ccxt (tests/conftest.py points every
process at it); ticks are the real publisher's, run from a thread of the test (Playwright's event loop owns
this one) and delivered through the channel layer to the live server's /ws/prices.
"""

from __future__ import annotations

import re
import threading

import pytest
from django import db
from playwright.sync_api import expect

from exchanges.market import replay
from exchanges.market.candles import bucket_start, import_candles_csv
from exchanges.market.data import fixture_path
from exchanges.market.feed import Ticker
from exchanges.market.publisher import publish_tick
from exchanges.models import Candle
from tests.browser.conftest import ARTIFACTS
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def _publish_a_tick() -> list[Ticker]:
    """One tick of the real publisher, from a thread of its own: its broadcast goes through async_to_sync,
    which refuses to run beside Playwright's event loop. Returns the tick's tickers."""
    errors: list[BaseException] = []
    published: list[Ticker] = []

    def tick() -> None:
        try:
            published.extend(publish_tick())
        except BaseException as error:  # handed to the test thread, which fails on it
            errors.append(error)
        finally:
            db.connection.close()

    worker = threading.Thread(target=tick)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive() and not errors, errors
    return published


def _import(timeframe: str) -> int:
    return import_candles_csv(path=fixture_path("BTC/USDT", timeframe), symbol="BTC/USDT", timeframe=timeframe)


@pytest.fixture
def btc_candles(transactional_db) -> None:
    """BTC/USDT as the offline fixture ships it: daily candles since 2017 and two years of 4h candles."""
    assert _import("4h") > 4000 and _import("1d") > 3000


def _sign_in(page, user, next_url: str = "/") -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(next_url)


def test_the_dashboard_ticker_moves_in_place_when_a_tick_is_published(page, owner, exchange_emulator):
    exchange_emulator.set_price("binance", "BTC", "65000")
    exchange_emulator.set_price("binance", "ETH", "3000")
    _sign_in(page, owner)

    strip = page.get_by_test_id("ticker-strip")
    expect(strip.get_by_test_id("ticker")).to_have_count(10)
    btc = strip.locator('[data-ticker="BTC/USDT"]')
    eth = strip.locator('[data-ticker="ETH/USDT"]')
    expect(btc.get_by_test_id("ticker-last")).to_have_text("65,000.00")
    expect(strip.get_by_test_id("prices-source")).to_contain_text("Binance (live, via 127.0.0.1:")
    expect(strip.get_by_role("status").filter(has_text="Connected to the price feed")).to_be_visible()
    page.evaluate("document.body.dataset.sameDocument = 'yes'")  # gone if the page reloads

    exchange_emulator.set_price("binance", "BTC", "66123.45")
    exchange_emulator.set_price("binance", "ETH", "2950.5")
    _publish_a_tick()

    expect(btc.get_by_test_id("ticker-last")).to_have_text("66,123.45")
    expect(btc.get_by_test_id("ticker-last")).to_have_class(re.compile(r"\bflash-up\b"))  # highlighted a moment
    expect(eth.get_by_test_id("ticker-last")).to_have_text("2,950.50")
    expect(eth.get_by_test_id("ticker-last")).to_have_class(re.compile(r"\bflash-down\b"))
    page.screenshot(path=str(ARTIFACTS / "market-dashboard.png"), full_page=True)
    assert page.evaluate("document.body.dataset.sameDocument") == "yes", "updated in place, not reloaded"

    # The strip leads to the chart.
    btc.get_by_role("link", name=re.compile(r"^BTC\/USDT 66,123\.45 .*open the chart$")).click()
    expect(page).to_have_url("/market/BTC-USDT/")
    expect(page.get_by_role("heading", name="BTC/USDT", exact=True)).to_be_visible()
    assert page.console_errors == [], page.console_errors


def test_the_chart_draws_candles_switches_timeframe_adds_indicator_panes_and_follows_ticks(
    page, owner, exchange_emulator, btc_candles
):
    _sign_in(page, owner, "/market/")
    expect(page.get_by_test_id("market-row")).to_have_count(10)
    page.screenshot(path=str(ARTIFACTS / "market-list.png"), full_page=True)

    with page.expect_response(lambda answer: "/api/v1/market/BTC-USDT/candles/" in answer.url) as first:
        page.get_by_role("link", name="BTC/USDT").first.click()
    assert first.value.status == 200 and "timeframe=4h" in first.value.url
    card = page.get_by_test_id("chart-card")
    chart = page.get_by_test_id("chart")
    expect(page.get_by_test_id("chart-state")).to_have_attribute("data-chart-state", "ready")
    expect(card).to_have_attribute("data-stored-bars", "1080")  # 180 days of 4h candles
    expect(chart.locator("canvas").first).to_be_visible()
    expect(chart).to_have_attribute("data-panes", "1")
    expect(page.get_by_test_id("chart-source")).to_have_text("Binance spot market data, 4h candles")
    expect(page.get_by_test_id("prices-source")).to_contain_text("Binance (live, via 127.0.0.1:")
    first_and_last = "10 Jul 2025, 08:00 UTC \N{EN DASH} 6 Jan 2026, 04:00 UTC"
    expect(page.get_by_test_id("chart-range")).to_contain_text(f"1080 4h candles, {first_and_last}")
    for timeframe in ("5m", "15m", "1h"):  # the fixture's finest candles are 4h
        expect(page.get_by_role("button", name=timeframe, exact=True)).to_be_disabled()
    expect(page.get_by_test_id("timeframe-note")).to_contain_text("the finest candles stored for this market are 4h")

    # Another timeframe: a new request, the labels follow.
    with page.expect_response(lambda answer: "/candles/" in answer.url and "timeframe=1w" in answer.url) as weekly:
        page.get_by_role("button", name="1w", exact=True).click()
    assert weekly.value.status == 200
    expect(page.get_by_role("button", name="1w", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(card).to_have_attribute("data-timeframe", "1w")
    expect(page.get_by_test_id("chart-source")).to_have_text("Binance spot market data, 1w candles aggregated from 1d")
    expect(page.get_by_test_id("chart-range")).to_contain_text("1w candles")
    with page.expect_response(lambda answer: "/candles/" in answer.url and "timeframe=1d" in answer.url):
        page.get_by_role("button", name="1d", exact=True).click()
    expect(page.get_by_test_id("chart-source")).to_have_text("Binance spot market data, 1d candles")
    expect(card).to_have_attribute("data-stored-bars", "1000")

    # Indicators: overlays stay in the price pane, RSI and MACD get panes of their own.
    with page.expect_response(lambda answer: "/indicators/" in answer.url and "names=sma%3A20" in answer.url) as sma:
        page.get_by_role("button", name="SMA 20").click()
    assert sma.value.status == 200
    page.get_by_role("button", name="Bollinger 20, 2").click()
    expect(chart).to_have_attribute("data-panes", "1")
    with page.expect_response(lambda answer: "/indicators/" in answer.url and "rsi%3A14" in answer.url) as rsi:
        page.get_by_role("button", name="RSI 14").click()
    assert rsi.value.status == 200
    expect(chart).to_have_attribute("data-panes", "2")
    page.get_by_role("button", name="MACD 12, 26, 9").click()
    expect(chart).to_have_attribute("data-panes", "3")
    expect(page.get_by_role("button", name="RSI 14")).to_have_attribute("aria-pressed", "true")
    expect(card).to_have_attribute("data-indicators-state", "ready")
    page.screenshot(path=str(ARTIFACTS / "market-chart.png"), full_page=True)
    page.get_by_role("button", name="Switch to dark theme").click()  # the chart takes the theme's colours
    page.screenshot(path=str(ARTIFACTS / "market-chart-dark.png"), full_page=True)
    page.get_by_role("button", name="RSI 14").click()
    expect(chart).to_have_attribute("data-panes", "2")

    # Indicators stay on across a timeframe switch: one request brings all of them for the new candles.
    with page.expect_response(
        lambda answer: "/indicators/" in answer.url and "timeframe=4h" in answer.url and "macd" in answer.url
    ):
        page.get_by_role("button", name="4h", exact=True).click()
    expect(chart).to_have_attribute("data-panes", "2")

    # The last candle follows the published ticks without a reload.
    exchange_emulator.set_price("binance", "BTC", "91234.56")
    _publish_a_tick()
    expect(card).to_have_attribute("data-live-close", "91234.56")
    expect(page.get_by_test_id("quote-last")).to_have_text("91,234.56")
    expect(page.get_by_test_id("chart-range")).to_contain_text(") follows the live price")
    assert page.console_errors == [], page.console_errors


def test_a_chart_that_cannot_load_says_why_and_retries(page, owner, exchange_emulator, btc_candles):
    _sign_in(page, owner, "/market/BTC-USDT/")
    expect(page.get_by_test_id("chart-state")).to_have_attribute("data-chart-state", "ready")

    # The stored candles go away after the page was rendered (an operator starts the import over): the API refuses.
    Candle.objects.filter(symbol="BTC/USDT").delete()
    with page.expect_response(lambda answer: "/candles/" in answer.url and "timeframe=1d" in answer.url) as refused:
        page.get_by_role("button", name="1d", exact=True).click()
    assert refused.value.status == 400
    state = page.get_by_test_id("chart-state")
    expect(state).to_have_attribute("data-chart-state", "error")
    expect(state).to_contain_text(
        "Could not load candles: No candles are stored for BTC/USDT yet "
        "(manage.py import_candles --offline loads them)."
    )
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "market-chart-error.png"), full_page=True)

    _import("1d")
    page.get_by_role("button", name="Try again").click()
    expect(state).to_have_attribute("data-chart-state", "ready")
    expect(page.get_by_test_id("chart-source")).to_have_text("Binance spot market data, 1d candles")
    # The refused request is the only thing the console reports.
    assert all("status of 400" in line for line in page.console_errors), page.console_errors


def test_with_the_exchange_down_the_chart_replays_the_recorded_candles_and_says_so(
    page, owner, exchange_emulator, btc_candles
):
    exchange_emulator.stop()
    with page.expect_response(lambda answer: "/candles/" in answer.url) as first:
        _sign_in(page, owner, "/market/BTC-USDT/")
    assert first.value.status == 200 and "&end=" in first.value.url, "the candles end at the replayed instant"

    card = page.get_by_test_id("chart-card")
    expect(card).to_have_attribute("data-mode", "replay")
    expect(page.get_by_test_id("chart-state")).to_have_attribute("data-chart-state", "ready")
    expect(page.get_by_test_id("prices-source")).to_have_text(
        re.compile(r"^Replay of Binance candles from \d{4}-\d\d-\d\d$")
    )
    expect(page.get_by_test_id("prices-source")).to_have_class(re.compile(r"\bbadge-warn\b"))
    expect(page.get_by_test_id("chart-range")).to_contain_text("on the replay's clock")

    # A replayed tick moves the candle of the replayed instant, not one at today's date.
    btc = next(ticker for ticker in _publish_a_tick() if ticker.symbol == "BTC/USDT")
    assert btc.source == "replay"
    replayed_candle = bucket_start(int(replay.replayed_time(btc.updated_at.timestamp())), "4h")
    expect(card).to_have_attribute("data-live-close", str(float(btc.last)))
    expect(card).to_have_attribute("data-live-time", str(replayed_candle))
    expect(page.get_by_test_id("chart-range")).to_contain_text("the last one is forming")
    page.screenshot(path=str(ARTIFACTS / "market-chart-replay.png"), full_page=True)
    assert page.console_errors == [], page.console_errors
