"""Trading's reads: every list starts from the read gate (another user's rows are never found), joins
what its rows show (the same queries for one row or fifty), and narrows through the FilterSets the
pages and the API share, where a bad value is an error, never silently ignored.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import transaction

from tests.trading.helpers import paper_account
from trading.filters import FillFilterSet, OrderFilterSet, TransactionFilterSet
from trading.models import (
    EntryKind,
    EquitySnapshot,
    Execution,
    Fill,
    LedgerEntry,
    Order,
    OrderStatus,
    TradingAccount,
)
from trading.selectors import (
    account_for,
    accounts_for,
    balances_for,
    equity_history_for,
    fills_for,
    open_orders_for,
    order_for,
    orders_for,
    transactions_for,
)
from trading.services.ledger import lock_balances, post_entry

D = Decimal


def an_order(account, number: int = 0, *, symbol="BTC/USDT", side="buy", type="limit", status="open", **fields):
    base, quote = symbol.split("/")
    return Order.objects.create(
        user_id=account.user_id,
        account=account,
        client_order_id=f"sel-{account.pk}-{number}",
        request_fingerprint="0" * 64,
        symbol=symbol,
        base_asset=base,
        quote_asset=quote,
        side=side,
        type=type,
        quantity=D("0.01"),
        price=D("60000"),
        status=status,
        execution=Execution.PAPER,
        **fields,
    )


def a_fill(order, *, price="60000", quantity="0.01", **fields) -> Fill:
    return Fill.objects.create(
        order=order,
        account=order.account,
        price=D(price),
        quantity=D(quantity),
        quote_quantity=D(price) * D(quantity),
        **fields,
    )


def an_entry(account, asset="USDT", amount="5", kind=EntryKind.ADJUSTMENT, note="") -> LedgerEntry:
    with transaction.atomic():
        balance = lock_balances(account, [asset])[asset]
        return post_entry(balance=balance, kind=kind, amount=D(amount), note=note)


def request_of(user) -> SimpleNamespace:
    """What a FilterSet reads of a request: the user (for their accounts and time zone)."""
    return SimpleNamespace(user=user)


# The read gate ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_list_holds_only_the_users_own_rows(owner, outsider):
    mine, theirs = paper_account(owner), paper_account(outsider)
    for account in (mine, theirs):
        a_fill(an_order(account, status=OrderStatus.FILLED))
        an_order(account, 1)
        EquitySnapshot.objects.create(user_id=account.user_id, date=date(2026, 1, 1), total_value=D(1))

    assert list(accounts_for(owner)) == [mine]
    assert {balance.account_id for balance in balances_for(owner)} == {mine.pk}
    assert {order.account_id for order in orders_for(owner)} == {mine.pk} and orders_for(owner).count() == 2
    assert {order.account_id for order in open_orders_for(owner)} == {mine.pk}
    assert {fill.account_id for fill in fills_for(owner)} == {mine.pk}
    assert {entry.account_id for entry in transactions_for(owner)} == {mine.pk}
    assert {snapshot.user_id for snapshot in equity_history_for(owner)} == {owner.pk}


@pytest.mark.django_db
def test_another_users_order_or_account_is_not_found(owner, outsider):
    theirs = paper_account(outsider)
    order = an_order(theirs)
    paper_account(owner)
    with pytest.raises(Order.DoesNotExist):
        order_for(owner, order.pk)
    with pytest.raises(TradingAccount.DoesNotExist):
        account_for(owner, theirs.pk)
    assert order_for(outsider, order.pk) == order


@pytest.mark.django_db
def test_nobody_signed_out_sees_anything(owner):
    from django.contrib.auth.models import AnonymousUser

    an_order(paper_account(owner))
    assert not orders_for(AnonymousUser()).exists() and not accounts_for(None).exists()


@pytest.mark.django_db
def test_open_orders_are_those_still_working(owner):
    account = paper_account(owner)
    for number, status in enumerate(OrderStatus.values):
        an_order(account, number, status=status)
    assert {order.status for order in open_orders_for(owner)} == {"pending", "open", "partially_filled"}


@pytest.mark.django_db
def test_lists_come_newest_first_and_the_equity_history_oldest_first(owner):
    account = paper_account(owner)
    first, second = an_order(account, 1), an_order(account, 2)
    for day in (date(2026, 3, 2), date(2026, 3, 1), date(2026, 3, 3)):
        EquitySnapshot.objects.create(user=owner, date=day, total_value=D(1))
    assert list(orders_for(owner)) == [second, first]
    assert [snapshot.date.day for snapshot in equity_history_for(owner)] == [1, 2, 3]


# Query counts ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 40])
def test_a_list_costs_one_query_for_one_row_or_many(owner, rows, django_assert_num_queries):
    account = paper_account(owner)
    for number in range(rows):
        a_fill(an_order(account, number))
        an_entry(account)

    with django_assert_num_queries(1):
        assert len([(order.symbol, order.account.name) for order in orders_for(owner)]) == rows
    with django_assert_num_queries(1):
        assert len([(fill.order.symbol, fill.order.side, fill.account.name) for fill in fills_for(owner)]) == rows
    with django_assert_num_queries(1):
        assert len([(entry.asset, entry.account.name) for entry in transactions_for(owner)]) == rows + 1
    with django_assert_num_queries(1):
        assert [(balance.asset, balance.account.kind) for balance in balances_for(owner)] == [("USDT", "paper")]
    with django_assert_num_queries(1):
        assert [(a.name, a.connection) for a in accounts_for(owner)] == [(account.name, None)]


# Filters ---------------------------------------------------------------------------------------


def narrowed(filterset_class, user, queryset, **query):
    filterset = filterset_class(query, queryset=queryset, request=request_of(user))
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs)


def refused(filterset_class, user, queryset, **query) -> set[str]:
    filterset = filterset_class(query, queryset=queryset, request=request_of(user))
    assert not filterset.is_valid()
    return set(filterset.errors)


@pytest.mark.django_db
def test_orders_filter_by_market_in_any_spelling_side_type_status_and_open(owner):
    account = paper_account(owner)
    btc_buy = an_order(account, 1)
    eth_sell = an_order(account, 2, symbol="ETH/USDT", side="sell", type="market", status="filled")
    stop = an_order(account, 3, type="stop_loss", side="sell", status="pending")

    assert narrowed(OrderFilterSet, owner, orders_for(owner), symbol="eth-usdt") == [eth_sell]
    assert narrowed(OrderFilterSet, owner, orders_for(owner), side="sell") == [stop, eth_sell]
    assert narrowed(OrderFilterSet, owner, orders_for(owner), type="stop_loss") == [stop]
    assert narrowed(OrderFilterSet, owner, orders_for(owner), status="filled") == [eth_sell]
    assert narrowed(OrderFilterSet, owner, orders_for(owner), open="true") == [stop, btc_buy]
    assert narrowed(OrderFilterSet, owner, orders_for(owner), open="false") == [eth_sell]
    assert narrowed(OrderFilterSet, owner, orders_for(owner), account=str(account.pk)) == [stop, eth_sell, btc_buy]


@pytest.mark.django_db
def test_a_bad_order_filter_is_an_error_on_each_field_never_ignored(owner, outsider):
    paper_account(owner)
    theirs = paper_account(outsider)
    errors = refused(
        OrderFilterSet,
        owner,
        orders_for(owner),
        symbol="DOGE/EUR",
        side="long",
        type="iceberg",
        status="done",
        open="maybe",
        account=str(theirs.pk),
        created_after="yesterday",
    )
    assert errors == {"symbol", "side", "type", "status", "open", "account", "created_after"}


@pytest.mark.django_db
def test_transactions_filter_by_account_asset_any_case_and_kind(owner):
    account = paper_account(owner)  # the opening deposit of USDT
    fee = an_entry(account, "BTC", "1", kind=EntryKind.DEPOSIT)
    an_entry(account, "BTC", "-0.001", kind=EntryKind.FEE)

    assert [e.kind for e in narrowed(TransactionFilterSet, owner, transactions_for(owner), asset="btc")] == [
        "fee",
        "deposit",
    ]
    deposits = narrowed(TransactionFilterSet, owner, transactions_for(owner), kind="deposit")
    assert {(entry.asset, entry.amount) for entry in deposits} == {("USDT", D("10000")), ("BTC", fee.amount)}
    assert refused(TransactionFilterSet, owner, transactions_for(owner), asset="B-T-C", kind="gift") == {
        "asset",
        "kind",
    }


@pytest.mark.django_db
def test_days_are_whole_days_in_the_users_time_zone(owner):
    owner.timezone = "Asia/Tokyo"  # UTC+9
    owner.save(update_fields=["timezone"])
    account = paper_account(owner)
    order = an_order(account)
    # 2026-03-01 20:00 UTC is already 2 March in Tokyo.
    Order.objects.filter(pk=order.pk).update(created_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))

    on_the_2nd = {"created_after": "2026-03-02", "created_before": "2026-03-02"}
    on_the_1st = {"created_after": "2026-03-01", "created_before": "2026-03-01"}
    assert narrowed(OrderFilterSet, owner, orders_for(owner), **on_the_2nd) == [order]
    assert narrowed(OrderFilterSet, owner, orders_for(owner), **on_the_1st) == []


@pytest.mark.django_db
def test_trades_filter_by_market_side_and_account(owner):
    account = paper_account(owner)
    btc = a_fill(an_order(account, 1, status="filled"))
    eth = a_fill(an_order(account, 2, symbol="ETH/USDT", side="sell", status="filled"), price="3000")

    assert narrowed(FillFilterSet, owner, fills_for(owner), symbol="BTCUSDT") == [btc]
    assert narrowed(FillFilterSet, owner, fills_for(owner), side="sell") == [eth]
    assert narrowed(FillFilterSet, owner, fills_for(owner), account=str(account.pk)) == [eth, btc]
    assert refused(FillFilterSet, owner, fills_for(owner), side="both", created_before="2026-13-01") == {
        "side",
        "created_before",
    }


@pytest.mark.django_db
def test_the_account_filter_offers_only_the_users_accounts(owner, outsider):
    mine = paper_account(owner)
    paper_account(outsider)
    field = OrderFilterSet({}, queryset=orders_for(owner), request=request_of(owner)).form.fields["account"]
    assert list(field.queryset) == [mine]


@pytest.mark.django_db
def test_balances_list_every_asset_of_every_account_zero_ones_included(owner):
    account = paper_account(owner)
    with transaction.atomic():
        lock_balances(account, ["ETH"])  # an asset row at zero (a sold-off position)
    assert [(b.asset, b.total) for b in balances_for(owner)] == [("ETH", 0), ("USDT", D("10000"))]


@pytest.mark.django_db
def test_the_api_lists_answer_a_bad_filter_with_400_naming_each_field(owner_api_client, owner, outsider):
    paper_account(owner)
    theirs = paper_account(outsider)
    for url, query, fields in (
        ("/api/v1/orders/", f"status=done&open=maybe&account={theirs.pk}", {"status", "open", "account"}),
        ("/api/v1/transactions/", "asset=B-T-C&kind=gift&created_before=soon", {"asset", "kind", "created_before"}),
        ("/api/v1/trades/", "symbol=DOGE/EUR&side=both", {"symbol", "side"}),
    ):
        answer = owner_api_client.get(f"{url}?{query}")
        assert answer.status_code == 400, (url, answer.content[:300])
        assert set(answer.json()["errors"]) == fields


@pytest.mark.django_db
def test_the_order_history_page_shows_a_bad_filter_as_form_errors(owner_client, owner):
    an_order(paper_account(owner))
    answer = owner_client.get("/orders/history/?side=long&created_after=yesterday")
    assert answer.status_code == 200
    assert set(answer.context["filter"].form.errors) == {"side", "created_after"}
