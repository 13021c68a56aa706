"""An OCO on an exchange account: both legs are held here and at most one is live at the exchange.

A take-profit leg the price touched is sent as a limit and may rest there when the price falls
back; the stop leg must still protect the trader (the resting leg is cancelled at the exchange,
then the stop is sent, as the exchange's own OCO would do), and cancelling either leg cancels the
one at the exchange. Revoking the connection never marks cancelled an order that may live there.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.factories import TEST_ACTOR
from tests.trading.helpers import btc_price_near, place, place_oco, publish, synced_exchange_account
from trading.exchange_errors import UNKNOWN_OUTCOME_NOTE
from trading.ledger_check import check_ledger
from trading.models import Balance, Order, OrderStatus
from trading.services.orders import order_cancel, orders_cancel_all
from trading.tasks import submit_triggered_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _prices_from_the_exchange(settings):
    settings.MARKET_DATA_EXCHANGE = "binance"


def exchange_order(emulator, exchange_order_id: str):
    state = emulator.states["binance"]
    with state.lock:
        return next(o for o in state.orders.values() if str(o.id) == exchange_order_id)


def an_oco_whose_limit_leg_rests_at_the_exchange(account, emulator) -> tuple[Order, Order, Decimal]:
    """A sell OCO (0.1 BTC): the price touched its take-profit, then fell back before the leg was sent."""
    last = emulator.price("binance", "BTC")
    take, stop = btc_price_near(emulator, 800), btc_price_near(emulator, -800)
    limit_leg, stop_leg = place_oco(account, side="sell", quantity=Decimal("0.1"), price=take, stop_price=stop)
    publish({"BTC/USDT": take + 20})  # the limit leg is reached and triggered ...
    emulator.set_price("binance", "BTC", last)  # ... and the price is back when its task sends it
    submit_triggered_order.apply(args=(limit_leg.pk,)).get()
    limit_leg.refresh_from_db()
    assert limit_leg.exchange_order_id and limit_leg.status == OrderStatus.OPEN
    return limit_leg, stop_leg, stop


def test_the_stop_leg_still_sells_when_the_price_crashes_after_the_limit_leg_rested_at_the_exchange(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    limit_leg, stop_leg, stop = an_oco_whose_limit_leg_rests_at_the_exchange(account, exchange_emulator)

    exchange_emulator.set_price("binance", "BTC", stop - 500)
    publish({"BTC/USDT": stop - 500})  # through the stop
    stop_leg.refresh_from_db()
    assert stop_leg.triggered_at is not None, "the stop leg fires"
    submit_triggered_order.apply(args=(stop_leg.pk,)).get()

    limit_leg.refresh_from_db()
    stop_leg.refresh_from_db()
    assert exchange_order(exchange_emulator, limit_leg.exchange_order_id).status == "CANCELED"
    sold = exchange_order(exchange_emulator, stop_leg.exchange_order_id)
    assert (sold.type, sold.side, sold.status) == ("MARKET", "SELL", "FILLED")
    assert limit_leg.status == OrderStatus.CANCELLED and stop_leg.status == OrderStatus.FILLED
    assert stop_leg.filled_quantity == Decimal("0.1")
    assert Balance.objects.get(account=account, asset="BTC").locked == 0
    assert check_ledger(account_ids=[account.pk]).ok


def test_cancelling_the_stop_leg_cancels_the_limit_leg_resting_at_the_exchange(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    limit_leg, stop_leg, _stop = an_oco_whose_limit_leg_rests_at_the_exchange(account, exchange_emulator)

    order_cancel(actor=TEST_ACTOR, order=stop_leg)

    limit_leg.refresh_from_db()
    stop_leg.refresh_from_db()
    assert exchange_order(exchange_emulator, limit_leg.exchange_order_id).status == "CANCELED"
    assert limit_leg.status == OrderStatus.CANCELLED and stop_leg.status == OrderStatus.CANCELLED
    assert Balance.objects.get(account=account, asset="BTC").locked == 0


def test_cancelling_every_order_of_a_leaving_user_cancels_the_oco_stop_leg_resting_at_the_exchange(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    take, stop = btc_price_near(exchange_emulator, 800), btc_price_near(exchange_emulator, -800)
    limit_leg, stop_leg = place_oco(
        account, side="sell", quantity=Decimal("0.1"), price=take, stop_price=stop, stop_limit_price=stop - 100
    )
    publish({"BTC/USDT": stop - 10})  # the stop leg fires: sent as a limit at stop - 100 ...
    exchange_emulator.set_price("binance", "BTC", stop - 200)  # ... the price fell through it: it rests
    submit_triggered_order.apply(args=(stop_leg.pk,)).get()
    stop_leg.refresh_from_db()
    assert stop_leg.exchange_order_id and stop_leg.status == OrderStatus.OPEN

    orders_cancel_all(actor=TEST_ACTOR, user=owner)

    stop_leg.refresh_from_db()
    limit_leg.refresh_from_db()
    assert exchange_order(exchange_emulator, stop_leg.exchange_order_id).status == "CANCELED"
    assert stop_leg.status == OrderStatus.CANCELLED and limit_leg.status == OrderStatus.CANCELLED


def test_revoking_the_connection_leaves_an_order_whose_answer_was_lost_as_it_is(
    owner, emulated_exchanges, exchange_emulator, binance_keys, settings
):
    from exchanges.services.connections import connection_revoke

    account = synced_exchange_account(owner, binance_keys)
    last = exchange_emulator.price("binance", "BTC")
    in_flight, held = (
        place(
            account,
            side="sell",
            type="stop_loss",
            quantity=Decimal("0.1"),
            stop_price=btc_price_near(exchange_emulator, below),
        )
        for below in (-100, -5000)
    )
    publish({"BTC/USDT": last - 200})  # the first one fires; its answer is lost on the way back
    settings.EXCHANGE_TIMEOUT_SECONDS = 1
    exchange_emulator.set_fault("binance", "slow", seconds=1.5, only="POST /api/v3/order")
    submit_triggered_order.apply(args=(in_flight.pk,)).get()
    exchange_emulator.set_fault("binance", None)
    time.sleep(1.0)  # the exchange carries it out meanwhile
    in_flight.refresh_from_db()
    assert in_flight.reject_reason == UNKNOWN_OUTCOME_NOTE
    state = exchange_emulator.states["binance"]
    with state.lock:
        assert [o.client_id for o in state.orders.values()] == [in_flight.client_order_id]

    connection_revoke(actor=TEST_ACTOR, connection=account.connection)

    in_flight.refresh_from_db()
    held.refresh_from_db()
    assert held.status == OrderStatus.CANCELLED, "the order that never left is cancelled"
    assert in_flight.status in (OrderStatus.PENDING, OrderStatus.OPEN), "it may be trading at the exchange"
    assert in_flight.reject_reason == UNKNOWN_OUTCOME_NOTE
