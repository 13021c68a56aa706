"""The orders pages: open orders with cancel (after a confirmation), the history with its filters, and one
order with its fills and who runs it (the paper engine, the exchange, or CryptoVault until the trigger).
Another user's order is not found on any of them.

Orders are placed through the service and filled by published ticks, as the paper engine fills them;
exchange orders go through real ccxt to the loopback emulator.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.helpers import text
from tests.trading.helpers import paper_account, publish
from trading.models import Balance, Order, OrderStatus
from trading.services.accounts import exchange_account_open
from trading.services.live import account_sync
from trading.services.orders import order_place

pytestmark = pytest.mark.django_db
D = Decimal
ROW = re.compile(r'data-order-id="(\d+)"')


def listed(response) -> list[int]:
    return [int(pk) for pk in ROW.findall(response.content.decode())]


def place(account, **fields):
    arguments = {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": D("0.01"), "price": D("60000")}
    return order_place(actor=TEST_ACTOR, account=account, **{**arguments, **fields}).order


@pytest.fixture
def paper(owner):
    publish({"BTC/USDT": "65000", "ETH/USDT": "3000"})
    return paper_account(owner)


def test_open_orders_lists_only_the_owners_working_orders_newest_first_with_a_cancel_each(
    owner_client, paper, outsider
):
    older = place(paper)
    newer = place(paper, symbol="ETH/USDT", type="stop_loss", side="buy", price=None, stop_price=D("3500"))
    filled = place(paper, type="market", price=None)
    place(paper_account(outsider))

    page = owner_client.get("/orders/")

    assert page.status_code == 200
    assert listed(page) == [newer.pk, older.pk], "working orders only: the filled market order is history"
    shown = text(page)
    assert "Limit 60,000.00" in shown and "Trigger 3,500.00" in shown
    assert f"/orders/{older.pk}/cancel/?next=/orders/" in shown and f"/orders/{filled.pk}/cancel/" not in shown
    assert 'hx-trigger="cv-orders from:body"' in shown, "refreshed when an order event arrives"
    assert '<a href="/orders/" aria-current="page">Orders</a>' in shown


def test_the_history_lists_every_order_and_its_filters_narrow_it(owner_client, paper):
    resting = place(paper)
    bought = place(paper, type="market", price=None)
    eth = place(paper, symbol="ETH/USDT", type="market", price=None, quantity=D("0.1"))

    history = "/orders/history/"
    assert listed(owner_client.get(history)) == [eth.pk, bought.pk, resting.pk]
    assert listed(owner_client.get(history, {"status": "filled"})) == [eth.pk, bought.pk]
    assert listed(owner_client.get(history, {"open": "true"})) == [resting.pk]
    assert listed(owner_client.get(history, {"symbol": "ETH-USDT"})) == [eth.pk]
    assert listed(owner_client.get(history, {"type": "limit", "side": "buy"})) == [resting.pk]
    nothing = owner_client.get(history, {"side": "sell"})
    assert listed(nothing) == [] and "No order matches these filters." in text(nothing)
    bad = owner_client.get(history, {"status": "lost"})
    assert listed(bad) == [] and "Correct the filters below to see your orders." in text(bad)


def test_an_orders_page_shows_its_fills_and_that_the_paper_engine_runs_it(owner_client, paper):
    order = place(paper)
    before = text(owner_client.get(f"/orders/{order.pk}/"))
    assert "Not filled yet." in before and "Open" in before

    publish({"BTC/USDT": "59500"})  # the price reaches the limit: the engine fills it at 60,000
    page = owner_client.get(f"/orders/{order.pk}/")

    shown = text(page)
    assert 'data-testid="order-status">Filled<' in shown
    assert "Paper engine" in shown
    assert 'data-testid="fill-row"' in shown and "60,000.00" in shown and "Maker (rested on the book)" in shown
    assert "0.01 BTC at an average 60,000.00" in shown
    assert f"Client order id</dt><dd><code>{order.client_order_id}</code>" in shown


def test_an_exchange_accounts_orders_say_which_go_to_the_exchange_and_which_are_held_until_triggered(
    owner_client, owner, exchange_emulator, binance_keys
):
    publish({"BTC/USDT": "65000"})
    account = exchange_account_open(actor=TEST_ACTOR, connection=connect(owner, binance_keys))
    account_sync(actor=TEST_ACTOR, account=account)  # the emulator's 10,000 USDT and 0.5 BTC
    native = place(account, price=D("50000"))
    held = place(account, side="sell", type="stop_loss", price=None, stop_price=D("40000"), quantity=D("0.1"))

    assert "Sent to Binance as a limit order." in text(owner_client.get(f"/orders/{native.pk}/"))
    assert "Held by CryptoVault until triggered, then sent to Binance as a market order" in text(
        owner_client.get(f"/orders/{held.pk}/")
    )


def test_cancelling_asks_first_then_cancels_and_releases_the_reservation(owner_client, paper):
    order = place(paper)
    usdt = Balance.objects.get(account=paper, asset="USDT")
    assert usdt.locked > 0
    url = f"/orders/{order.pk}/cancel/"

    asked = owner_client.get(url, {"next": "/orders/"})
    assert asked.status_code == 200 and "Cancel this order?" in text(asked)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.OPEN, "asking changes nothing"

    done = owner_client.post(url, {"next": "/orders/"}, follow=True)

    assert done.redirect_chain == [("/orders/", 302)]
    assert "Order cancelled: buy BTC/USDT." in text(done)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert Balance.objects.get(pk=usdt.pk).locked == 0
    assert listed(done) == []


def test_cancelling_an_order_that_filled_meanwhile_says_so_and_changes_nothing(owner_client, paper):
    order = place(paper, type="market", price=None)

    answer = owner_client.post(f"/orders/{order.pk}/cancel/")

    assert answer.status_code == 200
    shown = text(answer)
    assert "This order is filled: only an open order can be cancelled." in shown
    assert "It is filled and can no longer be cancelled." in shown
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FILLED


def test_cancelling_goes_back_only_to_a_page_of_this_site(owner_client, paper):
    order = place(paper)

    answer = owner_client.post(f"/orders/{order.pk}/cancel/", {"next": "https://evil.example/"})

    assert answer["Location"] == "/orders/"


def test_another_users_order_is_not_found_and_stays_open(outsider_client, paper):
    order = place(paper)

    assert outsider_client.get(f"/orders/{order.pk}/").status_code == 404
    assert outsider_client.get(f"/orders/{order.pk}/cancel/").status_code == 404
    assert outsider_client.post(f"/orders/{order.pk}/cancel/").status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.OPEN
