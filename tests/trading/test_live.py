"""Live routing through ccxt's real Binance client against the loopback exchange emulator.

Orders are placed as a trader places them (`order_place` on the account of a real connection), so
what is proven is the whole road: the pending order committed, `create_order` with our client
order id, the exchange's answer written through the engine (its trade ids and fees), refusals read
into our words and kept visible, a timeout that leaves the order pending until the sync asks the
exchange for it, and cancelling at the exchange.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from trading import exchange_errors
from trading.errors import OrderNotCancellable, OrderRejected
from trading.exchange_errors import UNKNOWN_OUTCOME_NOTE, ExchangeCallFailed
from trading.ledger_check import check_ledger
from trading.models import Balance, Execution, Fill, LedgerEntry, Order, OrderStatus, TradingAccount
from trading.models.orders import NATIVE_TYPES, execution_for
from trading.services.accounts import exchange_account_open
from trading.services.live import account_sync, live_cancel
from trading.services.orders import order_cancel, order_place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _prices_from_the_exchange(settings):
    """Orders are judged against the emulator's prices (the exchange the account trades on), not a replay."""
    settings.MARKET_DATA_EXCHANGE = "binance"


def synced_account(user, keys) -> TradingAccount:
    """The trading account of a new Binance connection, its balances read from the exchange."""
    account = exchange_account_open(actor=TEST_ACTOR, connection=connect(user, keys))
    assert account_sync(actor=TEST_ACTOR, account=account).ok
    return account


def balance(account: TradingAccount, asset: str) -> Balance:
    return Balance.objects.get(account=account, asset=asset)


def entries_sum(account: TradingAccount, asset: str) -> Decimal:
    return LedgerEntry.objects.filter(account=account, asset=asset).aggregate(s=Sum("amount"))["s"] or Decimal(0)


def exchange_balance(emulator, keys, asset: str, exchange: str = "binance") -> tuple[Decimal, Decimal]:
    return emulator.balance(exchange, keys["api_key"], asset)


def exchange_order(emulator, client_id: str):
    state = emulator.states["binance"]
    with state.lock:
        return next((o for o in state.orders.values() if o.client_id == client_id), None)


def place(account, **fields):
    return order_place(actor=TEST_ACTOR, account=account, **{"symbol": "BTC/USDT", "side": "buy", **fields}).order


def assert_ledger_matches_exchange(account, emulator, keys, *assets: str, exchange: str = "binance") -> None:
    for asset in assets:
        free, locked = exchange_balance(emulator, keys, asset, exchange)
        row = balance(account, asset)
        assert row.total == free + locked, asset
        assert entries_sum(account, asset) == row.total, asset
    report = check_ledger(account_ids=[account.pk])
    assert report.ok, report.drifts


# --- which types go to the exchange -----------------------------------------------------------------
def test_market_and_limit_are_the_exchanges_and_the_other_types_are_held_here(owner, emulated_exchanges, binance_keys):
    account = exchange_account_open(actor=TEST_ACTOR, connection=connect(owner, binance_keys))

    assert {"market", "limit"} == NATIVE_TYPES
    assert execution_for(account, "market") == execution_for(account, "limit") == Execution.NATIVE
    for held in ("stop_loss", "take_profit", "stop_limit", "trailing_stop", "oco"):
        assert execution_for(account, held) == Execution.EMULATED


# --- placing ----------------------------------------------------------------------------------------
def test_a_live_market_buy_is_filled_on_the_exchange_and_written_in_the_ledger_as_the_exchange_did_it(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)

    order = place(account, type="market", quantity=Decimal("0.001"), client_order_id="my-first-live-buy")

    order.refresh_from_db()
    assert (order.status, order.execution) == (OrderStatus.FILLED, Execution.NATIVE)
    remote = exchange_order(exchange_emulator, "my-first-live-buy")
    assert remote is not None and order.exchange_order_id == str(remote.id), "sent with our client order id"
    fill = Fill.objects.get(order=order)
    assert fill.exchange_trade_id and fill.quantity == Decimal("0.001")
    assert fill.price == exchange_emulator.price("binance", "BTC")
    assert (fill.fee, fill.fee_asset) == (Decimal("0.000001"), "BTC"), "the exchange's fee, in the asset it took"
    assert order.reserved_amount == 0 and balance(account, "USDT").locked == 0
    assert_ledger_matches_exchange(account, exchange_emulator, binance_keys, "USDT", "BTC")
    again = account_sync(actor=TEST_ACTOR, account=account)
    assert (again.adjustments, again.fills) == (0, 0), "the ledger already says what the exchange says"


