"""Trading's Celery tasks: the exchange sync run by a real worker, triggered orders sent to the exchange,
the nightly equity snapshot.

A stop order of an exchange account is held here: the tick that reaches its trigger marks it (the
paper engine's receiver) and `trading.submit_triggered_order` sends it through ccxt to the emulator
as a market order, or as a limit at its price for a stop-limit.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.trading.helpers import btc_price_near, paper_account, place, place_oco, publish, synced_exchange_account
from trading.models import Balance, EquitySnapshot, Fill, OrderStatus, TradingAccount
from trading.services.accounts import exchange_account_open
from trading.services.live import account_sync, live_cancel
from trading.tasks import snapshot_equity, submit_triggered_order, sync_exchange_accounts


@pytest.fixture(autouse=True)
def _prices_from_the_exchange(settings):
    settings.MARKET_DATA_EXCHANGE = "binance"


def exchange_account(user, keys, **overrides) -> TradingAccount:
    return exchange_account_open(actor=TEST_ACTOR, connection=connect(user, keys, **overrides))


def emulator_orders(emulator) -> list:
    state = emulator.states["binance"]
    with state.lock:
        return list(state.orders.values())


# --- the sync, on a real worker ---------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_run_by_a_real_worker_syncs_every_active_exchange_account(
    celery_worker, emulated_exchanges, exchange_emulator, owner, outsider, binance_keys
):
    mine = exchange_account(owner, binance_keys, nickname="Mine")
    exchange_emulator.add_key("binance", api_key="other-key-5Tg7", secret="other-secret-9Kd2", balances={"USDT": "42"})
    theirs = exchange_account(outsider, {"api_key": "other-key-5Tg7", "secret": "other-secret-9Kd2"}, nickname="Theirs")
    closed = exchange_account(owner, binance_keys, nickname="Closed")
    TradingAccount.objects.filter(pk=closed.pk).update(is_active=False)

    fanned_out = sync_exchange_accounts.apply_async(queue=celery_worker.queue).get(timeout=30)

    assert fanned_out == 2, "one task per active exchange account"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if TradingAccount.objects.filter(pk__in=[mine.pk, theirs.pk], synced_at__isnull=False).count() == 2:
            break
        time.sleep(0.2)
    assert Balance.objects.get(account=mine, asset="USDT").total == Decimal("10000")
    assert Balance.objects.get(account=theirs, asset="USDT").total == Decimal("42")
    assert not Balance.objects.filter(account=closed).exists()


# --- triggered orders ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_stop_loss_held_here_is_sent_to_the_exchange_as_a_market_order_once_its_trigger_is_reached(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    stop = btc_price_near(exchange_emulator, -1000)
    order = place(account, side="sell", type="stop_loss", quantity=Decimal("0.1"), stop_price=stop)
    assert order.execution == "emulated" and not emulator_orders(exchange_emulator), "held here until it triggers"

    exchange_emulator.set_price("binance", "BTC", stop - 10)
    publish({"BTC/USDT": stop - 10})  # the tick that reaches the trigger
    order.refresh_from_db()
    assert order.triggered_at is not None and order.status == OrderStatus.PENDING

    outcome = submit_triggered_order.apply(args=(order.pk,)).get()

    order.refresh_from_db()
    (sent,) = emulator_orders(exchange_emulator)
    assert (sent.type, sent.side, sent.qty, sent.status) == ("MARKET", "SELL", Decimal("0.1"), "FILLED")
    assert outcome == order.status == OrderStatus.FILLED and order.exchange_order_id == str(sent.id)
    fill = Fill.objects.get(order=order)
    assert fill.price == stop - 10 and fill.fee_asset == "USDT" and fill.exchange_trade_id
    assert Balance.objects.get(account=account, asset="BTC").locked == 0, "its reservation went with the fill"
    assert submit_triggered_order.apply(args=(order.pk,)).get() == OrderStatus.FILLED
    assert len(emulator_orders(exchange_emulator)) == 1, "a second run of the task sends nothing"


@pytest.mark.django_db
def test_a_stop_limit_held_here_is_sent_as_a_limit_at_its_price_and_rests_at_the_exchange(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    stop, limit = btc_price_near(exchange_emulator, 500), btc_price_near(exchange_emulator, 600)
    order = place(account, side="buy", type="stop_limit", quantity=Decimal("0.01"), stop_price=stop, price=limit)

    exchange_emulator.set_price("binance", "BTC", stop + 50)
    publish({"BTC/USDT": stop + 50})  # the buy stop triggers
    exchange_emulator.set_price("binance", "BTC", limit + 50)  # and the price runs past the limit before it is sent
    submit_triggered_order.apply(args=(order.pk,)).get()

    order.refresh_from_db()
    (sent,) = emulator_orders(exchange_emulator)
    assert (sent.type, sent.side, sent.price, sent.status) == ("LIMIT", "BUY", limit, "NEW")
    assert order.status == OrderStatus.OPEN and order.exchange_order_id == str(sent.id)

    exchange_emulator.set_price("binance", "BTC", limit - 1)
    account_sync(actor=TEST_ACTOR, account=account)

    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED and Fill.objects.get(order=order).price == limit


# --- equity snapshots --------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_nightly_task_takes_an_equity_snapshot_for_every_user_with_an_account(verified_owner):
    paper_account(verified_owner)

    taken = snapshot_equity.apply().get()

    assert taken >= 1
    snapshot = EquitySnapshot.objects.get(user=verified_owner)
    assert snapshot.total_value == Decimal("10000") and "USDT" in snapshot.holdings


@pytest.mark.django_db
def test_a_triggered_order_whose_task_never_ran_is_sent_by_the_next_sync_once(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    target = btc_price_near(exchange_emulator, 1000)
    order = place(account, side="sell", type="take_profit", quantity=Decimal("0.05"), stop_price=target)
    exchange_emulator.set_price("binance", "BTC", target + 5)
    publish({"BTC/USDT": target + 5})  # triggered; its task is queued where no worker listens

    result = account_sync(actor=TEST_ACTOR, account=account)
    account_sync(actor=TEST_ACTOR, account=account)

    order.refresh_from_db()
    (sent,) = emulator_orders(exchange_emulator)
    assert (sent.type, sent.side, sent.status) == ("MARKET", "SELL", "FILLED")
    assert order.status == OrderStatus.FILLED and result.orders_updated == 1
    assert submit_triggered_order.apply(args=(order.pk,)).get() == OrderStatus.FILLED
    assert len(emulator_orders(exchange_emulator)) == 1, "sent once, whoever came first"


@pytest.mark.django_db
def test_a_triggered_stop_limit_resting_at_the_exchange_is_cancelled_there_and_here(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    stop, limit = btc_price_near(exchange_emulator, -500), btc_price_near(exchange_emulator, -600)
    order = place(account, side="sell", type="stop_limit", quantity=Decimal("0.1"), stop_price=stop, price=limit)
    publish({"BTC/USDT": stop - 50})  # triggers
    exchange_emulator.set_price("binance", "BTC", limit - 50)  # and falls through the limit: the sale rests
    submit_triggered_order.apply(args=(order.pk,)).get()
    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN and order.exchange_order_id

    cancelled = live_cancel(order=order)

    (sent,) = emulator_orders(exchange_emulator)
    assert (sent.type, sent.price, sent.status) == ("LIMIT", limit, "CANCELED")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.reserved_amount == 0
    assert Balance.objects.get(account=account, asset="BTC").locked == 0


@pytest.mark.django_db
def test_an_oco_held_here_sends_the_leg_that_triggers_and_its_fill_cancels_the_other_leg(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    take, stop = btc_price_near(exchange_emulator, 800), btc_price_near(exchange_emulator, -800)
    limit_leg, stop_leg = place_oco(account, side="sell", quantity=Decimal("0.1"), price=take, stop_price=stop)

    exchange_emulator.set_price("binance", "BTC", take + 20)
    publish({"BTC/USDT": take + 20})  # the limit leg is reached
    submit_triggered_order.apply(args=(limit_leg.pk,)).get()

    limit_leg.refresh_from_db()
    stop_leg.refresh_from_db()
    (sent,) = emulator_orders(exchange_emulator)
    assert (sent.type, sent.side, sent.price, sent.status) == ("LIMIT", "SELL", take, "FILLED")
    assert limit_leg.status == OrderStatus.FILLED and stop_leg.status == OrderStatus.CANCELLED
    assert Balance.objects.get(account=account, asset="BTC").locked == 0
