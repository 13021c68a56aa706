"""/api/v1/accounts/: your trading accounts, each with who runs which order type, one with its
balances, and the paper account's reset (confirmed, paper only, another user's not found)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from security.models import AuditEvent
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, publish
from trading.models import Balance, EntryKind, LedgerEntry, Order, OrderStatus, TradingAccount

pytestmark = pytest.mark.django_db
ACCOUNTS = "/api/v1/accounts/"


@pytest.fixture(autouse=True)
def prices():
    publish({"BTC/USDT": "65000"})


def key_client(user, *scopes: str) -> APIClient:
    _, raw = api_key_create(actor=TEST_ACTOR, user=user, name="Bot", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def an_exchange_account(user) -> TradingAccount:
    """The account a new connection opens (saved past its key test: no exchange is reached)."""
    keys = {"api_key": "accounts-key-0001", "secret": "accounts-secret-0001"}
    connection = connect(user, keys, nickname=f"Main {user.pk}", save_untested=True)
    return TradingAccount.objects.get(connection=connection)


def balances(account: TradingAccount) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.total, b.locked) for b in Balance.objects.filter(account=account)}


def test_the_list_shows_each_account_and_who_runs_each_order_type(owner_jwt, owner):
    paper = paper_account(owner)
    exchange = an_exchange_account(owner)

    rows = {row["id"]: row for row in owner_jwt.get(ACCOUNTS).json()["results"]}

    assert {row_id: row["kind"] for row_id, row in rows.items()} == {paper.pk: "paper", exchange.pk: "exchange"}
    assert set(rows[paper.pk]["order_executions"].values()) == {"paper"}
    assert (rows[paper.pk]["exchange"], rows[paper.pk]["connection"]) == (None, None)
    assert rows[exchange.pk]["exchange"] == "binance" and rows[exchange.pk]["connection"] == exchange.connection_id
    executions = rows[exchange.pk]["order_executions"]
    assert (executions["market"], executions["limit"]) == ("native", "native")
    assert {executions[kind] for kind in ("stop_loss", "take_profit", "stop_limit", "trailing_stop", "oco")} == {
        "emulated"
    }


def test_one_account_answers_its_balances(owner_jwt, owner):
    account = paper_account(owner)
    owner_jwt.post(
        "/api/v1/orders/",
        {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "0.01", "price": "50000"},
        format="json",
    )

    body = owner_jwt.get(f"{ACCOUNTS}{account.pk}/").json()

    usdt = {row["asset"]: row for row in body["balances"]}["USDT"]
    assert usdt["total"] == "10000"
    assert Decimal(usdt["locked"]) > 0
    assert Decimal(usdt["available"]) == Decimal(10000) - Decimal(usdt["locked"])


def test_another_users_account_is_not_found_and_cannot_be_reset(owner, outsider_jwt):
    account = paper_account(owner)
    before = list(LedgerEntry.objects.filter(account=account).values_list("id", flat=True))

    assert outsider_jwt.get(f"{ACCOUNTS}{account.pk}/").status_code == 404
    assert outsider_jwt.post(f"{ACCOUNTS}{account.pk}/reset/", {"confirm": True}, format="json").status_code == 404
    assert outsider_jwt.get(ACCOUNTS).json()["count"] == 0
    assert list(LedgerEntry.objects.filter(account=account).values_list("id", flat=True)) == before


def test_a_reset_cancels_open_orders_and_starts_the_balances_over(owner_jwt, owner):
    account = paper_account(owner)
    orders = "/api/v1/orders/"
    owner_jwt.post(orders, {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.02"}, format="json")
    resting = owner_jwt.post(
        orders,
        {"symbol": "BTC/USDT", "side": "sell", "type": "limit", "quantity": "0.01", "price": "90000"},
        format="json",
    ).json()

    answer = owner_jwt.post(f"{ACCOUNTS}{account.pk}/reset/", {"confirm": True}, format="json")

    assert answer.status_code == 200, answer.json()
    assert answer.json()["reset_at"]
    assert [(b["asset"], b["total"], b["locked"]) for b in answer.json()["balances"]] == [
        ("BTC", "0", "0"),
        ("USDT", "10000", "0"),
    ]
    assert Order.objects.get(pk=resting["id"]).status == OrderStatus.CANCELLED
    assert LedgerEntry.objects.filter(account=account, kind=EntryKind.RESET).exists(), "the history stays"
    assert AuditEvent.objects.filter(user=owner, action="paper.reset").count() == 1


@pytest.mark.parametrize("body", [{}, {"confirm": False}, {"confirm": "maybe"}], ids=["missing", "false", "junk"])
def test_a_reset_without_confirm_true_is_a_400_and_changes_nothing(owner_jwt, owner, body):
    account = paper_account(owner)
    owner_jwt.post(
        "/api/v1/orders/", {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.01"}, format="json"
    )
    before = balances(account)

    answer = owner_jwt.post(f"{ACCOUNTS}{account.pk}/reset/", body, format="json")

    assert answer.status_code == 400
    assert "confirm" in answer.json()["errors"]
    assert balances(account) == before


def test_an_exchange_account_cannot_be_reset(owner_jwt, owner):
    account = an_exchange_account(owner)

    answer = owner_jwt.post(f"{ACCOUNTS}{account.pk}/reset/", {"confirm": True}, format="json")

    assert answer.status_code == 409
    assert answer.json()["code"] == "not_a_paper_account"
    assert not LedgerEntry.objects.filter(account=account, kind=EntryKind.RESET).exists()


def test_a_read_key_lists_accounts_and_only_a_trade_key_resets(owner):
    account = paper_account(owner)

    reader = key_client(owner, "read")
    assert reader.get(ACCOUNTS).json()["count"] == 1
    assert reader.post(f"{ACCOUNTS}{account.pk}/reset/", {"confirm": True}, format="json").status_code == 403
    assert TradingAccount.objects.get(pk=account.pk).reset_at is None

    trader = key_client(owner, "trade")
    assert trader.post(f"{ACCOUNTS}{account.pk}/reset/", {"confirm": True}, format="json").status_code == 200