def test_a_live_limit_order_rests_at_the_exchange_then_fills_when_the_price_reaches_it_and_the_sync_records_it(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)
    price = exchange_emulator.price("binance", "BTC") - 1000

    order = place(account, type="limit", quantity=Decimal("0.002"), price=price, client_order_id="dip-buy")

    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN and order.exchange_order_id
    assert exchange_balance(exchange_emulator, binance_keys, "USDT")[1] == Decimal("0.002") * price
    assert balance(account, "USDT").locked >= Decimal("0.002") * price, "reserved here while it rests"
    assert not Fill.objects.filter(order=order).exists()

    exchange_emulator.set_price("binance", "BTC", price - 5)
    result = account_sync(actor=TEST_ACTOR, account=account)

    order.refresh_from_db()
    assert (result.ok, result.fills, order.status) == (True, 1, OrderStatus.FILLED)
    fill = Fill.objects.get(order=order)
    assert (fill.price, fill.quantity, fill.is_maker) == (price, Decimal("0.002"), True)
    assert balance(account, "USDT").locked == 0
    assert_ledger_matches_exchange(account, exchange_emulator, binance_keys, "USDT", "BTC")
    again = account_sync(actor=TEST_ACTOR, account=account)
    assert (again.fills, again.adjustments, Fill.objects.filter(order=order).count()) == (0, 0, 1), "idempotent"


def test_an_ioc_limit_the_exchange_cannot_fill_at_once_is_expired_and_its_reservation_released(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)
    price = exchange_emulator.price("binance", "BTC") - 1000

    order = place(account, type="limit", quantity=Decimal("0.002"), price=price, time_in_force="ioc")

    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED and order.reserved_amount == 0
    assert balance(account, "USDT").locked == 0


# --- cancelling --------------------------------------------------------------------------------------
def test_cancelling_a_live_limit_order_cancels_it_at_the_exchange_and_frees_the_funds(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)
    order = place(account, type="limit", quantity=Decimal("0.002"), price=Decimal("50000"), client_order_id="cancel-me")

    cancelled = order_cancel(actor=TEST_ACTOR, order=order)

    assert cancelled.status == OrderStatus.CANCELLED and cancelled.reserved_amount == 0
    assert exchange_order(exchange_emulator, "cancel-me").status == "CANCELED"
    assert exchange_balance(exchange_emulator, binance_keys, "USDT") == (Decimal("10000"), Decimal(0))
    assert balance(account, "USDT").locked == 0


def test_cancelling_an_order_the_exchange_filled_meanwhile_records_the_fill_and_says_it_cannot_be_cancelled(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)
    order = place(account, type="limit", quantity=Decimal("0.002"), price=Decimal("50000"))
    exchange_emulator.set_price("binance", "BTC", "49990")

    with pytest.raises(OrderNotCancellable) as refused:
        live_cancel(order=order)

    order.refresh_from_db()
    assert refused.value.status_code == 409 and "filled" in refused.value.message
    assert order.status == OrderStatus.FILLED and Fill.objects.filter(order=order).count() == 1
    assert_ledger_matches_exchange(account, exchange_emulator, binance_keys, "USDT", "BTC")


def test_a_cancel_whose_follow_up_read_fails_is_a_503_and_the_sync_records_the_fill_later(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)
    order = place(account, type="limit", quantity=Decimal("0.002"), price=Decimal("50000"))
    exchange_emulator.set_price("binance", "BTC", "49990")  # filled there; the cancel will say "unknown order"
    exchange_emulator.set_fault("binance", "maintenance", only="GET /api/v3/order")

    with pytest.raises(ExchangeCallFailed) as failed:
        order_cancel(actor=TEST_ACTOR, order=order)

    order.refresh_from_db()
    assert failed.value.status_code == 503, "the trader is told to try again, not shown a 500"
    assert order.is_open, "nothing changed here while the exchange could not be read"
    exchange_emulator.set_fault("binance", None)
    assert account_sync(actor=TEST_ACTOR, account=account).ok
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED and Fill.objects.filter(order=order).count() == 1


# --- refusals ----------------------------------------------------------------------------------------
def test_an_exchange_without_the_funds_rejects_the_order_with_a_clear_422_and_the_order_is_kept_rejected(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)
    exchange_emulator.set_balances("binance", binance_keys["api_key"], {"USDT": "20", "BTC": "0.5"})  # withdrawn there

    with pytest.raises(OrderRejected) as rejected:
        place(account, type="market", quantity=Decimal("0.01"), client_order_id="too-big")

    assert rejected.value.status_code == 422
    assert rejected.value.reject_code == exchange_errors.INSUFFICIENT_BALANCE
    assert "insufficient balance on the exchange" in rejected.value.message
    order = Order.objects.get(pk=rejected.value.order_id)
    assert (order.status, order.reject_code, order.client_order_id) == ("rejected", "insufficient_balance", "too-big")
    assert order.reject_reason == rejected.value.message and order.reserved_amount == 0
    assert balance(account, "USDT").locked == 0 and not Fill.objects.exists()
    assert exchange_order(exchange_emulator, "too-big") is None


