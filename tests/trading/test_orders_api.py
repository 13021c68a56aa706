"""/api/v1/orders/: place, read, list and cancel orders as a script would, with a session, a JWT or a
personal API key. Bad input is a 4xx naming the field and leaves the ledger as it was; another
user's order is not found and stays as it was; the same client_order_id places once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from tests.cryptovault.test_openapi_conformance import api_schema, wsgi_app  # noqa: F401 - fixtures
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, publish
from trading.models import Balance, LedgerEntry, Order, OrderStatus

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/orders/"
MARKET_BUY = {"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.01"}
RESTING_BUY = {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "0.01", "price": "50000"}


@pytest.fixture(autouse=True)
def prices():
    """BTC at 65,000 and ETH at 3,000: the last tick the paper engine fills at."""
    return publish({"BTC/USDT": "65000", "ETH/USDT": "3000"})


def key_client(user, *scopes: str) -> APIClient:
    _, raw = api_key_create(actor=TEST_ACTOR, user=user, name="Bot", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def money_of(user) -> dict[str, tuple[Decimal, Decimal]]:
    """Every balance of the user's accounts: (total, locked) per asset."""
    return {b.asset: (b.total, b.locked) for b in Balance.objects.visible_to(user)}


def ledger_of(user) -> list[tuple[str, str, Decimal]]:
    return list(LedgerEntry.objects.visible_to(user).order_by("id").values_list("asset", "kind", "amount"))


# --- placing ----------------------------------------------------------------------------------------------
def test_a_market_order_placed_with_a_jwt_fills_at_once_in_the_paper_account(owner_jwt, owner):
    account = paper_account(owner)

    answer = owner_jwt.post(ORDERS, MARKET_BUY, format="json")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    order = Order.objects.get(user=owner)
    assert body["id"] == order.pk and body["account"] == account.pk, "no account given: the paper account"
    assert (body["status"], body["execution"], body["side"], body["type"]) == ("filled", "paper", "buy", "market")
    assert body["filled_quantity"] == "0.01", "decimals are plain strings"
    assert Decimal(body["average_price"]) == Decimal("65032.5"), "65,000 plus 5 bps of slippage"
    assert [fill["quantity"] for fill in body["fills"]] == ["0.01"]
    assert body["legs"] == []
    btc_total, _ = money_of(owner)["BTC"]
    usdt_total, _ = money_of(owner)["USDT"]
    assert btc_total == Decimal("0.01")
    assert usdt_total == Decimal(10000) - Decimal("650.325") - Decimal(body["fee_total"])


def test_an_order_names_its_account_and_a_resting_limit_order_reserves_its_quote(owner_jwt, owner):
    account = paper_account(owner)

    answer = owner_jwt.post(ORDERS, {**RESTING_BUY, "account": account.pk, "client_order_id": "dip-1"}, format="json")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["status"], body["client_order_id"], body["reserved_asset"]) == ("open", "dip-1", "USDT")
    assert Decimal(body["reserved_amount"]) >= Decimal(500), "0.01 x 50,000 plus the taker fee"
    assert money_of(owner)["USDT"] == (Decimal(10000), Decimal(body["reserved_amount"]))
    assert owner_jwt.get(f"{ORDERS}{body['id']}/").json() == body


def test_an_oco_answers_its_limit_leg_with_both_legs(owner_jwt, owner):
    paper_account(owner)
    assert owner_jwt.post(ORDERS, {**MARKET_BUY, "quantity": "0.02"}, format="json").status_code == 201

    answer = owner_jwt.post(
        ORDERS,
        {
            "symbol": "BTC-USDT",
            "side": "sell",
            "type": "oco",
            "quantity": "0.02",
            "price": "70000",
            "stop_price": "60000",
        },
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["type"], body["oco_leg"]) == ("oco", "limit")
    legs = body["legs"]
    assert [leg["oco_leg"] for leg in legs] == ["limit", "stop"]
    assert {leg["oco_group"] for leg in legs} == {body["oco_group"]}
    assert legs[0]["price"] == "70000" and legs[1]["stop_price"] == "60000"
    assert legs[1]["client_order_id"] == body["client_order_id"] + ":stop"


