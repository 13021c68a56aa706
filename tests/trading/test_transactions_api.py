"""/api/v1/transactions/ and /api/v1/trades/ with their CSV exports: every deposit, trade, fee and
reset of your accounts, filtered as on the transactions page; files hold every matching row."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from tests.trading.helpers import paper_account, publish
from trading.models import Fill, LedgerEntry

pytestmark = pytest.mark.django_db
TRANSACTIONS = "/api/v1/transactions/"
TRADES = "/api/v1/trades/"


@pytest.fixture
def trader(owner_jwt, owner):
    """The owner bought 0.01 BTC and sold 0.004 of it on their paper account."""
    publish({"BTC/USDT": "65000"})
    paper_account(owner)
    for side, quantity in (("buy", "0.01"), ("sell", "0.004")):
        order = {"symbol": "BTC/USDT", "side": side, "type": "market", "quantity": quantity}
        assert owner_jwt.post("/api/v1/orders/", order, format="json").status_code == 201
    return owner_jwt


def rows_of(answer) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/csv")
    assert answer["Content-Disposition"].startswith('attachment; filename="cryptovault-')
    return list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))


def test_transactions_list_every_entry_newest_first(trader, owner):
    body = trader.get(TRANSACTIONS).json()

    entries = LedgerEntry.objects.filter(account__user=owner).order_by("-created_at", "-id")
    assert body["count"] == entries.count() == 7, "deposit, then per fill: base, quote and fee"
    assert [row["id"] for row in body["results"]] == [entry.pk for entry in entries]
    assert body["results"][-1]["kind"] == "deposit" and body["results"][-1]["amount"] == "10000"
    assert {row["kind"] for row in body["results"]} == {"deposit", "trade", "fee"}


def test_transactions_take_the_pages_filters(trader):
    def kinds(query: str) -> list[tuple[str, str]]:
        answer = trader.get(f"{TRANSACTIONS}?{query}")
        assert answer.status_code == 200, answer.json()
        return [(row["kind"], row["asset"]) for row in answer.json()["results"]]

    assert kinds("kind=fee") == [("fee", "USDT"), ("fee", "USDT")]
    assert kinds("asset=btc") == [("trade", "BTC"), ("trade", "BTC")]
    assert kinds("created_after=2000-01-01&kind=deposit") == [("deposit", "USDT")]
    assert kinds("created_before=2000-01-01") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("kind=bonus", "kind"), ("asset=B%20T%20C", "asset"), ("created_after=yesterday", "created_after")],
)
def test_a_bad_filter_is_a_400_naming_it(trader, query, field):
    answer = trader.get(f"{TRANSACTIONS}?{query}")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]


def test_another_users_account_is_not_a_filter_you_may_use(trader, outsider, outsider_jwt, owner):
    theirs = paper_account(outsider)
    mine = LedgerEntry.objects.filter(account__user=owner).first().account_id

    assert trader.get(f"{TRANSACTIONS}?account={theirs.pk}").status_code == 400
    assert outsider_jwt.get(f"{TRANSACTIONS}?account={mine}").status_code == 400
    assert [row["kind"] for row in outsider_jwt.get(TRANSACTIONS).json()["results"]] == ["deposit"]
    assert outsider_jwt.get(TRADES).json()["count"] == 0


def test_trades_list_fills_with_their_market_side_and_fee(trader, owner):
    body = trader.get(TRADES).json()

    assert body["count"] == 2
    sold, bought = body["results"]
    assert (sold["side"], sold["quantity"], sold["symbol"]) == ("sell", "0.004", "BTC/USDT")
    assert (bought["side"], bought["quantity"]) == ("buy", "0.01")
    fill = Fill.objects.get(pk=bought["id"])
    assert Decimal(bought["fee"]) == fill.fee > 0 and bought["fee_asset"] == "USDT"
    assert [row["id"] for row in trader.get(f"{TRADES}?side=sell").json()["results"]] == [sold["id"]]


def test_the_transactions_csv_holds_every_matching_entry(trader, owner):
    everything = rows_of(trader.get(f"{TRANSACTIONS}export/"))
    fees = rows_of(trader.get(f"{TRANSACTIONS}export/?kind=fee"))

    assert len(everything) == LedgerEntry.objects.filter(account__user=owner).count()
    assert {row["kind"] for row in fees} == {"fee"} and len(fees) == 2
    assert all(Decimal(row["amount"]) < 0 for row in fees), "fees are debits"
    assert rows_of(trader.get(f"{TRANSACTIONS}export/?kind=deposit"))[0]["amount"] == "10000"


def test_the_trades_csv_holds_every_matching_fill(trader):
    rows = rows_of(trader.get(f"{TRADES}export/"))

    assert [(row["side"], row["quantity"], row["symbol"]) for row in rows] == [
        ("sell", "0.004", "BTC/USDT"),
        ("buy", "0.01", "BTC/USDT"),
    ]
    assert [row["side"] for row in rows_of(trader.get(f"{TRADES}export/?side=buy"))] == ["buy"]


def test_a_bad_filter_on_an_export_is_answered_in_json(trader):
    answer = trader.get(f"{TRADES}export/?side=long")
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/json")
    assert "side" in answer.json()["errors"]
