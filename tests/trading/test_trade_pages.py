"""The trade ticket (/trade/): the ticket with the live price and each type's fields, the confirmation
with the estimated fee and total, placing through the service, refusals shown on the form with nothing
typed lost, one order however often the confirmation is sent, and the per-user "orders" rate limit.

Prices are published as the publisher does (tests/trading/helpers.py `publish`); fees are the paper
account's, read from the market rules the service uses, never written down here.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.helpers import text
from tests.trading.helpers import paper_account, publish
from trading.markets import market_rules
from trading.models import Balance, Execution, Order, OrderStatus
from trading.services.accounts import exchange_account_open
from trading.services.live import account_sync

pytestmark = pytest.mark.django_db
PAGE = "/trade/"
D = Decimal


def limit_buy(account, **changes) -> dict:
    form = {
        "account": account.pk,
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "limit",
        "quantity": "0.01",
        "price": "60000",
        "time_in_force": "gtc",
        "client_order_id": "ticket-1",
    }
    return {**form, **changes}


def usdt(account) -> Balance:
    return Balance.objects.get(account=account, asset="USDT")


@pytest.fixture
def paper(owner):
    publish({"BTC/USDT": "65000", "ETH/USDT": "3000"})
    return paper_account(owner)


def test_the_ticket_offers_the_traders_accounts_the_asked_market_its_live_price_and_each_types_fields(
    owner_client, paper
):
    page = owner_client.get(PAGE, {"symbol": "ETH-USDT", "account": paper.pk})

    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<option value="ETH/USDT" selected>', html), "the market asked for in the link"
    assert f'<option value="{paper.pk}" selected>' in html and "(paper)" in html
    assert 'data-ticker="ETH/USDT"' in html and 'data-testid="trade-last">3,000.00<' in html
    assert 'data-prices-socket="/ws/prices/"' in html, "the price follows the socket"
    assert "&quot;oco&quot;: [&quot;quantity&quot;, &quot;price&quot;, &quot;stop_price&quot;" in html
    taker = market_rules(paper, "ETH/USDT").taker_fee
    assert f"&quot;taker&quot;: &quot;{taker}&quot;" in html, "the account's fee, for the live estimate"
    assert re.search(r'name="client_order_id" value="cv-[0-9a-f]{24}"', html), "one id per ticket"
    assert '<a href="/trade/" aria-current="page">Trade</a>' in html


def test_reviewing_shows_the_order_with_its_estimated_fee_and_total_and_places_nothing(owner_client, paper):
    answer = owner_client.post(PAGE, {**limit_buy(paper), "step": "review"})

    assert answer.status_code == 200
    shown = text(answer)
    assert "Confirm the order" in shown and "Buy BTC/USDT · Limit" in shown
    maker = market_rules(paper, "BTC/USDT").maker_fee  # 60,000 is below the last price: the order rests
    fee = D("600") * maker
    assert 'data-testid="confirm-value">600.00 USDT' in shown
    assert f'data-testid="confirm-fee">{fee:,.2f} USDT' in shown and "maker fee" in shown
    assert f"{D('600') + fee:,.2f} USDT" in shown and "Estimated cost" in shown
    assert "65,000.00" in shown, "the last price it was reviewed at"
    assert 'name="client_order_id" value="ticket-1"' in shown and 'value="place"' in shown
    assert not Order.objects.exists()


def test_placing_from_the_confirmation_places_it_reserves_the_funds_and_shows_the_orders_page(owner_client, paper):
    answer = owner_client.post(PAGE, {**limit_buy(paper), "step": "place"}, follow=True)

    order = Order.objects.get(user=paper.user)
    assert answer.redirect_chain == [(f"/orders/{order.pk}/", 302)]
    assert (order.symbol, order.side, order.type, order.quantity, order.price, order.status) == (
        "BTC/USDT",
        "buy",
        "limit",
        D("0.01"),
        D("60000"),
        OrderStatus.OPEN,
    )
    assert order.client_order_id == "ticket-1"
    assert "Order placed: buy 0.01 BTC/USDT, limit at 60,000.00." in text(answer)
    assert "Paper engine" in text(answer)
    assert usdt(paper).locked == order.reserved_amount > D("600"), "the cost and the fee are reserved"


def test_sending_the_confirmation_twice_places_one_order(owner_client, paper):
    owner_client.post(PAGE, {**limit_buy(paper), "step": "place"})
    again = owner_client.post(PAGE, {**limit_buy(paper), "step": "place"}, follow=True)

    assert Order.objects.count() == 1
    assert "This order was placed already; here it is." in text(again)


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"price": ""}, "price", "Enter a limit price."),
        ({"quantity": ""}, "quantity", "Enter a quantity."),
        ({"quantity": "-1"}, "quantity", "Enter a quantity greater than 0."),
        ({"type": "stop_loss", "stop_price": ""}, "stop_price", "Enter the trigger price."),
        ({"type": "market", "quantity": "", "quote_amount": ""}, "quantity", "Enter a quantity, or an amount in USDT."),
        ({"type": "trailing_stop"}, "trailing_percent", "Enter how far the stop trails"),
        ({"symbol": "PEPE/USDT"}, "symbol", "Select a valid choice"),
        ({"price": "lots"}, "price", "Enter a number with the digits 0-9"),
    ],
)
def test_an_incomplete_ticket_is_explained_on_its_field_and_keeps_what_was_typed(
    owner_client, paper, changes, field, says
):
    answer = owner_client.post(PAGE, {**limit_buy(paper, **changes), "step": "review"})

    html = answer.content.decode()
    assert answer.status_code == 200 and "Order ticket" in html, "back on the ticket, not the confirmation"
    assert says in html and 'class="errorlist' in html
    assert 'name="client_order_id" value="ticket-1"' in html
    if field != "quantity":
        assert 'value="0.01"' in html, "the quantity typed is still there"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"quantity": "0.000001"}, "The minimum for BTC/USDT is"),
        ({"quantity": "1"}, "Insufficient USDT: this order needs"),
        ({"price": "60000.123456789"}, "BTC/USDT prices move in ticks of"),
        ({"quantity": "0.0001", "price": "1000"}, "An order on BTC/USDT must be worth at least"),
    ],
)
def test_an_order_the_service_refuses_goes_back_to_the_ticket_with_the_message_and_nothing_lost(
    owner_client, paper, changes, says
):
    answer = owner_client.post(PAGE, {**limit_buy(paper, **changes), "step": "place"})

    html = text(answer)
    assert answer.status_code == 200 and "Order ticket" in html
    assert says in html and 'class="errorlist' in html
    assert f'value="{changes.get("quantity", "0.01")}"' in html and 'value="ticket-1"' in html
    assert not Order.objects.exists() and usdt(paper).locked == 0, "nothing placed, nothing reserved"


def test_a_field_the_type_does_not_take_is_not_sent_with_the_order(owner_client, paper):
    """A price typed for a limit order, then the type switched to market: the market order has no price."""
    owner_client.post(PAGE, {**limit_buy(paper, type="market"), "step": "place"})

    order = Order.objects.get()
    assert order.type == "market" and order.price is None and order.status == OrderStatus.FILLED


def test_coming_back_from_the_confirmation_shows_the_ticket_as_typed(owner_client, paper):
    answer = owner_client.post(PAGE, {**limit_buy(paper, type="stop_limit", stop_price="61000"), "step": "edit"})

    html = answer.content.decode()
    assert "Order ticket" in html and 'class="errorlist' not in html
    assert '<option value="stop_limit" selected>' in html
    assert 'value="61000"' in html and 'value="60000"' in html and 'value="ticket-1"' in html


def test_another_users_account_cannot_be_chosen(owner_client, paper, outsider):
    theirs = paper_account(outsider)

    answer = owner_client.post(PAGE, {**limit_buy(theirs), "step": "place"})

    assert "Select a valid choice" in answer.content.decode()
    assert not Order.objects.exists()


def test_placing_is_limited_per_user_by_the_orders_rate_limit_and_reviewing_is_not(owner_client, paper, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "orders": "2/m"}
    for _review in range(4):
        assert owner_client.post(PAGE, {**limit_buy(paper), "step": "review"}).status_code == 200
    for index in range(2):
        placed = owner_client.post(PAGE, {**limit_buy(paper, client_order_id=f"t-{index}"), "step": "place"})
        assert placed.status_code == 302

    refused = owner_client.post(PAGE, {**limit_buy(paper, client_order_id="t-3"), "step": "place"})

    assert refused.status_code == 429
    assert refused["X-RateLimit-Limit"] == "2" and int(refused["Retry-After"]) > 0
    assert Order.objects.count() == 2


@pytest.fixture
def binance_account(owner, exchange_emulator, binance_keys):
    publish({"BTC/USDT": "65000"})
    exchange_emulator.set_price("binance", "BTC", "65000")
    account = exchange_account_open(actor=TEST_ACTOR, connection=connect(owner, binance_keys))
    account_sync(actor=TEST_ACTOR, account=account)  # the emulator's 10,000 USDT and 0.5 BTC
    return account


def test_an_order_on_an_exchange_account_goes_to_the_exchange_and_its_page_says_so(owner_client, binance_account):
    answer = owner_client.post(PAGE, {**limit_buy(binance_account, price="50000"), "step": "place"}, follow=True)

    order = Order.objects.get()
    assert order.execution == Execution.NATIVE and order.exchange_order_id, "sent through ccxt, the exchange's id kept"
    assert order.status == OrderStatus.OPEN
    assert "Order placed: buy 0.01 BTC/USDT, limit at 50,000.00." in text(answer)
    assert "Sent to Binance as a limit order." in text(answer)


def test_an_order_the_exchange_refuses_is_kept_rejected_and_its_page_says_why(
    owner_client, binance_account, exchange_emulator, binance_keys
):
    exchange_emulator.set_balances("binance", binance_keys["api_key"], {"USDT": "20", "BTC": "0.5"})  # spent there

    answer = owner_client.post(PAGE, {**limit_buy(binance_account, price="50000"), "step": "place"}, follow=True)

    order = Order.objects.get()
    assert order.status == OrderStatus.REJECTED
    assert answer.redirect_chain == [(f"/orders/{order.pk}/", 302)], "the rejected order's page, not a 500"
    shown = text(answer)
    assert f"The exchange refused the order: {order.reject_reason}" in shown
    assert 'data-testid="order-status">Rejected<' in shown and order.reject_code in shown


def test_someone_without_a_trading_account_is_told_how_to_get_one(owner_client):
    page = owner_client.get(PAGE)

    assert page.status_code == 200
    assert "Your paper account (10000 virtual USDT to practise with) opens once your email address is verified" in text(
        page
    )


def test_a_limit_that_crosses_the_market_is_estimated_at_the_current_price_with_the_taker_fee(owner_client, paper):
    """The service fills it at once at `last` as a taker; the confirmation must not promise the limit price."""
    answer = owner_client.post(PAGE, {**limit_buy(paper, price="70000"), "step": "review"})

    shown = text(answer)
    taker = market_rules(paper, "BTC/USDT").taker_fee
    assert 'data-testid="confirm-value">650.00 USDT' in shown, "0.01 x the last price 65,000, not x 70,000"
    assert f'data-testid="confirm-fee">{D("650") * taker:,.2f} USDT' in shown and "taker fee" in shown
