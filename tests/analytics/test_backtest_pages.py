"""The backtest pages as a trader uses them: configure one on the form (each strategy's own parameters), see
refusals on the fields they concern, follow it in the list and on its page, read its results (charts wired to
the API, metrics, trades, benchmark, Monte Carlo; a search's ranking; walk-forward windows), cancel one, and
compare finished ones. Jobs run eagerly once their creation commits."""

from __future__ import annotations

import re

import pytest

from analytics.models import Backtest
from tests.analytics.backtest_jobs import create, import_daily, run
from tests.helpers import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def daily_btc(db):
    """The shipped daily BTC/USDT candles in the test database."""
    import_daily("BTC")


FORM = {
    "kind": "single",
    "strategy": "sma_cross",
    "sma_cross__fast": "10",
    "sma_cross__slow": "30",
    "symbol": "BTC/USDT",
    "timeframe": "1d",
    "start": "2022-01-01",
    "end": "2024-12-31",
    "initial_cash": "10000",
    "fee": "0.001",
    "slippage": "none",
    "sizing": "all_in",
    "search_method": "grid",
    "metric": "sharpe",
}


def test_the_form_offers_every_strategy_with_its_own_parameters(owner_client):
    page = text(owner_client.get("/analytics/backtests/new/"))
    for strategy in ("sma_cross", "ema_cross", "rsi_reversion", "bollinger_breakout", "macd", "dca", "grid"):
        assert f'data-strategy-params="{strategy}"' in page
    assert 'name="sma_cross__fast"' in page and 'name="rsi_reversion__lower"' in page
    assert "From 2 to" in page  # each parameter says its bounds


def test_a_backtest_configured_on_the_form_runs_and_shows_its_results(
    daily_btc, owner, owner_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_client.post("/analytics/backtests/new/", FORM)
    backtest = Backtest.objects.get(user=owner)
    assert answer.status_code == 302 and answer["Location"] == f"/analytics/backtests/{backtest.pk}/"
    page = text(owner_client.get(answer["Location"]))
    assert f"Backtest #{backtest.pk}: SMA crossover on BTC/USDT" in page
    assert 'data-status="done"' in page
    assert 'data-backtest-chart="candles"' in page and 'data-backtest-chart="equity"' in page
    assert f'data-api-url="/api/v1/backtests/{backtest.pk}/"' in page
    assert "lightweight-charts.standalone.production.js" in page
    assert page.count('data-testid="trade-row"') == backtest.results["trades_total"]
    assert "Buy and hold" in page and "Probability of ruin" in page
    net = backtest.results["metrics"]["net_return"] * 100
    assert re.search(rf'data-metric="net_return"><th scope="row">Net return</th><td class="numeric">{net:,.2f} %', page)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"sma_cross__fast": "40", "sma_cross__slow": "20"}, "sma_cross__fast", "must be shorter than the slow one"),
        ({"sma_cross__fast": "0"}, "sma_cross__fast", "Give a whole number from"),
        ({"start": "2030-01-01", "end": "2030-06-30"}, "start", "No 1d candles of BTC/USDT are stored"),
        ({"fee": "0.5"}, "fee", "Give a number from 0 to 0.1"),
        ({"kind": "optimisation", "search_space": "fast=40\nslow=20"}, "search_space", "No combination"),
    ],
)
def test_a_refusal_shows_on_the_field_it_concerns(daily_btc, owner_client, change, field, words):
    answer = owner_client.post("/analytics/backtests/new/", FORM | change)
    assert answer.status_code == 200
    form = answer.context["form"]
    assert any(words in message for message in form.errors[field]), form.errors
    assert not Backtest.objects.exists()


def test_the_list_shows_status_progress_and_headline_figures(
    daily_btc, owner, outsider, owner_client, django_capture_on_commit_callbacks
):
    done = run(django_capture_on_commit_callbacks, owner)
    queued = create(owner)
    create(outsider)
    page = text(owner_client.get("/analytics/backtests/"))
    assert page.count('data-testid="backtest-row"') == 2
    assert f'data-backtest-status="{queued.pk}" data-status="queued"' in page
    assert f'<progress max="100" value="0" data-field="progress" aria-label="Progress of backtest #{queued.pk}"' in page
    assert f'name="ids" value="{done.pk}"' in page and f'name="ids" value="{queued.pk}"' not in page
    filtered = text(owner_client.get("/analytics/backtests/", {"status": "queued"}))
    assert filtered.count('data-testid="backtest-row"') == 1


