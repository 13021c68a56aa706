"""Money under contention, on PostgreSQL (row locks are what is being proven; see conftest's `postgresql`).

200 market orders from 20 threads at once against one 10,000 USDT balance: exactly as many fill as
the money pays for, the rest are refused with the numbers, nothing is lost or spent twice, no
balance goes negative, and the ledger reconciles. Ticks racing each other (and a cancel racing a
fill) never fill one order twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from tests.factories import TEST_ACTOR
from tests.trading.helpers import place, placed, tick
from trading.errors import InsufficientFunds, OrderNotCancellable
from trading.ledger_check import check_ledger
from trading.models import Balance, EntryKind, Fill, LedgerEntry, Order, OrderStatus
from trading.services.engine import evaluate_tick
from trading.services.orders import order_cancel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql")]

THREADS = 20  # the database pool's size: every thread holds a connection at once
ORDERS = 200


def in_threads(calls: list, threads: int = THREADS) -> list:
    """Run `calls` from `threads` threads released together; each result, or the exception raised."""
    start = threading.Barrier(min(threads, len(calls)))

    def run(index_call):
        index, call = index_call
        if index < threads:
            start.wait(timeout=30)
        try:
            return call()
        except Exception as error:  # the outcome under test
            return error
        finally:
            connection.close()  # back to the pool for the next call

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(run, enumerate(calls)))
    close_old_connections()
    return results


@pytest.fixture(autouse=True)
def _the_last_tick_stays_the_price(settings):
    """A burst outlasts two 5 s ticks; without a publisher running, the test's tick must stay the price."""
    settings.PRICE_TICK_SECONDS = 600


def resting_buys(account, count: int) -> list:
    """`count` limit buys of 0.01 BTC at 49,000, resting under the 50,000 price."""
    return [place(account, side="buy", type="limit", quantity="0.01", price="49000") for _ in range(count)]


def test_200_concurrent_market_orders_against_one_balance_lose_no_update_and_reconcile(account):
    # Each order: 0.002 BTC at 50,025 (5 bps slippage) = 100.05 USDT, plus 0.1% fee = 100.15005 USDT.
    cost = Decimal("100.15005")
    affordable = int(Decimal("10000") // cost)  # 99

    results = in_threads(
        [
            lambda i=i: placed(account, side="buy", type="market", quantity="0.002", client_order_id=f"burst-{i}")
            for i in range(ORDERS)
        ]
    )

    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes == {"PlaceResult": affordable, "InsufficientFunds": ORDERS - affordable}, outcomes
    refusal = next(result for result in results if isinstance(result, InsufficientFunds))
    assert refusal.extra["asset"] == "USDT" and Decimal(refusal.extra["available"]) < cost

    filled = Order.objects.filter(account=account, status=OrderStatus.FILLED)
    assert set(filled.values_list("average_price", flat=True)) == {Decimal("50025")}
    assert filled.count() == affordable and Order.objects.filter(account=account).count() == affordable
    usdt = Balance.objects.get(account=account, asset="USDT")
    btc = Balance.objects.get(account=account, asset="BTC")
    debited = -sum(
        LedgerEntry.objects.filter(
            account=account, asset="USDT", kind__in=[EntryKind.TRADE, EntryKind.FEE]
        ).values_list("amount", flat=True)
    )
    assert debited == affordable * cost, "every fill paid exactly once"
    assert usdt.total == Decimal("10000") - affordable * cost >= 0
    assert usdt.locked == 0 and btc.locked == 0
    assert btc.total == affordable * Decimal("0.002")
    assert Fill.objects.filter(account=account).count() == affordable
    report = check_ledger()
    assert report.ok, [str(drift) for drift in report.drifts]


def test_ticks_racing_each_other_fill_each_resting_order_once(account):
    orders = resting_buys(account, 20)
    low = tick("BTC/USDT", "48000")

    results = in_threads([lambda: evaluate_tick(tickers=[low]) for _ in range(10)], threads=10)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(len(result) for result in results) == 20, "each order reported filled by exactly one tick"
    assert Fill.objects.filter(account=account).count() == 20
    assert all(Order.objects.get(pk=o.pk).status == OrderStatus.FILLED for o in orders)
    assert Balance.objects.get(account=account, asset="BTC").total == Decimal("0.2")
    assert check_ledger().ok


def test_a_cancel_racing_a_fill_leaves_exactly_one_of_them_done(account):
    orders = resting_buys(account, 10)
    low = tick("BTC/USDT", "48000")

    calls = [lambda: evaluate_tick(tickers=[low])] + [
        lambda o=o: order_cancel(actor=TEST_ACTOR, order=o) for o in orders
    ]
    results = in_threads(calls, threads=len(calls))

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, OrderNotCancellable)]
    assert not unexpected, unexpected
    statuses = Counter(Order.objects.get(pk=o.pk).status for o in orders)
    assert set(statuses) <= {OrderStatus.FILLED, OrderStatus.CANCELLED}
    assert Fill.objects.filter(account=account).count() == statuses[OrderStatus.FILLED]
    assert Balance.objects.get(account=account, asset="USDT").locked == 0
    assert check_ledger().ok
