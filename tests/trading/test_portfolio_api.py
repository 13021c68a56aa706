"""/api/v1/portfolio/ and /api/v1/portfolio/history/: your holdings valued at the current prices
(average cost), and one equity snapshot per day; nobody else's holdings ever count."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, publish
from trading.models import Balance
from trading.services.portfolio import equity_snapshot_take

pytestmark = pytest.mark.django_db
PORTFOLIO = "/api/v1/portfolio/"
HISTORY = "/api/v1/portfolio/history/"


def buy_btc(client, quantity: str = "0.01") -> None:
    order = {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": quantity}
    assert client.post("/api/v1/orders/", order, format="json").status_code == 201


def test_the_portfolio_values_what_you_hold_at_the_current_price_with_average_cost(owner_jwt, owner):
    publish({"BTC/USDT": "65000"})
    paper_account(owner)
    buy_btc(owner_jwt)
    publish({"BTC/USDT": "70000"}, change="10")
    btc = Balance.objects.get(account__user=owner, asset="BTC")
    usdt = Balance.objects.get(account__user=owner, asset="USDT")

    body = owner_jwt.get(PORTFOLIO).json()

    assert body["method"] == "average cost" and body["quote_currency"] == "USDT"
    holdings = {holding["asset"]: holding for holding in body["holdings"]}
    assert set(holdings) == {"BTC", "USDT"}
    held = holdings["BTC"]
    assert (held["quantity"], held["price"], held["value"]) == ("0.01", "70000", "700")
    assert Decimal(held["cost_basis"]) == btc.cost_basis, "what was paid per BTC, fee included"
    assert Decimal(held["unrealized_pnl"]) == Decimal(700) - btc.total * btc.cost_basis
    assert Decimal(held["change_24h_pct"]) == 10
    assert Decimal(body["total_value"]) == Decimal(700) + usdt.total
    assert sum(Decimal(holding["allocation_pct"]) for holding in body["holdings"]) == pytest.approx(100, abs=0.02)
    assert [share["account_kind"] for share in held["accounts"]] == ["paper"]


def test_the_portfolio_holds_only_your_own_accounts(owner_jwt, owner, outsider_jwt, outsider):
    publish({"BTC/USDT": "65000"})
    paper_account(owner), paper_account(outsider)
    buy_btc(outsider_jwt, "0.05")

    mine = owner_jwt.get(PORTFOLIO).json()

    assert [holding["asset"] for holding in mine["holdings"]] == ["USDT"]
    assert Decimal(mine["total_value"]) == Decimal(10000)


def test_a_new_user_has_an_empty_portfolio(owner_jwt):
    publish({"BTC/USDT": "65000"})
    body = owner_jwt.get(PORTFOLIO).json()
    assert (body["holdings"], body["total_value"]) == ([], "0")


def test_the_history_is_one_snapshot_per_day_oldest_first_and_only_yours(owner_jwt, owner, outsider):
    publish({"BTC/USDT": "65000"})
    paper_account(owner), paper_account(outsider)
    equity_snapshot_take(user=owner, day=date(2026, 11, 30))
    equity_snapshot_take(user=owner, day=date(2026, 11, 29))
    equity_snapshot_take(user=outsider, day=date(2026, 11, 30))

    rows = owner_jwt.get(HISTORY).json()["results"]

    assert [row["date"] for row in rows] == ["2026-11-29", "2026-11-30"]
    assert rows[0]["total_value"] == "10000"
    assert rows[0]["holdings"]["USDT"]["quantity"] == "10000"


def test_a_read_only_key_reads_the_portfolio(owner):
    publish({"BTC/USDT": "65000"})
    paper_account(owner)
    _, raw = api_key_create(actor=TEST_ACTOR, user=owner, name="Dashboard", scopes=["read"])
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert reader.get(PORTFOLIO).json()["total_value"] == "10000"
    assert reader.get(HISTORY).status_code == 200
