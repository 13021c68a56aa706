"""Lock order under contention, on PostgreSQL (see conftest's `postgresql`): every writer locks an
OCO's legs in id order, then the balances it needs in asset order, all at once, before it changes
anything. A tick filling one leg while the owner cancels the other, or a buy OCO's fill while the
owner places an order, queue one behind the other instead of deadlocking (PostgreSQL would kill
one of them: a fill lost until the next tick, or a 500 for the owner).

Each test holds the first writer inside its transaction at the point where the old lock order went
wrong (by slowing a function it calls), so the second writer's locks interleave every time.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, place_oco, placed, tick
from trading.errors import OrderNotCancellable
from trading.ledger_check import check_ledger
from trading.models import Balance, Order, OrderStatus
from trading.services import engine
from trading.services.orders import order_cancel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql")]


@pytest.fixture(autouse=True)
def _ticks_stay(settings):
    settings.PRICE_TICK_SECONDS = 600


def run_together(first, second, started: threading.Event) -> dict:
    """`first` in one thread, `second` in another once `started` is set; each one's result or exception."""
    outcome: dict = {}

    def run(name, call, wait=None):
        if wait is not None:
            wait.wait(10)
        try:
            outcome[name] = call()
        except Exception as error:
            outcome[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("first", first)),
        threading.Thread(target=run, args=("second", second, started)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcome


def paper_account_holding_btc(owner):
    """`owner`'s paper account at 50,000 USDT a BTC, 0.1 BTC bought at market."""
    tick({"BTC/USDT": "50000"})
    account = paper_account(owner)
    placed(account, side="buy", type="market", quantity="0.1")
    return account


def held_on_first_call(monkeypatch, name: str, when=lambda *args: True) -> threading.Event:
    """Slow `engine.<name>` down (1.5 s) on its first call that `when` accepts; the event is set as it starts."""
    started = threading.Event()
    original = getattr(engine, name)

    def slowed(*args):
        if when(*args) and not started.is_set():
            started.set()
            time.sleep(1.5)
        return original(*args)

    monkeypatch.setattr(engine, name, slowed)
    return started


def deadlocks_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and "deadlock" in str(r.exc_info[1]).lower()]


def test_a_cancel_racing_the_fill_of_an_oco_stop_leg_waits_for_it_and_is_refused(owner, monkeypatch, caplog):
    account = paper_account_holding_btc(owner)
    limit_leg, stop_leg = place_oco(account, side="sell", quantity="0.1", price="55000", stop_price="45000")
    assert limit_leg.pk < stop_leg.pk
    deciding = held_on_first_call(  # the tick holds the stop leg's row lock here
        monkeypatch, "_decide", when=lambda order, last: connection.in_atomic_block and order.pk == stop_leg.pk
    )

    outcome = run_together(
        lambda: engine.evaluate_tick(tickers=[tick("BTC/USDT", "44000")]),
        lambda: order_cancel(actor=TEST_ACTOR, order=Order.objects.get(pk=limit_leg.pk)),
        deciding,
    )

    assert not deadlocks_logged(caplog)
    assert [order.pk for order in outcome["first"]] == [stop_leg.pk], "the tick filled the stop leg"
    assert isinstance(outcome["second"], OrderNotCancellable), "the cancel came second: nothing left to cancel"
    stop_leg.refresh_from_db()
    limit_leg.refresh_from_db()
    assert (stop_leg.status, limit_leg.status) == (OrderStatus.FILLED, OrderStatus.CANCELLED)
    assert check_ledger(account_ids=[account.pk]).ok


def test_a_buy_oco_fill_racing_a_placement_lets_both_through(owner, monkeypatch, caplog):
    account = paper_account_holding_btc(owner)
    _limit_leg, stop_leg = place_oco(account, side="buy", quantity="0.01", price="45000", stop_price="55000")
    locking = held_on_first_call(monkeypatch, "lock_balances")  # the fill is about to lock its balances here

    outcome = run_together(
        lambda: engine.evaluate_tick(tickers=[tick("BTC/USDT", "56000")]),
        lambda: placed(account, side="sell", type="market", quantity="0.01"),
        locking,
    )

    assert not deadlocks_logged(caplog)
    assert not isinstance(outcome["second"], Exception), f"placement failed: {outcome['second']!r}"
    assert outcome["second"].order.status == OrderStatus.FILLED
    stop_leg.refresh_from_db()
    assert stop_leg.status == OrderStatus.FILLED, "the stop leg bought at the tick"
    assert all(balance.locked == 0 for balance in Balance.objects.filter(account=account))
    assert check_ledger(account_ids=[account.pk]).ok