def test_a_searchs_page_shows_its_ranking_and_a_walk_forward_its_windows(
    daily_btc, owner, owner_client, django_capture_on_commit_callbacks
):
    search = {"space": {"fast": [5, 10], "slow": [30, 60]}, "metric": "sharpe"}
    optimised = run(django_capture_on_commit_callbacks, owner, kind="optimisation", params={}, search=search)
    page = text(owner_client.get(f"/analytics/backtests/{optimised.pk}/"))
    assert page.count('data-testid="ranking-row"') == 4
    assert "Ranking by Sharpe ratio (4 sets tried" in page
    walked = run(
        django_capture_on_commit_callbacks,
        owner,
        kind="walk_forward",
        params={},
        search=search | {"train": 300, "test": 200},
    )
    page = text(owner_client.get(f"/analytics/backtests/{walked.pk}/"))
    assert page.count('data-testid="window-row"') == len(walked.results["walk_forward"]["windows"]) == 3
    assert "(stitched out-of-sample)" in page


def test_a_running_backtest_can_be_cancelled_from_its_page(daily_btc, owner, owner_client):
    backtest = create(owner)
    page = text(owner_client.get(f"/analytics/backtests/{backtest.pk}/"))
    assert f'href="/analytics/backtests/{backtest.pk}/cancel/"' in page
    assert "Waiting for a worker" in page
    answer = owner_client.post(f"/analytics/backtests/{backtest.pk}/cancel/")
    assert answer.status_code == 302
    backtest.refresh_from_db()
    assert backtest.status == "cancelled"
    assert "there is nothing to cancel" in text(owner_client.get(f"/analytics/backtests/{backtest.pk}/cancel/"))


def test_finished_backtests_compare_side_by_side(daily_btc, owner, owner_client, django_capture_on_commit_callbacks):
    first = run(django_capture_on_commit_callbacks, owner)
    second = run(django_capture_on_commit_callbacks, owner, params={"fast": 20, "slow": 50})
    page = text(owner_client.get("/analytics/backtests/compare/", {"ids": [first.pk, second.pk]}))
    assert page.count('data-testid="compare-column"') == 2
    assert f'data-api-url="/api/v1/backtests/compare/?ids={first.pk},{second.pk}"' in page
    assert "Sharpe" in page and "fast 20, slow 50" in page
    lonely = owner_client.get("/analytics/backtests/compare/", {"ids": first.pk})
    assert lonely.status_code == 400 and "Pick from 2 to 4" in text(lonely)


def test_another_users_backtest_is_not_found_on_any_page(daily_btc, owner, outsider_client):
    backtest = create(owner)
    assert outsider_client.get(f"/analytics/backtests/{backtest.pk}/").status_code == 404
    assert outsider_client.get(f"/analytics/backtests/{backtest.pk}/cancel/").status_code == 404
    assert (
        outsider_client.get("/analytics/backtests/compare/", {"ids": f"{backtest.pk},{backtest.pk + 1}"}).status_code
        == 404
    )
    assert 'data-testid="backtest-row"' not in text(outsider_client.get("/analytics/backtests/"))


def test_the_admin_lists_backtests_read_only(daily_btc, owner, admin_browser):
    backtest = create(owner)
    listing = admin_browser.get("/admin/analytics/backtest/", {"q": "owner@"})
    assert listing.status_code == 200 and f"Backtest #{backtest.pk}" in text(listing)
    assert admin_browser.get("/admin/analytics/backtest/add/").status_code == 403
    change = admin_browser.get(f"/admin/analytics/backtest/{backtest.pk}/change/")
    assert change.status_code == 200 and 'type="submit" value="Save"' not in text(change)


def test_a_failed_backtest_says_why_on_its_page(daily_btc, owner, owner_client):
    from analytics.tasks import backtest_run
    from exchanges.models import Candle

    backtest = create(owner)
    Candle.objects.all().delete()
    backtest_run.apply(args=[backtest.pk])
    page = text(owner_client.get(f"/analytics/backtests/{backtest.pk}/"))
    assert 'data-status="failed"' in page
    assert 'data-testid="backtest-error">No candles are stored for BTC/USDT' in page
    assert 'data-backtest-chart="candles"' not in page
