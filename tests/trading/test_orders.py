"""Placing and cancelling paper orders: fills at the price with slippage and the taker fee, reservations,
idempotent placement by client_order_id, and bad input refused with field messages, the ledger untouched."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from exchanges.errors import UnknownSymbol
from security.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, tick
from trading.errors import ClientOrderIdConflict, InsufficientFunds, OrderNotCancellable
from trading.ledger_check import check_ledger
from trading.models import Balance, EntryKind, Fill, LedgerEntry, Order, OrderStatus, TradingAccount
from trading.services.orders import OpenOrderLimitReached, order_cancel, order_payload, order_place

pytestmark = pytest.mark.django_db


def balances(account: TradingAccount) -> dict[str, Balance]:
    return {balance.asset: balance for balance in Balance.objects.filter(account=account)}


def ledger_state(account: TradingAccount) -> tuple:
    """Everything a bad request must leave as it was."""
    return (
        sorted((b.asset, b.total, b.locked) for b in Balance.objects.filter(account=account)),
        LedgerEntry.objects.filter(account=account).count(),
        Order.objects.filter(account=account).count(),
        Fill.objects.filter(account=account).count(),
    )


def place(account, **fields):
    defaults = {"symbol": "BTC/USDT", "side": "buy", "type": "market"}
    return order_place(actor=TEST_ACTOR, account=account, **{**defaults, **fields})


@pytest.fixture
def account(owner):
    tick({"BTC/USDT": "50000", "ETH/USDT": "2000"})
    return paper_account(owner)


def test_a_market_buy_fills_at_once_at_the_price_plus_slippage_and_pays_the_taker_fee(account):
    result = place(account, quantity="0.1")

    order = result.order
    assert result.created and order.status == OrderStatus.FILLED
    assert order.average_price == Decimal("50025"), "5 bps worse than 50,000 for the buyer"
    assert order.fee_total == Decimal("5.0025"), "0.1% of 5,002.5 USDT"
    held = balances(account)
    assert held["BTC"].total == Decimal("0.1")
    assert held["USDT"].total == Decimal("10000") - Decimal("5002.5") - Decimal("5.0025")
    assert held["USDT"].locked == 0, "the reservation is released once filled"
    assert held["BTC"].cost_basis == Decimal("50075.025"), "average cost includes the fee"
    kinds = sorted(LedgerEntry.objects.filter(order=order).values_list("kind", "asset"))
    assert kinds == [(EntryKind.FEE, "USDT"), (EntryKind.TRADE, "BTC"), (EntryKind.TRADE, "USDT")]
    assert check_ledger().ok


def test_a_market_sell_realises_the_profit_over_the_average_cost(account):
    place(account, quantity="0.1")
    tick({"BTC/USDT": "60000"})

    sold = place(account, side="sell", quantity="0.1").order

    assert sold.average_price == Decimal("59970"), "5 bps worse than 60,000 for the seller"
    btc = balances(account)["BTC"]
    proceeds = Decimal("5997") - Decimal("5.997")
    assert btc.total == 0
    assert btc.realized_pnl == proceeds - Decimal("5007.5025")
    assert check_ledger().ok


def test_a_market_buy_by_quote_amount_spends_at_most_that_amount(account):
    order = place(account, quote_amount="1000").order

    assert order.status == OrderStatus.FILLED
    spent = Decimal("10000") - balances(account)["USDT"].total
    assert Decimal("999") < spent <= Decimal("1000")
    assert order.filled_quantity == Decimal("0.01997"), "whole steps of 0.00001 BTC"


def test_a_limit_buy_below_the_price_rests_with_its_money_reserved(account):
    order = place(account, type="limit", quantity="0.1", price="45000").order

    assert order.status == OrderStatus.OPEN
    usdt = balances(account)["USDT"]
    assert usdt.total == Decimal("10000")
    assert usdt.locked == Decimal("4504.5"), "0.1 x 45,000 plus the taker fee at most"
    assert order.reserved_amount == usdt.locked


def test_a_marketable_limit_fills_at_once_at_the_last_price(account):
    order = place(account, type="limit", quantity="0.1", price="51000").order

    assert order.status == OrderStatus.FILLED and order.average_price == Decimal("50000")


def test_an_immediate_or_cancel_limit_that_cannot_fill_expires_and_frees_its_money(account):
    order = place(account, type="limit", quantity="0.1", price="45000", time_in_force="ioc").order

    assert order.status == OrderStatus.EXPIRED
    assert balances(account)["USDT"].locked == 0


def test_cancelling_a_resting_order_frees_its_money_and_is_audited(account):
    order = place(account, type="limit", quantity="0.1", price="45000").order

    order_cancel(actor=TEST_ACTOR, order=order)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.reserved_amount == 0
    assert balances(account)["USDT"].locked == 0
    assert AuditEvent.objects.filter(action="order.cancelled", details__order_id=order.pk).exists()


def test_a_filled_order_cannot_be_cancelled_and_the_ledger_is_untouched(account):
    order = place(account, quantity="0.1").order
    before = ledger_state(account)

    with pytest.raises(OrderNotCancellable):
        order_cancel(actor=TEST_ACTOR, order=order)

    assert ledger_state(account) == before


def test_the_same_client_order_id_with_the_same_request_returns_the_same_order(account):
    first = place(account, type="limit", quantity="0.1", price="45000", client_order_id="my-order-1")
    again = place(account, type="limit", quantity="0.10", price="45000.00", client_order_id="my-order-1")

    assert first.created and not again.created
    assert again.order.pk == first.order.pk
    assert Order.objects.filter(account=account).count() == 1
    assert balances(account)["USDT"].locked == Decimal("4504.5"), "reserved once"


def test_the_same_client_order_id_with_a_different_request_is_a_conflict(account):
    place(account, type="limit", quantity="0.1", price="45000", client_order_id="my-order-1")
    before = ledger_state(account)

    with pytest.raises(ClientOrderIdConflict) as refused:
        place(account, type="limit", quantity="0.2", price="45000", client_order_id="my-order-1")

    assert refused.value.status_code == 409
    assert ledger_state(account) == before


def test_an_order_without_client_order_id_gets_one(account):
    order = place(account, quantity="0.001").order
    assert order.client_order_id.startswith("cv-") and len(order.client_order_id) == 27


def test_not_enough_money_is_refused_with_the_numbers(account):
    before = ledger_state(account)

    with pytest.raises(InsufficientFunds) as refused:
        place(account, type="limit", quantity="1", price="45000")

    assert refused.value.extra == {"asset": "USDT", "required": "45045", "available": "10000"}
    assert refused.value.field == "quantity"
    assert "45045" in refused.value.message and "10000" in refused.value.message
    assert ledger_state(account) == before


def test_selling_what_is_not_held_is_refused(account):
    with pytest.raises(InsufficientFunds) as refused:
        place(account, side="sell", quantity="0.1")
    assert refused.value.extra["asset"] == "BTC" and refused.value.extra["available"] == "0"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"quantity": "0"}, "quantity", "greater than 0"),
        ({"quantity": "-1"}, "quantity", "greater than 0"),
        ({"quantity": "abc"}, "quantity", "Enter a number"),
        ({"quantity": "NaN"}, "quantity", "Enter a number"),
        ({"quantity": "0.0000000000000000001"}, "quantity", "18 decimal places"),
        ({"quantity": "0.000001"}, "quantity", "The minimum for BTC/USDT is 0.00001"),
        ({"quantity": "0.000015"}, "quantity", "steps of 0.00001"),
        ({"quantity": "0.00001"}, "quantity", "at least 5 USDT"),
        ({"type": "limit", "quantity": "0.1"}, "price", "needs a price"),
        ({"type": "limit", "quantity": "0.1", "price": "45000.001"}, "price", "ticks of 0.01"),
        ({"quantity": "0.1", "price": "45000"}, "price", "takes no price"),
        ({"quantity": "0.1", "quote_amount": "100"}, "quantity", "not both"),
        ({}, "quantity", "not both"),
        ({"type": "stop_loss", "quantity": "0.1"}, "stop_price", "needs a stop price"),
        ({"type": "trailing_stop", "quantity": "0.1"}, "trailing_percent", "not both"),
        ({"type": "trailing_stop", "quantity": "0.1", "trailing_percent": "60"}, "trailing_percent", "below 50"),
        ({"type": "stop_loss", "quantity": "0.1", "stop_price": "40000", "time_in_force": "ioc"}, "time_in_force", ""),
        ({"side": "hold", "quantity": "0.1"}, "side", "buy or sell"),
        ({"type": "iceberg", "quantity": "0.1"}, "type", "Choose one of"),
        ({"quantity": "0.1", "client_order_id": "no spaces please"}, "client_order_id", "letters, digits"),
        ({"quantity": "0.1", "client_order_id": "x" * 37}, "client_order_id", "1 to 36"),
        ({"type": "oco", "side": "sell", "quantity": "0.1", "price": "49000", "stop_price": "45000"}, "price", "above"),
        ({"type": "oco", "side": "buy", "quantity": "0.1", "price": "45000", "stop_price": "49000"}, "stop_price", ""),
    ],
)
def test_bad_input_is_refused_on_its_field_and_leaves_the_ledger_untouched(account, fields, field, words):
    before = ledger_state(account)

    with pytest.raises(ValidationError) as refused:
        place(account, **fields)

    messages = refused.value.message_dict
    assert field in messages, messages
    assert words in " ".join(messages[field])
    assert ledger_state(account) == before


def test_an_unknown_symbol_is_refused_on_the_symbol_field(account):
    before = ledger_state(account)
    with pytest.raises(UnknownSymbol) as refused:
        place(account, symbol="FOO/USDT", quantity="1")
    assert refused.value.field == "symbol" and refused.value.status_code == 400
    assert ledger_state(account) == before


def test_open_orders_are_capped_per_user(account, settings):
    settings.MAX_OPEN_ORDERS_PER_USER = 2
    place(account, type="limit", quantity="0.001", price="40000")
    place(account, type="limit", quantity="0.001", price="40000")

    with pytest.raises(OpenOrderLimitReached):
        place(account, type="limit", quantity="0.001", price="40000")
    assert Order.objects.filter(account=account).count() == 2


def test_placing_is_audited_with_what_was_asked(account):
    order = place(account, type="limit", quantity="0.1", price="45000").order
    event = AuditEvent.objects.get(action="order.placed", details__order_id=order.pk)
    assert event.details["symbol"] == "BTC/USDT" and event.details["type"] == "limit"


def test_the_payload_says_decimals_as_strings(account):
    payload = order_payload(place(account, type="limit", quantity="0.1", price="45000").order)
    assert payload["quantity"] == "0.1" and payload["price"] == "45000" and payload["status"] == "open"
    assert payload["execution"] == "paper" and payload["reserved_amount"] == "4504.5"
