"""Backtests as stored jobs: checked on creation (each bad input on its field, nothing stored), run by the
worker's tasks (single, optimisation as a chord of chunks, walk-forward, Monte Carlo on the trades), their
progress pushed to the owner's pages, cancelled, failed in words, and run once through a real Celery worker.

Candles are the shipped daily BTC/USDT fixture imported into the test database (as the demo does); jobs run
eagerly once their creation commits (BACKTEST_TASKS_EAGER is on in the test suite)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from analytics.backtest.candles import load_candles
from analytics.backtest.engine import run_backtest
from analytics.backtest.jobs import search_sets
from analytics.backtest.strategies import get_strategy
from analytics.errors import BacktestNotActive
from analytics.models import Backtest
from analytics.services import PROGRESS_HOOKS, backtest_cancel
from exchanges.market.candles import import_candles_csv
from exchanges.market.data import fixture_path
from exchanges.models import Candle
from security.models import AuditEvent
from tests.analytics.backtest_jobs import END, START, create, import_daily, run
from tests.factories import TEST_ACTOR
from tests.live_events import GroupListener

pytestmark = pytest.mark.django_db


@pytest.fixture
def daily_btc(db):
    """The shipped daily BTC/USDT candles in the test database."""
    import_daily("BTC")


def refused(user, **overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        create(user, **overrides)
    return caught.value.message_dict


# --- checked before anything is stored ------------------------------------------------------------------
def test_each_bad_input_is_refused_on_its_own_field_and_nothing_is_stored(daily_btc, owner):
    assert "strategy" in refused(owner, strategy="moon_shot")
    assert "Give a whole number from" in refused(owner, params={"fast": 0, "slow": 30})["params.fast"][0]
    assert "shorter than the slow one" in refused(owner, params={"fast": 50, "slow": 20})["params.fast"][0]
    assert "Unknown parameter" in refused(owner, params={"fast": 10, "slow": 30, "speed": 3})["params.speed"][0]
    no_candles = refused(owner, start=datetime(2030, 1, 1, tzinfo=UTC), end=datetime(2030, 6, 1, tzinfo=UTC))
    assert "No 1d candles of BTC/USDT are stored" in no_candles["start"][0]
    assert "Stored: 2017-08-17" in no_candles["start"][0]
    assert refused(owner, start=END, end=START)["start"] == ["The start must be before the end."]
    assert "symbol" in refused(owner, symbol="NOPE/USDT")
    assert "timeframe" in refused(owner, timeframe="7m")
    assert "execution.fee" in refused(owner, execution={"fee": 0.5})
    assert "initial_cash" in refused(owner, initial_cash="-5")
    assert not Backtest.objects.exists()


def test_a_market_with_no_stored_candles_is_refused_on_the_symbol(daily_btc, owner):
    assert "No candles are stored for ETH/USDT" in refused(owner, symbol="ETH/USDT")["symbol"][0]


def test_more_candles_than_the_limit_is_refused_on_the_start(daily_btc, owner, settings):
    settings.BACKTEST_MAX_CANDLES = 100
    assert "at most 100" in refused(owner)["start"][0]


def test_a_search_is_checked_too(daily_btc, owner):
    bad_space = refused(owner, kind="optimisation", params={}, search={"space": {"speed": [1, 2]}})
    assert "Unknown parameters: speed" in bad_space["search.space"][0]
    nothing_valid = refused(owner, kind="optimisation", params={}, search={"space": {"fast": [50], "slow": [20]}})
    assert "No combination" in nothing_valid["search.space"][0]
    assert "search.metric" in refused(
        owner, kind="optimisation", params={}, search={"space": {"fast": [5]}, "metric": "luck"}
    )
    windows = refused(owner, kind="walk_forward", params={}, search={"space": {"fast": [5]}, "train": 1, "test": 5000})
    assert set(windows) >= {"search.train"}


def test_any_range_the_loader_serves_passes_the_candle_check(owner):
    """1d stored since 2017 and 4h only since 2024 (as the demo imports them): a 1d range of 2022 and a 1w range
    of 2018-2020 (aggregated from 1d) are accepted and load; a range with no candle names the span served."""
    import_daily("BTC")
    import_candles_csv(path=fixture_path("BTC/USDT", "4h"), symbol="BTC/USDT", timeframe="4h")
    daily = create(owner, start=datetime(2022, 1, 1, tzinfo=UTC), end=datetime(2023, 1, 1, tzinfo=UTC))
    weekly = create(owner, timeframe="1w", start=datetime(2018, 1, 1, tzinfo=UTC), end=datetime(2021, 1, 1, tzinfo=UTC))
    for backtest in (daily, weekly):
        served = load_candles(backtest.symbol, backtest.timeframe, backtest.start, backtest.end)
        assert served.time[0] == backtest.start.timestamp() * 1000
    no_candles = refused(owner, start=datetime(2030, 1, 1, tzinfo=UTC), end=datetime(2030, 6, 1, tzinfo=UTC))
    assert "No 1d candles of BTC/USDT are stored" in no_candles["start"][0]
    assert "Stored: 2017-08-17 to 2026-01-0" in no_candles["start"][0]
    before_4h = refused(
        owner, timeframe="4h", start=datetime(2022, 1, 1, tzinfo=UTC), end=datetime(2023, 1, 1, tzinfo=UTC)
    )
    assert "Stored: 2024-01-07 to 2026-01-06." in before_4h["start"][0]
    assert Backtest.objects.count() == 2


def test_a_random_search_draws_only_on_the_step_of_a_range(daily_btc, owner):
    space = {"fast": {"min": 10, "max": 50, "step": 10}, "slow": {"min": 100, "max": 200, "step": 50}}
    search = {"method": "random", "count": 8, "seed": 3, "space": space}
    sets = search_sets(get_strategy("sma_cross"), {}, search, limit=1000)
    assert len(sets) == 8 == len({(s["fast"], s["slow"]) for s in sets})
    assert all(s["fast"] in (10, 20, 30, 40, 50) and s["slow"] in (100, 150, 200) for s in sets)
    # More draws than the stepped space holds: every set once, and the job says how many.
    backtest = create(owner, kind="optimisation", params={}, search=search | {"count": 40})
    assert backtest.search["sets"] == 15
    reals = search_sets(
        get_strategy("bollinger_breakout"),
        {},
        {"method": "random", "count": 6, "seed": 1, "space": {"k": {"min": 1, "max": 3, "step": 0.5}}},
        limit=1000,
    )
    assert sorted(s["k"] for s in reals) == [1.0, 1.5, 2.0, 2.5, 3.0]


@pytest.mark.parametrize("method", ["grid", "random"])
@pytest.mark.parametrize("step", [0, -1])
def test_a_range_step_must_be_positive(daily_btc, owner, method, step):
    search = {"method": method, "count": 5, "space": {"fast": {"min": 2, "max": 50, "step": step}, "slow": [100]}}
    errors = refused(owner, kind="optimisation", params={}, search=search)
    assert errors["search.space"] == ["fast: give min <= max and a positive step."]


# --- a single run ---------------------------------------------------------------------------------------
def test_a_single_run_stores_the_engines_trades_equity_metrics_benchmark_and_monte_carlo(
    daily_btc, owner, django_capture_on_commit_callbacks
):
    backtest = run(django_capture_on_commit_callbacks, owner)
    assert backtest.status == "done", backtest.error
    assert (backtest.progress, backtest.progress_message) == (100, "Done")
    assert backtest.started_at <= backtest.finished_at

    expected = run_backtest(load_candles("BTC/USDT", "1d", START, END), "sma_cross", {"fast": 10, "slow": 30})
    results = backtest.results
    assert results["metrics"]["final_equity"] == pytest.approx(expected.final_equity, rel=1e-12)
    assert results["trades_total"] == len(expected.trades) > 5
    first = results["trades"][0]
    assert (first["entry_time"], first["entry_price"]) == (
        expected.trades[0].entry_time,
        expected.trades[0].entry_price,
    )
    assert results["candles"] == 1096
    assert results["equity"][-1][1] == pytest.approx(expected.final_equity)
    assert min(point[1] for point in results["drawdown"]) == pytest.approx(results["metrics"]["max_drawdown"], rel=1e-9)
    assert results["benchmark"]["final_equity"] == pytest.approx(float(expected.benchmark[-1]))
    assert 0 < results["exposure"] < 1
    assert len(results["chart"]["candles"]) == 1096 and results["chart"]["merged"] == 1
    assert {marker["side"] for marker in results["chart"]["markers"]} == {"buy", "sell"}
    monte = results["monte_carlo"]
    assert monte["final_equity"]["p5"] <= monte["final_equity"]["p50"] <= monte["final_equity"]["p95"]
    assert 0 <= monte["probability_of_ruin"] <= 1
    assert backtest.summary["net_return"] == pytest.approx(expected.final_equity / 10_000 - 1)
    audit = AuditEvent.objects.get(action="backtest.created")
    assert audit.user == owner and audit.details["backtest_id"] == backtest.pk


def test_long_runs_are_stored_small_enough_to_draw(daily_btc, owner, django_capture_on_commit_callbacks):
    backtest = run(django_capture_on_commit_callbacks, owner, start=datetime(2017, 8, 17, tzinfo=UTC))
    results = backtest.results
    assert results["candles"] == 2694
    assert len(results["chart"]["candles"]) == 1347 and results["chart"]["merged"] == 2
    assert len(results["equity"]) <= 1500
    chart_times = {bar[0] for bar in results["chart"]["candles"]}
    assert {marker["time"] for marker in results["chart"]["markers"]} <= chart_times
    # the deepest drawdown survives the downsampling
    assert min(point[1] for point in results["drawdown"]) == pytest.approx(results["metrics"]["max_drawdown"])


# --- searches -------------------------------------------------------------------------------------------
def test_an_optimisation_ranks_every_parameter_set_and_runs_the_best_in_full(
    daily_btc, owner, django_capture_on_commit_callbacks, settings
):
    settings.BACKTEST_OPTIMISE_CHUNKS = 3
    backtest = run(
        django_capture_on_commit_callbacks,
        owner,
        kind="optimisation",
        params={},
        search={"space": {"fast": {"min": 5, "max": 25, "step": 5}, "slow": [30, 60]}, "metric": "sharpe"},
    )
    assert backtest.status == "done", backtest.error
    assert (backtest.steps_done, backtest.steps_total) == (10, 10)
    ranking = backtest.results["ranking"]
    assert ranking["evaluated"] == 10 and len(ranking["rows"]) == 10
    scores = [row["score"] for row in ranking["rows"]]
    assert scores == sorted(scores, reverse=True)
    best = ranking["rows"][0]["params"]
    assert backtest.results["best_params"] == best
    expected = run_backtest(load_candles("BTC/USDT", "1d", START, END), "sma_cross", best)
    assert backtest.results["metrics"]["sharpe"] == pytest.approx(expected.metrics["sharpe"])


def test_a_walk_forward_stores_its_windows_and_the_stitched_out_of_sample_equity(
    daily_btc, owner, django_capture_on_commit_callbacks
):
    backtest = run(
        django_capture_on_commit_callbacks,
        owner,
        kind="walk_forward",
        params={},
        search={"space": {"fast": [5, 10], "slow": [30, 50]}, "train": 300, "test": 150, "metric": "sharpe"},
    )
    assert backtest.status == "done", backtest.error
    walk = backtest.results["walk_forward"]
    assert len(walk["windows"]) == (1096 - 300) // 150
    for before, after in zip(walk["windows"], walk["windows"][1:], strict=False):
        assert after["initial_equity"] == pytest.approx(before["final_equity"])
        assert after["test_start"] > before["test_end"]
    assert walk["equity"][-1][1] == pytest.approx(walk["windows"][-1]["final_equity"])
    assert backtest.results["metrics"]["windows"] == len(walk["windows"])


# --- progress, cancelling, failing ------------------------------------------------------------------------
def test_progress_reaches_the_owners_open_pages_as_it_happens(daily_btc, owner, django_capture_on_commit_callbacks):
    with GroupListener(owner) as listener:
        backtest = run(django_capture_on_commit_callbacks, owner)
        events = listener.events()
    mine = [(event, payload) for event, payload in events if payload.get("id") == backtest.pk]
    kinds = [event for event, _ in mine]
    assert kinds[0] == "backtest.created" and kinds[-1] == "backtest.finished"
    progress = [payload["progress"] for event, payload in mine if event == "backtest.progress"]
    assert progress == sorted(progress) and len(progress) >= 4
    assert mine[-1][1] == {"id": backtest.pk, "status": "done", "progress": 100, "message": "Done"}


def test_a_queued_backtest_cancelled_never_runs(daily_btc, owner, django_capture_on_commit_callbacks):
    from analytics.tasks import backtest_run

    backtest = create(owner)  # committed callbacks not run: still queued
    backtest_cancel(actor=TEST_ACTOR, backtest=backtest)
    assert backtest_run.apply(args=[backtest.pk]).get() == "not queued"
    backtest.refresh_from_db()
    assert backtest.status == "cancelled" and backtest.results == {}
    with pytest.raises(BacktestNotActive):
        backtest_cancel(actor=TEST_ACTOR, backtest=backtest)
    assert AuditEvent.objects.filter(action="backtest.cancelled", user=owner).count() == 1


def test_a_backtest_cancelled_while_running_stops_and_stores_nothing(
    daily_btc, owner, django_capture_on_commit_callbacks
):
    def cancel_when_loaded(row: Backtest) -> None:
        if row.progress == 30 and row.status == "running":
            backtest_cancel(actor=TEST_ACTOR, backtest=row)

    PROGRESS_HOOKS.append(cancel_when_loaded)
    try:
        backtest = run(django_capture_on_commit_callbacks, owner)
    finally:
        PROGRESS_HOOKS.remove(cancel_when_loaded)
    assert backtest.status == "cancelled"
    assert backtest.results == {} and backtest.progress == 30


def test_a_run_whose_candles_are_gone_fails_with_words_the_owner_can_act_on(
    daily_btc, owner, django_capture_on_commit_callbacks
):
    from analytics.tasks import backtest_run

    backtest = create(owner)
    Candle.objects.all().delete()
    backtest_run.apply(args=[backtest.pk])
    backtest.refresh_from_db()
    assert backtest.status == "failed"
    assert "No candles are stored for BTC/USDT" in backtest.error


# --- through a real worker -------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_an_optimisation_runs_as_a_chord_on_a_real_celery_worker(celery_worker, owner, settings):

    import_daily("BTC")
    settings.BACKTEST_TASKS_EAGER = False
    settings.BACKTEST_TASK_QUEUE = celery_worker.queue
    settings.BACKTEST_OPTIMISE_CHUNKS = 4
    backtest = create(
        owner, kind="optimisation", params={}, search={"space": {"fast": [5, 10, 15, 20], "slow": [30, 60]}}
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        backtest.refresh_from_db()
        if backtest.status not in ("queued", "running"):
            break
        time.sleep(0.25)
    assert backtest.status == "done", (backtest.status, backtest.error)
    assert backtest.steps_done == backtest.steps_total == 8
    assert backtest.results["ranking"]["evaluated"] == 8
    assert backtest.results["best_params"] == backtest.results["ranking"]["rows"][0]["params"]
