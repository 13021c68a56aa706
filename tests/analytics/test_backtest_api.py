"""/api/v1/backtests/ as an integration uses it: queue a backtest (202), read it back with its results, list,
compare, cancel; bad input is a 400 naming each field; another user's backtest is not found; API keys need
`read` to read and `trade` to create or cancel. Jobs run eagerly once their creation commits."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from analytics.models import Backtest
from exchanges.market.candles import import_candles_csv
from exchanges.market.data import fixture_path
from tests.analytics.backtest_jobs import create, import_daily, run
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def daily_btc(db):
    """The shipped daily BTC/USDT candles in the test database."""
    import_daily("BTC")


URL = "/api/v1/backtests/"
BODY = {
    "strategy": "sma_cross",
    "params": {"fast": 10, "slow": 30},
    "symbol": "BTC-USDT",
    "timeframe": "1d",
    "start": "2022-01-01",
    "end": "2024-12-31",
    "execution": {"fee": 0.001, "slippage": "fixed", "slippage_bps": 5},
}


def key_client(user, *scopes: str) -> APIClient:
    _, raw = api_key_create(actor=TEST_ACTOR, user=user, name="Script", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_a_backtest_is_queued_with_202_and_read_back_with_its_results(
    daily_btc, owner_jwt, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_jwt.post(URL, BODY, format="json")
    assert answer.status_code == 202, answer.content
    created = answer.json()
    assert created["status"] == "queued" and created["symbol"] == "BTC/USDT"
    assert answer["Location"].endswith(f"/api/v1/backtests/{created['id']}/")

    detail = owner_jwt.get(f"{URL}{created['id']}/").json()
    assert detail["status"] == "done" and detail["progress"] == 100
    assert detail["execution"]["slippage_bps"] == 5
    results = detail["results"]
    assert results["metrics"]["sharpe"] is not None
    assert results["trades"][0]["entry_time"] < results["trades"][0]["exit_time"]
    assert results["benchmark"]["name"] == "Buy and hold"
    assert set(results["monte_carlo"]["final_equity"]) == {"p5", "p25", "p50", "p75", "p95"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"strategy": "moon_shot"}, "strategy", "Unknown strategy"),
        ({"params": {"fast": 0, "slow": 30}}, "params.fast", "Give a whole number from"),
        ({"params": {"fast": 10, "slow": 100000}}, "params.slow", "Give a whole number from"),
        ({"params": {"fast": 30, "slow": 10}}, "params.fast", "must be shorter than the slow one"),
        ({"start": "2030-01-01", "end": "2030-06-30"}, "start", "No 1d candles of BTC/USDT are stored"),
        ({"start": "2024-12-31", "end": "2022-01-01"}, "start", "before the end"),
        ({"start": "yesterday"}, "start", "Give a date"),
        ({"symbol": "NOPE"}, "symbol", "We do not follow"),
        ({"execution": {"sizing": "yolo"}}, "execution.sizing", "Use one of"),
        ({"kind": "optimisation", "search": {"space": {"fast": [40], "slow": [20]}}}, "search.space", "No combination"),
        (
            {"kind": "optimisation", "search": {"space": {"fast": {"min": 2, "max": 50, "step": 0}, "slow": [100]}}},
            "search.space",
            "fast: give min <= max and a positive step.",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(daily_btc, owner_jwt, change, field, words):
    answer = owner_jwt.post(URL, BODY | change, format="json")
    assert answer.status_code == 400, answer.content
    errors = answer.json()["errors"]
    assert words in " ".join(errors[field]), errors
    assert not Backtest.objects.exists()


def test_a_bare_end_date_is_the_whole_day_as_on_the_page_and_the_command(
    owner, owner_jwt, django_capture_on_commit_callbacks
):
    """4h candles: a bare end date takes the day's last candle (20:00) in, as the page and `manage.py backtest` do."""
    import_candles_csv(path=fixture_path("BTC/USDT", "4h"), symbol="BTC/USDT", timeframe="4h")
    body = BODY | {"timeframe": "4h", "start": "2024-02-01", "end": "2024-03-31"}
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_jwt.post(URL, body, format="json")
    assert answer.status_code == 202, answer.content
    detail = owner_jwt.get(f"{URL}{answer.json()['id']}/").json()
    assert detail["end"] == "2024-03-31T23:59:59Z"
    assert detail["results"]["last_time"] == datetime(2024, 3, 31, 20, tzinfo=UTC).timestamp() * 1000

    call_command(
        "backtest", "--user", owner.email, "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30",
        "--symbol", "BTC/USDT", "--timeframe", "4h", "--start", "2024-02-01", "--end", "2024-03-31",
        "--fee", "0.001", "--slippage", "fixed", "--slippage-bps", "5", stdout=StringIO(),
    )  # fmt: skip
    command = Backtest.objects.exclude(pk=detail["id"]).get()
    assert command.end == datetime(2024, 3, 31, 23, 59, 59, tzinfo=UTC)
    assert command.results["metrics"]["final_equity"] == detail["results"]["metrics"]["final_equity"]


