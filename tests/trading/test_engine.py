"""The engine: `fill` (the one fill writer, shared with the exchange sync) and `evaluate_tick` (every
price tick), including the orders it holds for exchange accounts and what reaches the owner's pages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.live_events import GroupListener
from tests.trading.helpers import held, paper_account, tick
from trading.ledger_check import check_ledger
from trading.models import Execution, Fill, Order, OrderStatus, TradingAccount
from trading.services.engine import OrderNotFillable, evaluate_tick, fill
from trading.services.live import account_sync
from trading.services.orders import order_cancel, order_place

pytestmark = pytest.mark.django_db


def place(account, **fields) -> Order:
    defaults = {"symbol": "BTC/USDT", "side": "buy", "quantity": "0.1"}
    return order_place(actor=TEST_ACTOR, account=account, **{**defaults, **fields}).order


def test_partial_fills_release_the_reservation_in_proportion_and_complete_the_order(account):
    order = place(account, type="limit", price="40000")
    reserved = order.reserved_amount  # 0.1 x 40,000 x 1.001 = 4,004

    fill(order=order, price=Decimal("40000"), quantity=Decimal("0.04"), is_maker=True, fee_rate=Decimal("0.001"))

    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_FILLED and order.filled_quantity == Decimal("0.04")
    assert order.reserved_amount == reserved * Decimal("0.6")
    assert held(account, "USDT").locked == order.reserved_amount
    assert check_ledger().ok

    fill(order=order, price=Decimal("39000"), is_maker=True, fee_rate=Decimal("0.001"))  # the rest: 0.06

    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED and order.filled_quantity == Decimal("0.1")
    assert order.average_price == Decimal("39400"), "(0.04 x 40,000 + 0.06 x 39,000) / 0.1"
    assert order.reserved_amount == 0 and held(account, "USDT").locked == 0
    assert held(account, "BTC").cost_basis == Decimal("39439.4"), "3,940 paid + 3.94 fees, per 0.1 BTC"
    assert check_ledger().ok


def test_an_exchange_trade_recorded_twice_is_one_fill(account):
    order = place(account, type="limit", price="40000")
    the_trade = {
        "price": Decimal("40000"),
        "quantity": Decimal("0.05"),
        "is_maker": True,
        "fee_rate": Decimal(0),
        "exchange_trade_id": "T-1",
        "fee": Decimal("0.00005"),
        "fee_asset": "BTC",
    }
    first = fill(order=order, **the_trade)
    again = fill(order=order, **the_trade)

    assert again.pk == first.pk and Fill.objects.filter(order=order).count() == 1
    assert held(account, "BTC").total == Decimal("0.04995"), "the fee the exchange took, in BTC"
    assert check_ledger().ok


def test_a_closed_order_cannot_fill(account):
    order = place(account, type="limit", price="40000")
    order_cancel(actor=TEST_ACTOR, order=order)

    with pytest.raises(OrderNotFillable):
        fill(order=order, price=Decimal("40000"), is_maker=True, fee_rate=Decimal("0.001"))
    assert not Fill.objects.exists() and held(account, "USDT").total == Decimal("10000")


def test_a_triggered_buy_the_account_can_no_longer_pay_for_is_rejected_with_the_numbers(account):
    order = place(account, type="stop_loss", quantity="0.19", stop_price="52000")

    tick({"BTC/USDT": "60000"})  # gapped far over the stop: 0.19 x 60,030 > 10,000 USDT

    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED and order.reject_code == "insufficient_funds"
    assert "Triggered at 60030" in order.reject_reason and "10000 USDT is available" in order.reject_reason
    assert held(account, "USDT").locked == 0 and held(account, "USDT").total == Decimal("10000")
    assert check_ledger().ok


def test_two_ticks_at_the_same_price_fill_an_order_once(account):
    order = place(account, type="limit", price="49000")
    low = tick("BTC/USDT", "48000")

    assert [o.pk for o in evaluate_tick(tickers=[low])] == [order.pk]
    assert evaluate_tick(tickers=[low]) == []
    assert Fill.objects.filter(order=order).count() == 1


def test_a_replayed_price_fills_nothing_where_live_prices_are_configured(account, settings):
    order = place(account, type="limit", price="49000")
    settings.MARKET_DATA_EXCHANGE = "binance"

    assert evaluate_tick(tickers=[tick("BTC/USDT", "48000", source="replay")]) == []

    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN


def test_a_tick_reads_the_orders_it_cannot_reach_in_one_query(account, django_assert_num_queries):
    for _ in range(30):
        place(account, type="limit", quantity="0.001", price="40000")
        place(account, type="stop_loss", quantity="0.001", stop_price="60000")

    with django_assert_num_queries(1):
        assert evaluate_tick(tickers=[tick("BTC/USDT", "50500")]) == []


def test_an_exchange_accounts_stop_is_held_here_and_only_marked_triggered(owner, binance_keys):
    tick({"BTC/USDT": "50000"})
    account = TradingAccount.objects.get(connection=connect(owner, binance_keys))
    account_sync(actor=TEST_ACTOR, account=account)  # the emulator's 0.5 BTC and 10,000 USDT
    order = place(account, side="sell", type="stop_loss", stop_price="48000")
    assert order.execution == Execution.EMULATED and order.status == OrderStatus.PENDING
    assert held(account, "BTC").locked >= Decimal("0.1"), "held here, so reserved here"

    triggered = evaluate_tick(tickers=[tick("BTC/USDT", "47000")])

    order.refresh_from_db()
    assert [o.pk for o in triggered] == [order.pk]
    assert order.triggered_at is not None and order.status == OrderStatus.PENDING, "the exchange fills it, not us"
    assert not order.fills.exists()
    assert evaluate_tick(tickers=[tick("BTC/USDT", "46000")]) == [], "triggered once"


@pytest.mark.django_db(transaction=True)
def test_the_owner_hears_of_the_placement_and_the_fill_after_commit(owner):
    tick({"BTC/USDT": "50000"})
    account = paper_account(owner)
    with GroupListener(owner) as listener:
        order = place(account, type="limit", price="49000")
        tick({"BTC/USDT": "48000"})
        events = listener.events()

    names = [name for name, _ in events]
    assert "order.placed" in names and "order.filled" in names
    filled = next(payload for name, payload in events if name == "order.filled")
    assert filled["id"] == order.pk and filled["status"] == "filled" and filled["average_price"] == "49000"
    told = [payload for name, payload in events if name == "notification" and payload["event_type"] == "orders"]
    assert {payload["event"] for payload in told} == {"orders.placed", "orders.filled"}
    assert any("average of 49000 USDT" in payload["body"] for payload in told)


@pytest.mark.usefixtures("postgresql")
def test_a_tick_finds_its_orders_through_the_partial_index_of_open_orders(account, owner):
    from django.db import connection

    from trading.services.engine import tick_candidates

    Order.objects.bulk_create(
        [
            Order(
                user=owner,
                account=account,
                client_order_id=f"old-{i}",
                request_fingerprint="-",
                symbol="BTC/USDT",
                base_asset="BTC",
                quote_asset="USDT",
                side="buy",
                type="limit",
                price=Decimal("40000"),
                quantity=Decimal("0.001"),
                status=OrderStatus.FILLED if i % 50 else OrderStatus.OPEN,
                execution=Execution.PAPER,
            )
            for i in range(3000)
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE trading_order")
        sql, params = tick_candidates([tick("BTC/USDT", "50000")]).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "order_open_idx" in plan, plan


def test_an_exchange_accounts_held_stop_is_cancelled_here_and_its_reservation_freed(owner, binance_keys):
    tick({"BTC/USDT": "50000"})
    account = TradingAccount.objects.get(connection=connect(owner, binance_keys))
    account_sync(actor=TEST_ACTOR, account=account)
    locked_before = held(account, "BTC").locked
    order = place(account, side="sell", type="stop_loss", stop_price="48000")

    order_cancel(actor=TEST_ACTOR, order=order)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.reserved_amount == 0
    assert held(account, "BTC").locked == locked_before


def test_revoking_the_connection_cancels_the_orders_held_here_for_it(owner, binance_keys):
    from exchanges.services.connections import connection_revoke

    tick({"BTC/USDT": "50000"})
    connection = connect(owner, binance_keys)
    account = TradingAccount.objects.get(connection=connection)
    account_sync(actor=TEST_ACTOR, account=account)
    order = place(account, side="sell", type="trailing_stop", trailing_percent="3")

    connection_revoke(actor=TEST_ACTOR, connection=connection)

    order.refresh_from_db()
    account.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and not account.is_active
    assert evaluate_tick(tickers=[tick("BTC/USDT", "10000")]) == [], "nothing left to trigger"
