"""Order events reach the owner's open pages only once the change is committed, and each kind is told."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.factories import TEST_ACTOR
from tests.live_events import GroupListener
from tests.trading.helpers import paper_account, tick
from trading.errors import InsufficientFunds
from trading.services.orders import order_cancel, order_place

pytestmark = pytest.mark.django_db(transaction=True)


def place(account, **fields):
    defaults = {"actor": TEST_ACTOR, "account": account, "symbol": "BTC/USDT", "side": "buy", "quantity": "0.01"}
    return order_place(**{**defaults, **fields}).order


def names(events) -> list[str]:
    return [name for name, _ in events if name.startswith("order.")]


def test_nothing_is_announced_while_the_placing_transaction_is_open_and_all_of_it_after(owner):
    tick({"BTC/USDT": "50000"})
    account = paper_account(owner)
    with GroupListener(owner) as listener:
        with transaction.atomic():
            place(account, type="market")
            assert names(listener.events(wait=0.3)) == [], "a rollback could still erase this order"
        assert names(listener.events()) == ["order.placed", "order.filled"]


def test_a_placement_rolled_back_announces_nothing(owner):
    tick({"BTC/USDT": "50000"})
    account = paper_account(owner)
    with GroupListener(owner) as listener:
        with pytest.raises(RuntimeError), transaction.atomic():
            place(account, type="market")
            raise RuntimeError("the caller's transaction fails after the order")
        assert names(listener.events()) == []


def test_a_refused_placement_announces_nothing(owner):
    tick({"BTC/USDT": "50000"})
    account = paper_account(owner)
    with GroupListener(owner) as listener:
        with pytest.raises(InsufficientFunds):
            place(account, type="market", quantity="1000")
        assert names(listener.events()) == []


def test_cancelled_and_expired_orders_are_announced_with_their_status(owner):
    tick({"BTC/USDT": "50000"})
    account = paper_account(owner)
    with GroupListener(owner) as listener:
        resting = place(account, type="limit", price="40000")
        order_cancel(actor=TEST_ACTOR, order=resting)
        place(account, type="limit", price="40000", time_in_force="ioc")
        events = [(name, payload) for name, payload in listener.events() if name.startswith("order.")]

    assert [name for name, _ in events] == ["order.placed", "order.cancelled", "order.placed", "order.expired"]
    assert events[1][1]["status"] == "cancelled" and events[3][1]["status"] == "expired"