def test_the_list_is_yours_newest_first_and_takes_the_pages_filters(
    daily_btc, owner, outsider, owner_jwt, django_capture_on_commit_callbacks
):
    done = run(django_capture_on_commit_callbacks, owner)
    queued = create(owner)
    create(outsider)
    rows = owner_jwt.get(URL).json()["results"]
    assert [row["id"] for row in rows] == [queued.pk, done.pk]
    assert "results" not in rows[0]
    assert rows[1]["summary"]["sharpe"] == pytest.approx(done.results["metrics"]["sharpe"])
    assert [row["id"] for row in owner_jwt.get(URL, {"status": "done"}).json()["results"]] == [done.pk]
    assert owner_jwt.get(URL, {"status": "lost"}).status_code == 400


def test_two_to_four_finished_backtests_compare_side_by_side(
    daily_btc, owner, outsider, owner_jwt, django_capture_on_commit_callbacks
):
    first = run(django_capture_on_commit_callbacks, owner)
    second = run(django_capture_on_commit_callbacks, owner, strategy="ema_cross", params={"fast": 12, "slow": 26})
    answer = owner_jwt.get(f"{URL}compare/", {"ids": f"{first.pk},{second.pk}"})
    assert answer.status_code == 200, answer.content
    compared = answer.json()["backtests"]
    assert [row["id"] for row in compared] == [first.pk, second.pk]
    assert compared[1]["label"].startswith(f"#{second.pk} EMA crossover (fast 12, slow 26)")
    assert compared[0]["metrics"]["final_equity"] == pytest.approx(first.results["metrics"]["final_equity"])
    assert compared[0]["equity"][-1][1] == pytest.approx(first.results["metrics"]["final_equity"])

    lonely = owner_jwt.get(f"{URL}compare/", {"ids": str(first.pk)})
    assert lonely.status_code == 400 and "ids" in lonely.json()["errors"]
    unfinished = owner_jwt.get(f"{URL}compare/", {"ids": f"{first.pk},{create(owner).pk}"})
    assert unfinished.status_code == 400 and "no results yet" in unfinished.json()["errors"]["ids"][0]
    theirs = run(django_capture_on_commit_callbacks, outsider)
    assert owner_jwt.get(f"{URL}compare/", {"ids": f"{first.pk},{theirs.pk}"}).status_code == 404


def test_cancel_stops_a_queued_backtest_once(daily_btc, owner, owner_jwt, outsider_jwt):
    backtest = create(owner)
    assert outsider_jwt.post(f"{URL}{backtest.pk}/cancel/").status_code == 404
    answer = owner_jwt.post(f"{URL}{backtest.pk}/cancel/")
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    again = owner_jwt.post(f"{URL}{backtest.pk}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "backtest_not_active"


def test_another_users_backtest_is_not_found(daily_btc, owner, outsider_jwt):
    backtest = create(owner)
    assert outsider_jwt.get(f"{URL}{backtest.pk}/").status_code == 404
    assert outsider_jwt.get(URL).json()["results"] == []


def test_api_keys_read_with_read_and_create_only_with_trade(daily_btc, owner, django_capture_on_commit_callbacks):
    reader = key_client(owner, "read")
    backtest = create(owner)
    assert reader.get(f"{URL}{backtest.pk}/").status_code == 200
    assert reader.post(URL, BODY, format="json").status_code == 403
    assert reader.post(f"{URL}{backtest.pk}/cancel/").status_code == 403
    trader = key_client(owner, "read", "trade")
    with django_capture_on_commit_callbacks(execute=True):
        assert trader.post(URL, BODY, format="json").status_code == 202


def test_the_schema_documents_every_operation(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/backtests/"]) >= {"get", "post"}
    assert "202" in paths["/api/v1/backtests/"]["post"]["responses"]
    assert "409" in paths["/api/v1/backtests/{backtest_id}/cancel/"]["post"]["responses"]
    assert any(parameter["name"] == "ids" for parameter in paths["/api/v1/backtests/compare/"]["get"]["parameters"])
