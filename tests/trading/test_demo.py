"""The demo trader's paper account, as `seed_demo` leaves it for a newcomer: a portfolio with a few assets,
orders already filled and orders waiting, all made through the trading services; running it again
places nothing twice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import User
from tests.trading.helpers import publish
from trading.models import Balance, LedgerEntry, Order, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeding(settings):
    settings.DEBUG = True  # the embedded default runs with DEBUG on; the test runner turns it off
    publish({"BTC/USDT": "65000", "ETH/USDT": "3000", "SOL/USDT": "150"})


def test_the_demo_trader_starts_with_filled_and_open_paper_orders_and_a_second_run_adds_none(seeding, capsys):
    call_command("seed_demo")
    trader = User.objects.get(email="demo@cryptovault.local")
    orders = Order.objects.filter(user=trader)
    statuses = {order.client_order_id: order.status for order in orders}
    first = capsys.readouterr().out

    assert "Paper account: 4 orders filled, 3 open" in first
    assert sum(status == OrderStatus.FILLED for status in statuses.values()) == 4
    waiting = orders.filter(status__in=[OrderStatus.OPEN, OrderStatus.PENDING])
    assert {order.type for order in waiting} == {"limit", "stop_loss", "take_profit"}
    btc_dip = orders.get(client_order_id="demo-btc-dip")
    assert btc_dip.price < Decimal(65000), "the limit buy waits below the price"
    held = {b.asset: b for b in Balance.objects.filter(account__user=trader)}
    assert {"USDT", "BTC", "ETH", "SOL"} <= {asset for asset, b in held.items() if b.total > 0}
    assert held["USDT"].locked > 0 and held["ETH"].locked > 0, "the open orders hold their reservations"

    call_command("seed_demo")

    assert "Paper account: already there" in capsys.readouterr().out
    assert Order.objects.filter(user=trader).count() == len(statuses)
    for balance in Balance.objects.filter(account__user=trader):
        entries = LedgerEntry.objects.filter(account=balance.account, asset=balance.asset).aggregate(s=Sum("amount"))
        assert entries["s"] == balance.total, f"{balance.asset} is the sum of its ledger entries"


def test_the_demo_admin_gets_no_trading_account(seeding):
    call_command("seed_demo")
    assert not Order.objects.filter(user__email="admin@cryptovault.local").exists()
