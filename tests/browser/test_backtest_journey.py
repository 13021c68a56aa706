"""Backtesting in a real browser: configure an optimisation on the form and run it on the real Celery worker,
watch its progress arrive over /ws/events, open the result (candles with trade markers, the equity and
drawdown chart, the ranking), run a second backtest, and compare the two (metrics side by side, equity
curves overlaid). No console error and no CSP violation along the way.

Candles are the shipped daily BTC/USDT fixture in the test database; the worker is a separate process on
its own queue (BACKTEST_TASK_QUEUE), so the page learns of progress only through the channel layer.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from analytics.models import Backtest
from tests.analytics.backtest_jobs import import_daily
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, user, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(next_url)


def _configure(page, *, kind: str, fast: str = "", slow: str = "", space: str = "") -> Backtest:
    page.goto("/analytics/backtests/new/")
    form = page.get_by_test_id("backtest-form")
    form.get_by_label("Kind").select_option(kind)
    form.get_by_label("Strategy").select_option("sma_cross")
    params = page.get_by_test_id("params-sma_cross")
    expect(params).to_be_visible()
    expect(page.get_by_test_id("params-ema_cross")).to_be_hidden()
    params.get_by_label("Fast").fill(fast)
    params.get_by_label("Slow").fill(slow)
    form.get_by_label("Market").select_option("BTC/USDT")
    form.get_by_label("Timeframe").select_option("1d")
    form.locator("input[name=start]").fill("2022-01-01")
    form.locator("input[name=end]").fill("2024-12-31")
    if kind == "single":
        expect(page.get_by_test_id("search-fields")).to_be_hidden()
    else:
        form.get_by_label("Parameters to vary").fill(space)
        form.get_by_label("Rank by").select_option("sharpe")
    form.get_by_role("button", name="Run the backtest").click()
    expect(page).to_have_url(re.compile(r"/analytics/backtests/\d+/$"))
    return Backtest.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def _results_shown(page) -> None:
    candles = page.get_by_test_id("backtest-candles")
    expect(candles).to_have_attribute("data-chart-state", "ready", timeout=90_000)
    expect(page.get_by_test_id("backtest-equity")).to_have_attribute("data-chart-state", "ready")
    assert int(candles.get_attribute("data-markers")) > 0
    expect(page.get_by_test_id("chart-markers")).to_contain_text("fills marked")
    expect(page.get_by_test_id("backtest-metrics")).to_contain_text("Sharpe")
    expect(page.get_by_test_id("backtest-benchmark")).to_contain_text("Final equity")


def test_a_backtest_is_configured_watched_inspected_and_compared_with_another(page, owner, celery_worker, settings):
    import_daily("BTC")
    settings.BACKTEST_TASKS_EAGER = False
    settings.BACKTEST_TASK_QUEUE = celery_worker.queue
    frames: list[dict] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda data: frames.append(json.loads(data))))
    _sign_in(page, owner, "/analytics/backtests/")

    # An optimisation of 300 parameter sets: long enough on one worker process to watch it move.
    first = _configure(page, kind="optimisation", space="fast=2:31:1\nslow=40:130:10")
    status = page.get_by_test_id("backtest-status")
    expect(status).to_have_attribute("data-status", "done", timeout=90_000)
    _results_shown(page)
    expect(page.get_by_test_id("ranking-row")).to_have_count(50)
    expect(page.locator("#ranking-title")).to_contain_text("300 sets tried")
    seen = [frame for frame in frames if frame.get("payload", {}).get("id") == first.pk]
    running = [frame["payload"]["progress"] for frame in seen if frame["type"] == "backtest.progress"]
    assert running and any(0 < progress < 100 for progress in running), seen
    assert running == sorted(running)
    assert any(frame["type"] == "backtest.finished" and frame["payload"]["status"] == "done" for frame in seen)

    # A second, single run, then the two side by side.
    second = _configure(page, kind="single", fast="20", slow="50")
    expect(page.get_by_test_id("backtest-status")).to_have_attribute("data-status", "done", timeout=90_000)
    _results_shown(page)
    expect(page.get_by_test_id("trade-row").first).to_be_visible()

    page.goto("/analytics/backtests/?status=done")
    expect(page.get_by_test_id("backtest-row")).to_have_count(2)
    page.get_by_label(f"Compare backtest #{first.pk}").check()
    page.get_by_label(f"Compare backtest #{second.pk}").check()
    page.get_by_test_id("compare-button").click()
    expect(page).to_have_url(re.compile(r"/analytics/backtests/compare/\?ids="))
    chart = page.get_by_test_id("compare-chart")
    expect(chart).to_have_attribute("data-chart-state", "ready")
    expect(chart).to_have_attribute("data-series", "2")
    expect(page.get_by_test_id("compare-legend-item")).to_have_count(2)
    expect(page.get_by_test_id("compare-column")).to_have_count(2)
    expect(page.get_by_test_id("compare-metrics")).to_contain_text("fast 20, slow 50")
    assert page.console_errors == []