def test_an_order_under_the_exchanges_new_minimum_is_rejected_for_its_lot_size(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)
    exchange_emulator.set_limits("binance", "BTC", min_qty="0.01")  # the exchange raised its minimum

    with pytest.raises(OrderRejected) as rejected:
        place(account, type="market", quantity=Decimal("0.001"))

    assert (rejected.value.reject_code, rejected.value.extra["reject_code"]) == ("lot_size", "lot_size")
    assert "quantity" in rejected.value.message
    assert Order.objects.get(pk=rejected.value.order_id).status == OrderStatus.REJECTED


@pytest.mark.parametrize(("fault", "code"), [("rate_limited", "rate_limited"), ("maintenance", "exchange_unavailable")])
def test_an_exchange_that_answers_rate_limited_or_in_maintenance_rejects_the_order_in_our_words(
    owner, emulated_exchanges, exchange_emulator, binance_keys, fault, code
):
    account = synced_account(owner, binance_keys)
    exchange_emulator.set_fault("binance", fault, only="POST /api/v3/order")

    with pytest.raises(OrderRejected) as rejected:
        place(account, type="market", quantity=Decimal("0.001"))

    assert rejected.value.reject_code == code
    assert rejected.value.message == exchange_errors.MESSAGES[code]
    assert "http" not in rejected.value.message.lower(), "our words, not the exception's URL or body"


# --- nobody knows ------------------------------------------------------------------------------------
def test_a_timeout_leaves_the_order_pending_and_the_sync_finds_it_at_the_exchange_by_client_order_id(
    owner, emulated_exchanges, exchange_emulator, binance_keys, settings
):
    account = synced_account(owner, binance_keys)
    settings.EXCHANGE_TIMEOUT_SECONDS = 1
    exchange_emulator.set_fault("binance", "slow", seconds=1.5, only="POST /api/v3/order")

    order = place(account, type="market", quantity=Decimal("0.001"), client_order_id="lost-in-transit")

    order.refresh_from_db()
    assert (order.status, order.reject_reason) == (OrderStatus.PENDING, UNKNOWN_OUTCOME_NOTE), "kept, never a 500"
    exchange_emulator.set_fault("binance", None)
    deadline = time.monotonic() + 5
    while exchange_order(exchange_emulator, "lost-in-transit") is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the exchange carries the request out once it wakes

    result = account_sync(actor=TEST_ACTOR, account=account)

    order.refresh_from_db()
    assert result.ok and result.fills == 1
    assert order.status == OrderStatus.FILLED and order.exchange_order_id and order.reject_reason == ""
    assert_ledger_matches_exchange(account, exchange_emulator, binance_keys, "USDT", "BTC")


def test_an_order_the_exchange_never_received_stays_pending_then_is_rejected_as_not_received(
    owner, emulated_exchanges, exchange_emulator, binance_keys, settings
):
    account = synced_account(owner, binance_keys)
    settings.EXCHANGE_TIMEOUT_SECONDS = 1
    exchange_emulator.set_fault("binance", "slow", seconds=30, only="POST /api/v3/order")
    order = place(account, type="market", quantity=Decimal("0.001"), client_order_id="never-arrived")
    exchange_emulator.stop()  # the request still waiting at the exchange is dropped, never carried out
    exchange_emulator.start()
    exchange_emulator.set_fault("binance", None)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and order.reject_reason == UNKNOWN_OUTCOME_NOTE

    account_sync(actor=TEST_ACTOR, account=account)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING, "too early to say: the request might still arrive"

    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    account_sync(actor=TEST_ACTOR, account=account)

    order.refresh_from_db()
    assert (order.status, order.reject_code) == (OrderStatus.REJECTED, exchange_errors.NOT_RECEIVED)
    assert order.reserved_amount == 0 and balance(account, "USDT").locked == 0
    assert exchange_order(exchange_emulator, "never-arrived") is None