def test_a_null_account_or_amount_is_as_good_as_none(owner_jwt, owner):
    account = paper_account(owner)
    answer = owner_jwt.post(ORDERS, {**MARKET_BUY, "account": None, "price": None, "extra": "ignored"}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["account"] == account.pk


def test_a_json_number_that_arrives_exactly_is_accepted(owner_jwt, owner):
    paper_account(owner)
    answer = owner_jwt.post(ORDERS, {**MARKET_BUY, "quantity": 0.01}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["quantity"] == "0.01"


# --- bad input --------------------------------------------------------------------------------------------
BAD_INPUT = [
    pytest.param({"symbol": "DOGE/EUR"}, "symbol", "do not follow the market", id="unknown symbol"),
    pytest.param({"quantity": "0"}, "quantity", "greater than 0", id="zero quantity"),
    pytest.param({"quantity": "-0.01"}, "quantity", "greater than 0", id="negative quantity"),
    pytest.param({"quantity": "0.0000000000000000001"}, "quantity", "18 decimal places", id="absurdly precise"),
    pytest.param({"quantity": "0.010000001"}, "quantity", "BTC/USDT", id="finer than the market's step"),
    pytest.param({"quantity": "0.000000001"}, "quantity", "minimum for BTC/USDT is", id="below the minimum"),
    pytest.param({"quantity": "0.00001"}, "quantity", "worth at least", id="below the minimum notional"),
    pytest.param({"quantity": 0.12345678901234567}, "quantity", "as a string", id="a float that lost digits"),
    pytest.param({"quantity": "a lot"}, "quantity", "number", id="not a number"),
    pytest.param({"quantity": "NaN"}, "quantity", "number", id="NaN"),
    pytest.param({"quantity": "1" * 40}, "quantity", "digits", id="too many digits"),
    pytest.param({"type": "limit"}, "price", "needs a price", id="limit without a price"),
    pytest.param({"quote_amount": "100"}, "quantity", "not both", id="quantity and quote amount"),
    pytest.param(
        {"type": "stop_loss", "stop_price": "60000", "time_in_force": "ioc"},
        "time_in_force",
        "market and limit orders only",
        id="ioc stop",
    ),
    pytest.param({"side": "long"}, "side", "valid choice", id="unknown side"),
    pytest.param({"type": "iceberg"}, "type", "valid choice", id="unknown type"),
    pytest.param({"client_order_id": "has spaces in it"}, "client_order_id", "36", id="bad client order id"),
    pytest.param({"quantity": "1000"}, "quantity", "Insufficient USDT", id="more than the account holds"),
]


@pytest.mark.parametrize(("change", "field", "says"), BAD_INPUT)
def test_bad_input_is_a_400_naming_the_field_and_the_ledger_is_untouched(owner_jwt, owner, change, field, says):
    paper_account(owner)
    ledger, money = ledger_of(owner), money_of(owner)

    answer = owner_jwt.post(ORDERS, {**MARKET_BUY, **change}, format="json")

    assert answer.status_code == 400, answer.json()
    message = " ".join(answer.json()["errors"][field])
    assert says in message, message
    assert not Order.objects.filter(user=owner).exists()
    assert (ledger_of(owner), money_of(owner)) == (ledger, money)


def test_insufficient_funds_answers_the_numbers(owner_jwt, owner):
    paper_account(owner)

    body = owner_jwt.post(ORDERS, {**MARKET_BUY, "quantity": "1"}, format="json").json()

    assert body["code"] == "insufficient_funds"
    assert body["asset"] == "USDT"
    assert Decimal(body["available"]) == Decimal(10000)
    assert Decimal(body["required"]) > Decimal(65000)


def test_an_account_that_is_not_yours_is_a_400_on_account(owner_jwt, owner, outsider):
    paper_account(owner)
    theirs = paper_account(outsider)

    answer = owner_jwt.post(ORDERS, {**MARKET_BUY, "account": theirs.pk}, format="json")

    assert answer.status_code == 400
    assert "no trading account" in answer.json()["errors"]["account"][0]
    assert not Order.objects.exists()
    assert money_of(outsider)["USDT"] == (Decimal(10000), Decimal(0))


def test_without_a_paper_account_an_order_must_name_its_account(owner_jwt):
    answer = owner_jwt.post(ORDERS, MARKET_BUY, format="json")
    assert answer.status_code == 400
    assert "verify your email" in answer.json()["errors"]["account"][0]


# --- idempotency ------------------------------------------------------------------------------------------
def test_the_same_client_order_id_and_details_answer_the_same_order_once(owner_jwt, owner):
    paper_account(owner)
    first = owner_jwt.post(ORDERS, {**MARKET_BUY, "client_order_id": "run-42"}, format="json")
    ledger = ledger_of(owner)

    again = owner_jwt.post(ORDERS, {**MARKET_BUY, "quantity": "0.0100", "client_order_id": "run-42"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json(), "the same order, as it is now"
    assert Order.objects.filter(user=owner).count() == 1
    assert ledger_of(owner) == ledger, "bought once"


def test_the_same_client_order_id_with_other_details_is_a_409_and_places_nothing(owner_jwt, owner):
    paper_account(owner)
    owner_jwt.post(ORDERS, {**MARKET_BUY, "client_order_id": "run-43"}, format="json")
    ledger = ledger_of(owner)

    answer = owner_jwt.post(ORDERS, {**MARKET_BUY, "quantity": "0.02", "client_order_id": "run-43"}, format="json")

    assert answer.status_code == 409
    assert answer.json()["code"] == "client_order_id_conflict"
    assert Order.objects.filter(user=owner).count() == 1
    assert ledger_of(owner) == ledger


def test_a_client_order_id_is_per_user(owner_jwt, owner, outsider_jwt, outsider):
    paper_account(owner), paper_account(outsider)
    mine = owner_jwt.post(ORDERS, {**MARKET_BUY, "client_order_id": "same"}, format="json")
    theirs = outsider_jwt.post(ORDERS, {**MARKET_BUY, "quantity": "0.02", "client_order_id": "same"}, format="json")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


# --- reading, listing, cancelling -------------------------------------------------------------------------
def test_cancelling_an_open_order_releases_its_reservation(owner_jwt, owner):
    paper_account(owner)
    placed = owner_jwt.post(ORDERS, RESTING_BUY, format="json").json()

    answer = owner_jwt.post(f"{ORDERS}{placed['id']}/cancel/")

    assert answer.status_code == 200, answer.json()
    assert (answer.json()["status"], answer.json()["reserved_amount"]) == ("cancelled", "0")
    assert money_of(owner)["USDT"] == (Decimal(10000), Decimal(0))


def test_cancelling_a_filled_order_is_a_409_and_changes_nothing(owner_jwt, owner):
    paper_account(owner)
    filled = owner_jwt.post(ORDERS, MARKET_BUY, format="json").json()
    ledger, money = ledger_of(owner), money_of(owner)

    answer = owner_jwt.post(f"{ORDERS}{filled['id']}/cancel/")

    assert answer.status_code == 409
    assert answer.json()["code"] == "order_not_cancellable"
    assert Order.objects.get(pk=filled["id"]).status == OrderStatus.FILLED
    assert (ledger_of(owner), money_of(owner)) == (ledger, money)


def test_another_users_order_is_not_found_and_stays_open(owner_jwt, owner, outsider_jwt):
    paper_account(owner)
    placed = owner_jwt.post(ORDERS, RESTING_BUY, format="json").json()
    money = money_of(owner)

    assert outsider_jwt.get(f"{ORDERS}{placed['id']}/").status_code == 404
    assert outsider_jwt.post(f"{ORDERS}{placed['id']}/cancel/").status_code == 404
    assert outsider_jwt.get(ORDERS).json()["count"] == 0
    assert Order.objects.get(pk=placed["id"]).status == OrderStatus.OPEN
    assert money_of(owner) == money


def test_the_list_takes_the_order_pages_filters(owner_jwt, owner):
    paper_account(owner)
    filled = owner_jwt.post(ORDERS, MARKET_BUY, format="json").json()
    resting = owner_jwt.post(ORDERS, RESTING_BUY, format="json").json()

    def ids(query: str) -> list[int]:
        answer = owner_jwt.get(f"{ORDERS}?{query}")
        assert answer.status_code == 200, answer.json()
        return [row["id"] for row in answer.json()["results"]]

    assert ids("") == [resting["id"], filled["id"]], "newest first"
    assert ids("open=true") == [resting["id"]]
    assert ids("status=filled&type=market") == [filled["id"]]
    assert ids("symbol=ETH-USDT") == []
    bad = owner_jwt.get(f"{ORDERS}?status=sideways")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]


# --- ways in ----------------------------------------------------------------------------------------------
def test_a_signed_in_browser_places_and_cancels_with_its_csrf_token(owner):
    paper_account(owner)
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(owner)

    assert browser.post(ORDERS, RESTING_BUY, format="json").status_code == 403, "no CSRF token"
    assert not Order.objects.exists()
    secret = get_random_string(32)
    browser.cookies["csrftoken"] = secret
    placed = browser.post(ORDERS, RESTING_BUY, format="json", HTTP_X_CSRFTOKEN=secret)
    assert placed.status_code == 201, placed.json()
    cancelled = browser.post(f"{ORDERS}{placed.json()['id']}/cancel/", HTTP_X_CSRFTOKEN=secret)
    assert cancelled.json()["status"] == "cancelled"


def test_an_api_key_with_trade_places_reads_and_cancels(owner):
    paper_account(owner)
    bot = key_client(owner, "read", "trade")

    placed = bot.post(ORDERS, RESTING_BUY, format="json")
    assert placed.status_code == 201, placed.json()
    order_id = placed.json()["id"]
    assert bot.get(f"{ORDERS}{order_id}/").status_code == 200
    assert bot.post(f"{ORDERS}{order_id}/cancel/").json()["status"] == "cancelled"


def test_a_read_only_api_key_reads_orders_but_cannot_place_or_cancel_them(owner, owner_jwt):
    paper_account(owner)
    placed = owner_jwt.post(ORDERS, RESTING_BUY, format="json").json()
    reader = key_client(owner, "read")

    assert reader.get(ORDERS).json()["count"] == 1
    refused = reader.post(ORDERS, MARKET_BUY, format="json")
    assert refused.status_code == 403 and "'trade' scope" in refused.json()["detail"]
    assert reader.post(f"{ORDERS}{placed['id']}/cancel/").status_code == 403
    assert Order.objects.get(pk=placed["id"]).status == OrderStatus.OPEN
    assert Order.objects.count() == 1


def test_a_trade_only_api_key_places_but_cannot_read(owner):
    paper_account(owner)
    trader = key_client(owner, "trade")
    assert trader.post(ORDERS, RESTING_BUY, format="json").status_code == 201
    assert trader.get(ORDERS).status_code == 403


# --- the schema -------------------------------------------------------------------------------------------
def test_real_answers_of_every_trading_operation_match_the_schema(api_schema, owner, settings):  # noqa: F811
    """Schemathesis's generated orders rarely name a followed market, so the answers a trader actually
    gets (placed, replayed, conflicting, an OCO with its legs, cancelled, reset, files, 429) are
    checked against the served schema here, through the production WSGI handler."""
    from tests.cryptovault.test_openapi_conformance import CONFORMANCE_CHECKS, jwt_headers
    from trading.services.portfolio import equity_snapshot_take

    account = paper_account(owner)
    equity_snapshot_take(user=owner)
    headers = jwt_headers(api_schema, owner.email)

    def call(method: str, path: str, expected: int, body=None, **path_parameters):
        operation = api_schema[path][method]
        kwargs = {"body": body, "media_type": "application/json"} if body is not None else {}
        case = operation.Case(path_parameters=path_parameters or None, **kwargs)
        answer = case.call_and_validate(headers=headers, checks=CONFORMANCE_CHECKS)
        assert answer.status_code == expected, answer.text
        return None if path.endswith("/export/") else answer.json()

    placed = call("POST", "/api/v1/orders/", 201, {**MARKET_BUY, "quantity": "0.02", "client_order_id": "s-1"})
    call("POST", "/api/v1/orders/", 200, {**MARKET_BUY, "quantity": "0.02", "client_order_id": "s-1"})
    call("POST", "/api/v1/orders/", 409, {**MARKET_BUY, "client_order_id": "s-1"})
    call("POST", "/api/v1/orders/", 400, {**MARKET_BUY, "quantity": "5"})
    call("POST", "/api/v1/orders/", 400, {**MARKET_BUY, "quantity": "-1", "price": "x"})
    oco = {**MARKET_BUY, "side": "sell", "type": "oco", "price": "70000", "stop_price": "60000"}
    leg = call("POST", "/api/v1/orders/", 201, oco)
    assert len(leg["legs"]) == 2
    call("GET", "/api/v1/orders/{order_id}/", 200, order_id=leg["id"])
    call("GET", "/api/v1/orders/", 200)
    call("POST", "/api/v1/orders/{order_id}/cancel/", 200, order_id=leg["legs"][1]["id"])
    call("POST", "/api/v1/orders/{order_id}/cancel/", 409, order_id=placed["id"])
    call("GET", "/api/v1/orders/{order_id}/", 404, order_id=placed["id"] + 1000)
    call("GET", "/api/v1/accounts/", 200)
    call("GET", "/api/v1/accounts/{account_id}/", 200, account_id=account.pk)
    call("GET", "/api/v1/portfolio/", 200)
    call("GET", "/api/v1/portfolio/history/", 200)
    call("GET", "/api/v1/trades/", 200)
    call("GET", "/api/v1/transactions/", 200)
    call("GET", "/api/v1/trades/export/", 200)
    call("GET", "/api/v1/transactions/export/", 200)
    call("POST", "/api/v1/accounts/{account_id}/reset/", 400, {"confirm": False}, account_id=account.pk)
    call("POST", "/api/v1/accounts/{account_id}/reset/", 200, {"confirm": True}, account_id=account.pk)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "orders": "5/m"}  # six placements counted above: refused
    call("POST", "/api/v1/orders/", 429, RESTING_BUY)
