"""Which prices orders trade on: a replayed price only where the replay is the configured source.

Where a real exchange is configured (production) and the exchange blinks, the publisher and the
feed fall back to the labelled replay of a past day. That price never happened now: the engine
ignores it, and placement refuses it the same way (503, "no price right now") rather than fill a
market order, check an OCO or take a trailing stop's reference from it. The offline demo
(MARKET_DATA_EXCHANGE=replay, what `make run` serves) trades on the replay, as it must.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.market.feed import MarketUnavailable
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.trading.helpers import REPLAYED, paper_account, publish
from trading.models import Balance, Fill, Order, OrderStatus
from trading.services.accounts import exchange_account_open
from trading.services.live import account_sync
from trading.services.orders import order_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_prices_configured(settings):
    settings.MARKET_DATA_EXCHANGE = "binance"


def test_a_market_order_is_refused_rather_than_filled_at_a_replayed_price_in_production(
    owner, live_prices_configured, exchange_emulator
):
    account = paper_account(owner)
    publish({"BTC/USDT": "65000"})
    resting = order_place(
        actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="limit", quantity="0.01", price="40000"
    ).order
    exchange_emulator.stop()  # the exchange is down: the feed can only answer the replay
    publish({"BTC/USDT": "30000"}, **REPLAYED)

    with pytest.raises(MarketUnavailable) as refused:
        order_place(actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="market", quantity="0.1")

    assert refused.value.status_code == 503
    resting.refresh_from_db()
    assert resting.status == OrderStatus.OPEN, "the engine ignored the replayed tick as well"
    assert not Fill.objects.filter(account=account).exists()
    assert Order.objects.filter(account=account).count() == 1
    assert Balance.objects.get(account=account, asset="USDT").total == Decimal("10000")


def test_a_market_order_placed_while_the_replay_is_on_air_fills_at_the_exchanges_live_price(
    owner, live_prices_configured, emulated_exchanges, exchange_emulator
):
    account = paper_account(owner)
    live = exchange_emulator.price("binance", "BTC")
    publish({"BTC/USDT": str(live / 2)}, **REPLAYED)  # the publisher's last tick is a replayed one

    order = order_place(
        actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="market", quantity="0.01"
    ).order

    (fill,) = Fill.objects.filter(order=order)
    assert fill.price > live, "the live price plus slippage, never the replayed half"


def test_an_exchange_trailing_stop_takes_its_reference_from_the_live_price_not_a_replayed_one(
    owner, live_prices_configured, emulated_exchanges, exchange_emulator, binance_keys
):
    account = exchange_account_open(actor=TEST_ACTOR, connection=connect(owner, binance_keys))
    assert account_sync(actor=TEST_ACTOR, account=account).ok
    live = exchange_emulator.price("binance", "BTC")
    publish({"BTC/USDT": str(live * 2)}, **REPLAYED)  # the replayed day's price, far from today's
    order = order_place(
        actor=TEST_ACTOR,
        account=account,
        symbol="BTC/USDT",
        side="sell",
        type="trailing_stop",
        quantity="0.1",
        trailing_percent="5",
    ).order

    publish({"BTC/USDT": str(live)})  # the exchange is back, its price unchanged

    order.refresh_from_db()
    assert order.trail_reference == live
    assert order.triggered_at is None, "nothing is sold: the live price never moved"


def test_the_offline_demo_trades_on_the_replay_it_is_configured_to_serve(owner):
    account = paper_account(owner)
    publish({"BTC/USDT": "30000"}, **REPLAYED)

    order = order_place(
        actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="market", quantity="0.01"
    ).order

    (fill,) = Fill.objects.filter(order=order)
    assert Decimal("30000") < fill.price < Decimal("30100")