def test_the_api_answers_an_exchange_refusal_with_a_422_naming_the_order_which_stays_readable_as_rejected(
    owner, owner_jwt, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_account(owner, binance_keys)
    exchange_emulator.set_balances("binance", binance_keys["api_key"], {"USDT": "20"})

    answer = owner_jwt.post(
        "/api/v1/orders/",
        {"account": account.pk, "symbol": "BTC-USDT", "side": "buy", "type": "market", "quantity": "0.01"},
        format="json",
    )

    assert answer.status_code == 422, answer.content
    body = answer.json()
    assert (body["code"], body["reject_code"]) == ("order_rejected", "insufficient_balance")
    assert body["detail"] == exchange_errors.MESSAGES["insufficient_balance"]
    kept = owner_jwt.get(f"/api/v1/orders/{body['order_id']}/").json()
    assert (kept["status"], kept["reject_code"]) == ("rejected", "insufficient_balance")


# --- KuCoin: a placement answers with the order id only ------------------------------------------------
def test_kucoin_orders_are_placed_filled_cancelled_and_refused_the_same_way(
    owner, emulated_exchanges, exchange_emulator, kucoin_keys
):
    account = exchange_account_open(actor=TEST_ACTOR, connection=connect(owner, kucoin_keys, exchange="kucoin"))
    assert account_sync(actor=TEST_ACTOR, account=account).ok

    bought = place(account, type="market", quantity=Decimal("0.001"), client_order_id="kc-market")
    resting = place(account, type="limit", quantity=Decimal("0.002"), price=Decimal("50000"), client_order_id="kc-rest")
    cancelled = order_cancel(actor=TEST_ACTOR, order=resting)
    assert_ledger_matches_exchange(account, exchange_emulator, kucoin_keys, "USDT", "BTC", exchange="kucoin")
    exchange_emulator.set_balances("kucoin", kucoin_keys["api_key"], {"USDT": "1", "BTC": "0.5"})
    with pytest.raises(OrderRejected) as rejected:
        place(account, type="market", quantity=Decimal("0.001"), client_order_id="kc-broke")

    bought.refresh_from_db()
    assert bought.status == OrderStatus.FILLED and Fill.objects.get(order=bought).exchange_trade_id
    state = exchange_emulator.states["kucoin"]
    assert {o.client_id: o.status for o in state.orders.values()} == {"kc-market": "FILLED", "kc-rest": "CANCELED"}
    assert cancelled.status == OrderStatus.CANCELLED
    assert rejected.value.reject_code == exchange_errors.INSUFFICIENT_BALANCE
    assert Order.objects.get(client_order_id="kc-broke").status == OrderStatus.REJECTED


def test_a_market_buy_by_quote_amount_that_trades_twice_records_both_trades_and_is_filled_once_the_exchange_says_so(
    owner, emulated_exchanges, binance_keys
):
    from trading.services import live

    account = synced_account(owner, binance_keys)
    order = Order.objects.create(
        user=owner,
        account=account,
        client_order_id="by-quote",
        request_fingerprint="by-quote",
        symbol="BTC/USDT",
        base_asset="BTC",
        quote_asset="USDT",
        side="buy",
        type="market",
        quote_amount=Decimal("1000"),
        status=OrderStatus.PENDING,
        execution=Execution.NATIVE,
    )
    btc_before = balance(account, "BTC").total
    # Binance's FULL answer to a market buy for 1,000 USDT that crossed two price levels.
    answer = {
        "symbol": "BTCUSDT",
        "orderId": 777,
        "orderListId": -1,
        "clientOrderId": "by-quote",
        "transactTime": 1764547200000,
        "price": "0.00000000",
        "origQty": "0.01999000",
        "executedQty": "0.01999000",
        "cummulativeQuoteQty": "999.59990000",
        "status": "FILLED",
        "timeInForce": "GTC",
        "type": "MARKET",
        "side": "BUY",
        "fills": [
            {"price": "50000", "qty": "0.01", "commission": "0.00001", "commissionAsset": "BTC", "tradeId": 1},
            {"price": "50010", "qty": "0.00999", "commission": "0.00000999", "commissionAsset": "BTC", "tradeId": 2},
        ],
    }

    with live.exchange_session(account) as (_spec, client):
        client.load_markets()
        remote = client.parse_order(answer, client.market("BTC/USDT"))
        live._reconcile(client, order, remote, trades=remote["trades"], actor=TEST_ACTOR)

    order.refresh_from_db()
    assert Fill.objects.filter(order=order).count() == 2
    assert order.status == OrderStatus.FILLED and order.filled_quantity == Decimal("0.01999")
    assert order.filled_quote == Decimal("999.5999")
    assert balance(account, "BTC").total - btc_before == Decimal("0.01999") - Decimal("0.00001999")
