"""Portfolio analytics as a trader reads them: the page and /api/v1/analytics/, over real daily candles
(the shipped "Binance spot market data" fixture, imported as the demo does) and the trader's own
balances and equity snapshots."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from analytics.portfolio import equity_series
from exchanges.market.candles import import_candles_csv
from exchanges.market.data import fixture_path
from tests.trading.helpers import paper_account, publish
from trading.models import EntryKind, EquitySnapshot, LedgerEntry
from trading.services.ledger import lock_balances, post_entry
from trading.services.portfolio import utc_today

pytestmark = pytest.mark.django_db

PRICES = {"BTC/USDT": "60000", "ETH/USDT": "3000", "SOL/USDT": "150"}


@pytest.fixture
def daily_candles(db):
    for base in ("BTC", "ETH", "SOL"):
        import_candles_csv(path=fixture_path(f"{base}/USDT", "1d"), symbol=f"{base}/USDT", timeframe="1d")


def deposit(account, asset: str, amount: str) -> None:
    with transaction.atomic():
        balance = lock_balances(account, [asset])[asset]
        post_entry(balance=balance, kind=EntryKind.DEPOSIT, amount=Decimal(amount), note="test deposit")


@pytest.fixture
def holder(owner, daily_candles):
    """The owner holding 0.1 BTC (6,000), 2 ETH (6,000) and 20 SOL (3,000) beside 10,000 paper USDT."""
    account = paper_account(owner)
    for asset, amount in (("BTC", "0.1"), ("ETH", "2"), ("SOL", "20")):
        deposit(account, asset, amount)
    publish(PRICES)
    return owner


def test_the_api_answers_allocation_risk_stress_and_weights_of_the_callers_holdings(holder, owner_api_client):
    response = owner_api_client.get("/api/v1/analytics/portfolio/", {"days": 365})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total_value"] == pytest.approx(25_000)
    assert [row["asset"] for row in body["allocation"]] == ["USDT", "BTC", "ETH", "SOL"]
    assert body["allocation"][1]["weight"] == pytest.approx(0.24)
    risk = body["holdings_metrics"]
    assert risk["periods"] == 365
    assert risk["var_99"] < risk["var_95"] < 0  # a 40 % cash portfolio still loses on its worst days
    assert 0 < risk["beta"] < 1  # 60 % in crypto that moves with BTC, 40 % in cash
    assert set(body["correlation"]) == {"BTC", "ETH", "SOL"}
    assert body["correlation"]["BTC"]["ETH"] > 0.5
    btc_30 = next(row for row in body["stress"] if row["key"] == "btc_minus_30")
    assert btc_30["moves"]["BTC"] == -0.30
    assert btc_30["value_before"] - btc_30["value_after"] > 6_000 * 0.30  # ETH and SOL fall with BTC
    for objective in ("min_variance", "max_sharpe"):
        assert sum(body["optimisation"][objective]["weights"].values()) == pytest.approx(1.0)
    assert set(body["kelly"]) == {"BTC", "ETH", "SOL"}
    assert "Binance spot market data" in body["candles_source"]


def test_risk_and_correlation_are_the_same_figures_cut_smaller(holder, owner_api_client):
    whole = owner_api_client.get("/api/v1/analytics/portfolio/").json()
    risk = owner_api_client.get("/api/v1/analytics/risk/").json()
    correlation = owner_api_client.get("/api/v1/analytics/correlation/").json()
    assert risk["holdings_metrics"] == whole["holdings_metrics"]
    assert risk["stress"] == whole["stress"]
    assert correlation["correlation"] == whole["correlation"]
    assert correlation["assets"] == ["BTC", "ETH", "SOL"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"days": "abc"}, "days"),
        ({"days": 10}, "days"),
        ({"days": 99999}, "days"),
        ({"risk_free": "nan"}, "risk_free"),
        ({"risk_free": "-0.1"}, "risk_free"),
        ({"risk_free": "4%"}, "risk_free"),
    ],
)
def test_bad_query_parameters_are_400s_naming_the_field(holder, owner_api_client, query, field):
    response = owner_api_client.get("/api/v1/analytics/risk/", query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_another_user_sees_only_their_own_empty_portfolio(holder, outsider, api_client):
    api_client.force_login(outsider)
    body = api_client.get("/api/v1/analytics/portfolio/").json()
    assert body["allocation"] == [] and body["total_value"] == 0
    assert body["holdings_metrics"] is None and body["correlation"] == {}


def test_signed_out_callers_are_refused(api_client, db):
    assert api_client.get("/api/v1/analytics/portfolio/").status_code in (401, 403)


def test_deposits_are_not_returns_in_the_equity_history(owner, daily_candles):
    account = paper_account(owner)
    today = utc_today()
    first, second, third = today - timedelta(days=2), today - timedelta(days=1), today
    EquitySnapshot.objects.create(user=owner, date=first, total_value=Decimal(10_000), holdings={})
    EquitySnapshot.objects.create(user=owner, date=second, total_value=Decimal(10_100), holdings={})
    EquitySnapshot.objects.create(user=owner, date=third, total_value=Decimal(15_100), holdings={})
    deposit(account, "USDT", "5000")
    LedgerEntry.objects.filter(note="test deposit").update(
        created_at=LedgerEntry.objects.first().created_at.replace(
            year=second.year, month=second.month, day=second.day, hour=12
        )
    )
    points, returns = equity_series(owner, first)
    assert [point.flow for point in points] == [0.0, 0.0, 5000.0]
    assert list(returns) == pytest.approx([0.01, 0.0])  # +1 %, then the 5,000 deposit is no gain


def test_the_page_draws_the_heatmap_stress_and_weights(holder, client):
    client.force_login(holder)
    page = client.get(reverse("analytics:portfolio"))
    assert page.status_code == 200
    html = page.content.decode()
    for testid in (
        "analytics-allocation",
        "analytics-metrics",
        "analytics-heatmap",
        "analytics-stress",
        "analytics-weights",
    ):
        assert f'data-testid="{testid}"' in html
    assert "BTC falls 30 %" in html and "heat-10" in html  # each asset correlates fully with itself


def test_the_page_says_what_was_wrong_with_its_query_and_shows_the_defaults(holder, client):
    client.force_login(holder)
    page = client.get(reverse("analytics:portfolio"), {"days": "lots"})
    assert page.status_code == 200
    assert 'data-testid="error-days"' in page.content.decode()


def test_the_analytics_cost_a_bounded_number_of_queries(holder, owner_api_client, django_assert_max_num_queries):
    # The session, balances, snapshots and flows, then per market (BTC, ETH, SOL, plus BTC as the benchmark
    # once) the candle read: what is stored, and the range. It grows with the markets held (ten at most,
    # MARKET_SYMBOLS), never with the days of history.
    with django_assert_max_num_queries(6 + 6 * 3):
        assert owner_api_client.get("/api/v1/analytics/portfolio/").status_code == 200
