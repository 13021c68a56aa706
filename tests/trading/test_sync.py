"""Exchange accounts synced from the exchange through ccxt's real client and the loopback emulator.

The exchange is the truth for an exchange account's money: a sync writes one `adjustment` entry per
asset that differs (so every total stays the sum of its entries), sets what is locked to what the
exchange holds for orders plus what the orders held here reserve, picks up what happened to our
orders there, and writes nothing when nothing changed.
"""

from __future__ import annotations

import time
from decimal import ROUND_DOWN, Decimal

import pytest
from django.db.models import Sum

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, place, placed, synced_exchange_account
from trading import exchange_errors
from trading.exchange_errors import UNKNOWN_OUTCOME_NOTE
from trading.ledger_check import check_ledger
from trading.models import Balance, EntryKind, Fill, LedgerEntry, OrderStatus, TradingAccount
from trading.services.accounts import exchange_account_open
from trading.services.live import NotAnExchangeAccount, account_sync

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _prices_from_the_exchange(settings):
    settings.MARKET_DATA_EXCHANGE = "binance"


def exchange_account(user, keys) -> TradingAccount:
    return exchange_account_open(actor=TEST_ACTOR, connection=connect(user, keys))


def holdings(account: TradingAccount) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.total, b.locked) for b in Balance.objects.filter(account=account).nonzero()}


def entries_sum(account: TradingAccount, asset: str) -> Decimal:
    return LedgerEntry.objects.filter(account=account, asset=asset).aggregate(s=Sum("amount"))["s"] or Decimal(0)


def test_the_first_sync_writes_the_exchanges_balances_as_adjustment_entries(owner, emulated_exchanges, binance_keys):
    account = exchange_account(owner, binance_keys)
    assert not Balance.objects.filter(account=account).nonzero().exists(), "nothing until the exchange is read"

    result = account_sync(actor=TEST_ACTOR, account=account)

    account.refresh_from_db()
    assert (result.ok, result.adjustments, result.error) == (True, 2, "")
    assert holdings(account) == {"USDT": (Decimal("10000"), Decimal(0)), "BTC": (Decimal("0.5"), Decimal(0))}
    entries = LedgerEntry.objects.filter(account=account)
    assert {(e.asset, e.kind, e.amount) for e in entries} == {
        ("USDT", EntryKind.ADJUSTMENT, Decimal("10000")),
        ("BTC", EntryKind.ADJUSTMENT, Decimal("0.5")),
    }
    assert all("Binance" in e.note for e in entries)
    assert account.synced_at == result.synced_at and account.sync_error == ""


