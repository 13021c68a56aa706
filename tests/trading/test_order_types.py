"""Each order type on a scripted price path, through the publisher's road: a tick is kept as the last
price and sent as `price_tick`, the paper engine's receiver fills what it reaches."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, tick
from trading.ledger_check import check_ledger
from trading.models import Balance, Order, OrderStatus, TradingAccount
from trading.services.orders import order_cancel, order_place

pytestmark = pytest.mark.django_db

SLIP = Decimal("0.0005")  # PAPER_SLIPPAGE_BPS = 5
FEE = Decimal("0.001")  # Binance's base maker and taker fee


def place(account, **fields) -> Order:
    defaults = {"symbol": "BTC/USDT", "quantity": "0.1"}
    return order_place(actor=TEST_ACTOR, account=account, **{**defaults, **fields}).order


def status(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def held(account: TradingAccount, asset: str) -> Balance:
    return Balance.objects.get(account=account, asset=asset)


@pytest.fixture
def account(owner):
    tick({"BTC/USDT": "50000"})
    return paper_account(owner)


@pytest.fixture
def holder(account):
    """The account holding 0.1 BTC (bought at market)."""
    place(account, side="buy", type="market")
    return account


def test_a_resting_limit_buy_fills_at_its_price_as_a_maker_when_the_price_comes_down_to_it(account):
    order = place(account, side="buy", type="limit", price="48000")

    tick({"BTC/USDT": "48500"})
    assert status(order) == OrderStatus.OPEN
    tick({"BTC/USDT": "47900"})

    assert status(order) == OrderStatus.FILLED
    assert order.average_price == Decimal("48000"), "a resting limit fills at its own price"
    fill = order.fills.get()
    assert fill.is_maker and fill.fee == Decimal("4800") * FEE
    assert held(account, "BTC").total == Decimal("0.1")
    assert held(account, "USDT").locked == 0
    assert check_ledger().ok


def test_a_resting_limit_sell_fills_when_the_price_rises_to_it(holder):
    order = place(holder, side="sell", type="limit", price="52000")
    assert held(holder, "BTC").locked == Decimal("0.1")

    tick({"BTC/USDT": "51999.99"})
    assert status(order) == OrderStatus.OPEN
    tick({"BTC/USDT": "52000"})

    assert status(order) == OrderStatus.FILLED and order.average_price == Decimal("52000")
    assert held(holder, "BTC").total == 0 and held(holder, "BTC").locked == 0


def test_a_stop_loss_sells_at_market_once_the_price_falls_to_its_stop(holder):
    order = place(holder, side="sell", type="stop_loss", stop_price="48000")
    assert status(order) == OrderStatus.PENDING

    tick({"BTC/USDT": "49000"})
    assert status(order) == OrderStatus.PENDING
    tick({"BTC/USDT": "47900"})

    assert status(order) == OrderStatus.FILLED
    assert order.average_price == Decimal("47900") * (1 - SLIP)
    assert order.triggered_at is not None
    assert not order.fills.get().is_maker
    assert held(holder, "BTC").realized_pnl < 0, "sold below what was paid"


def test_a_stop_loss_buy_triggers_when_the_price_rises_to_its_stop(account):
    order = place(account, side="buy", type="stop_loss", stop_price="52000")

    tick({"BTC/USDT": "51000"})
    assert status(order) == OrderStatus.PENDING
    tick({"BTC/USDT": "52100"})

    assert status(order) == OrderStatus.FILLED and order.average_price == Decimal("52100") * (1 + SLIP)


def test_a_take_profit_sells_once_the_price_rises_to_its_trigger(holder):
    order = place(holder, side="sell", type="take_profit", stop_price="55000")

    tick({"BTC/USDT": "45000"})
    assert status(order) == OrderStatus.PENDING, "a take-profit never sells on the way down"
    tick({"BTC/USDT": "55500"})

    assert status(order) == OrderStatus.FILLED and order.average_price == Decimal("55500") * (1 - SLIP)
    assert held(holder, "BTC").realized_pnl > 0


def test_a_stop_limit_triggers_then_rests_as_a_limit_until_its_price_is_reached(holder):
    order = place(holder, side="sell", type="stop_limit", stop_price="48000", price="48500")

    tick({"BTC/USDT": "47900"})
    assert status(order) == OrderStatus.OPEN and order.triggered_at is not None, "triggered, resting at 48,500"
    tick({"BTC/USDT": "48400"})
    assert status(order) == OrderStatus.OPEN
    tick({"BTC/USDT": "48600"})

    assert status(order) == OrderStatus.FILLED and order.average_price == Decimal("48500")


def test_a_stop_limit_whose_limit_is_reachable_at_the_trigger_fills_at_once(holder):
    order = place(holder, side="sell", type="stop_limit", stop_price="48000", price="47000")

    tick({"BTC/USDT": "47900"})

    assert status(order) == OrderStatus.FILLED and order.average_price == Decimal("47900")


def test_a_trailing_stop_follows_the_price_up_and_sells_when_it_falls_back_by_the_percent(holder):
    order = place(holder, side="sell", type="trailing_stop", trailing_percent="5")
    assert order.trail_reference == Decimal("50000")

    for price in ("52000", "55000", "53000", "52300"):
        tick({"BTC/USDT": price})
        assert status(order) == OrderStatus.PENDING, f"still waiting at {price}"
    assert order.trail_reference == Decimal("55000"), "the highest price since placement"

    tick({"BTC/USDT": "52200"})  # below 55,000 - 5% = 52,250

    assert status(order) == OrderStatus.FILLED
    assert order.average_price == Decimal("52200") * (1 - SLIP)
    assert held(holder, "BTC").realized_pnl > 0, "the trail locked in the gain"


def test_a_trailing_buy_by_amount_follows_the_price_down_and_buys_when_it_rises_back(account):
    order = place(account, side="buy", type="trailing_stop", trailing_amount="1000")

    tick({"BTC/USDT": "48000"})
    tick({"BTC/USDT": "48900"})
    assert status(order) == OrderStatus.PENDING and order.trail_reference == Decimal("48000")
    tick({"BTC/USDT": "49100"})  # 48,000 + 1,000 reached

    assert status(order) == OrderStatus.FILLED and order.average_price == Decimal("49100") * (1 + SLIP)


def oco_legs(order: Order) -> tuple[Order, Order]:
    limit_leg = Order.objects.get(oco_group=order.oco_group, oco_leg="limit")
    stop_leg = Order.objects.get(oco_group=order.oco_group, oco_leg="stop")
    return limit_leg, stop_leg


def test_an_oco_is_two_legs_and_the_limit_leg_holds_the_reservation(holder):
    order = place(holder, side="sell", type="oco", price="55000", stop_price="45000", client_order_id="exit-1")

    limit_leg, stop_leg = oco_legs(order)
    assert order.pk == limit_leg.pk
    assert (limit_leg.status, stop_leg.status) == (OrderStatus.OPEN, OrderStatus.PENDING)
    assert stop_leg.client_order_id == "exit-1:stop"
    assert (limit_leg.reserved_amount, stop_leg.reserved_amount) == (Decimal("0.1"), 0)
    assert held(holder, "BTC").locked == Decimal("0.1"), "reserved once for both legs"


def test_an_oco_limit_fill_cancels_the_stop_leg(holder):
    limit_leg, stop_leg = oco_legs(place(holder, side="sell", type="oco", price="55000", stop_price="45000"))

    tick({"BTC/USDT": "56000"})

    assert status(limit_leg) == OrderStatus.FILLED and limit_leg.average_price == Decimal("55000")
    assert status(stop_leg) == OrderStatus.CANCELLED
    tick({"BTC/USDT": "44000"})
    assert status(stop_leg) == OrderStatus.CANCELLED, "a cancelled leg never fills later"
    assert held(holder, "BTC").total == 0 and held(holder, "BTC").locked == 0
    assert check_ledger().ok


def test_an_oco_stop_fill_cancels_the_limit_leg_and_uses_its_reservation(holder):
    limit_leg, stop_leg = oco_legs(place(holder, side="sell", type="oco", price="55000", stop_price="45000"))

    tick({"BTC/USDT": "44000"})

    assert status(stop_leg) == OrderStatus.FILLED and stop_leg.average_price == Decimal("44000") * (1 - SLIP)
    assert status(limit_leg) == OrderStatus.CANCELLED and limit_leg.reserved_amount == 0
    assert held(holder, "BTC").total == 0 and held(holder, "BTC").locked == 0
    assert check_ledger().ok


def test_a_buy_oco_with_a_stop_limit_leg_reserves_for_the_dearer_leg(account):
    order = place(account, side="buy", type="oco", price="45000", stop_price="55000", stop_limit_price="56000")

    limit_leg, stop_leg = oco_legs(order)
    assert stop_leg.price == Decimal("56000")
    assert limit_leg.reserved_amount == Decimal("0.1") * Decimal("56000") * (1 + FEE)

    tick({"BTC/USDT": "55500"})  # the stop triggers; 55,500 <= 56,000, so its limit fills at once

    assert status(stop_leg) == OrderStatus.FILLED and stop_leg.average_price == Decimal("55500")
    assert status(limit_leg) == OrderStatus.CANCELLED
    assert held(account, "USDT").locked == 0


def test_cancelling_one_leg_of_an_oco_cancels_both(holder):
    limit_leg, stop_leg = oco_legs(place(holder, side="sell", type="oco", price="55000", stop_price="45000"))

    order_cancel(actor=TEST_ACTOR, order=stop_leg)

    assert (status(limit_leg), status(stop_leg)) == (OrderStatus.CANCELLED, OrderStatus.CANCELLED)
    assert held(holder, "BTC").locked == 0


def test_a_tick_of_another_market_leaves_the_order_alone(account):
    order = place(account, side="buy", type="limit", price="48000")
    tick({"ETH/USDT": "1"})
    assert status(order) == OrderStatus.OPEN


def test_a_cancelled_order_never_fills(account):
    order = place(account, side="buy", type="limit", price="48000")
    order_cancel(actor=TEST_ACTOR, order=order)

    tick({"BTC/USDT": "40000"})

    assert status(order) == OrderStatus.CANCELLED and not order.fills.exists()
    assert held(account, "USDT").total == Decimal("10000")