def test_money_moved_on_the_exchange_is_one_more_adjustment_and_a_second_sync_writes_nothing(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    exchange_emulator.set_balances("binance", binance_keys["api_key"], {"USDT": "12500.25", "ETH": "3"})

    moved = account_sync(actor=TEST_ACTOR, account=account)
    written = LedgerEntry.objects.filter(account=account).count()
    again = account_sync(actor=TEST_ACTOR, account=account)

    assert moved.adjustments == 3, "USDT up, BTC gone, ETH new"
    assert holdings(account) == {"USDT": (Decimal("12500.25"), Decimal(0)), "ETH": (Decimal("3"), Decimal(0))}
    for asset in ("USDT", "BTC", "ETH"):
        assert entries_sum(account, asset) == Balance.objects.get(account=account, asset=asset).total
    assert (again.ok, again.adjustments, again.fills, again.orders_updated) == (True, 0, 0, 0)
    assert LedgerEntry.objects.filter(account=account).count() == written, "idempotent"


def test_locked_is_what_the_exchange_holds_for_orders_plus_what_the_orders_held_here_reserve(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    last = exchange_emulator.price("binance", "BTC")
    limit = place(account, side="buy", type="limit", quantity=Decimal("0.01"), price=Decimal("50000"))
    stop = place(
        account,
        side="sell",
        type="stop_loss",
        quantity=Decimal("0.1"),
        stop_price=(last * Decimal("0.9")).quantize(Decimal("0.01")),
    )

    result = account_sync(actor=TEST_ACTOR, account=account)

    limit.refresh_from_db()
    stop.refresh_from_db()
    assert (limit.status, limit.execution, stop.execution) == (OrderStatus.OPEN, "native", "emulated")
    assert exchange_emulator.balance("binance", binance_keys["api_key"], "USDT")[1] == Decimal("500")
    assert holdings(account) == {
        "USDT": (Decimal("10000"), Decimal("500")),  # held by the exchange for the resting limit
        "BTC": (Decimal("0.5"), Decimal("0.1")),  # reserved here by the stop-loss we hold
    }
    assert result.adjustments == 0


def test_an_order_cancelled_on_the_exchange_is_cancelled_here_by_the_sync_and_its_funds_freed(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    order = place(account, side="buy", type="limit", quantity=Decimal("0.01"), price=Decimal("50000"))
    state = exchange_emulator.states["binance"]
    state.cancel(state.keys[binance_keys["api_key"]].account, int(order.exchange_order_id))  # on the exchange's site

    result = account_sync(actor=TEST_ACTOR, account=account)

    order.refresh_from_db()
    assert (result.orders_updated, order.status, order.closed_at is not None) == (1, OrderStatus.CANCELLED, True)
    assert holdings(account)["USDT"] == (Decimal("10000"), Decimal(0))


def test_a_sync_that_cannot_reach_the_exchange_says_so_and_changes_nothing(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = exchange_account(owner, binance_keys)
    first = account_sync(actor=TEST_ACTOR, account=account)
    entries = LedgerEntry.objects.filter(account=account).count()
    exchange_emulator.stop()
    try:
        result = account_sync(actor=TEST_ACTOR, account=account)
    finally:
        exchange_emulator.start()

    account.refresh_from_db()
    assert result.ok is False and result.error == exchange_errors.MESSAGES[exchange_errors.NETWORK_ERROR]
    assert account.sync_error == result.error and account.synced_at == first.synced_at, "the last good sync stays"
    assert LedgerEntry.objects.filter(account=account).count() == entries
    assert (
        account_sync(actor=TEST_ACTOR, account=account).ok
        and TradingAccount.objects.get(pk=account.pk).sync_error == ""
    )


def test_a_sync_with_a_key_the_exchange_deleted_says_the_key_was_refused(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = exchange_account(owner, binance_keys)
    exchange_emulator.remove_key("binance", binance_keys["api_key"])

    result = account_sync(actor=TEST_ACTOR, account=account)

    assert result.ok is False and result.error == exchange_errors.MESSAGES[exchange_errors.INVALID_KEY]
    assert binance_keys["api_key"] not in result.error


def test_a_paper_account_has_nothing_to_sync(verified_owner):
    with pytest.raises(NotAnExchangeAccount) as refused:
        account_sync(actor=TEST_ACTOR, account=paper_account(verified_owner))
    assert refused.value.status_code == 409


def test_a_resting_order_holding_all_of_an_asset_can_spend_it_when_the_exchange_fills_it(
    owner, emulated_exchanges, exchange_emulator, binance_keys
):
    account = synced_exchange_account(owner, binance_keys)
    order = place(account, side="buy", type="limit", quantity=Decimal("0.199"), price=Decimal("50000"))
    assert holdings(account)["USDT"] == (Decimal("10000"), Decimal("9950")), "the exchange holds nearly all of it"
    exchange_emulator.set_price("binance", "BTC", "49990")

    result = account_sync(actor=TEST_ACTOR, account=account)

    order.refresh_from_db()
    assert (result.ok, result.fills, result.adjustments, order.status) == (True, 1, 0, OrderStatus.FILLED)
    assert holdings(account)["USDT"] == (Decimal("50"), Decimal(0))
    assert holdings(account)["BTC"] == (Decimal("0.5") + Decimal("0.199") - Decimal("0.000199"), Decimal(0))
    assert entries_sum(account, "USDT") == Decimal("50")


def test_a_trade_whose_answer_was_lost_is_counted_once_though_a_balance_read_came_before_the_sync(
    owner, emulated_exchanges, exchange_emulator, binance_keys, settings
):
    account = synced_exchange_account(owner, binance_keys)
    price = exchange_emulator.price("binance", "BTC")
    quantity = (Decimal("9000") / price).quantize(Decimal("0.001"), rounding=ROUND_DOWN)  # nearly all the USDT
    settings.EXCHANGE_TIMEOUT_SECONDS = 1
    exchange_emulator.set_fault("binance", "slow", seconds=1.5, only="POST /api/v3/order")
    lost = place(account, side="buy", type="market", quantity=quantity, client_order_id="lost-answer")
    assert lost.reject_reason == UNKNOWN_OUTCOME_NOTE
    exchange_emulator.set_fault("binance", None)
    time.sleep(1.0)  # the exchange carries it out meanwhile
    # The owner places another order: the balances are read right after it, before any sync.
    placed(account, side="sell", type="limit", quantity=Decimal("0.001"), price=(price * 2).quantize(Decimal("0.01")))

    first = account_sync(actor=TEST_ACTOR, account=account)
    second = account_sync(actor=TEST_ACTOR, account=account)

    lost.refresh_from_db()
    assert first.ok and second.ok, (first.problems, second.problems)
    assert lost.status == OrderStatus.FILLED and Fill.objects.filter(order=lost).count() == 1
    assert second.adjustments == 0 and second.fills == 0
    usdt = Balance.objects.get(account=account, asset="USDT")
    free, used = exchange_emulator.balance("binance", binance_keys["api_key"], "USDT")
    assert usdt.total == free + used, "the trade was spent once"
    adjustments = LedgerEntry.objects.filter(account=account, asset="USDT", kind=EntryKind.ADJUSTMENT)
    assert adjustments.count() == 1, "only the first sync's opening balance: the trade is a trade, not an adjustment"
    assert check_ledger(account_ids=[account.pk]).ok
