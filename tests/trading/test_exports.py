"""The trades and transactions CSV files, for tax tools: every row the filters match, streamed from
one query however many there are; times in UTC, amounts as plain signed decimals; no cell a
spreadsheet would run; nothing of another user's; the page and the API give the same file.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice

import pytest
from asgiref.sync import async_to_sync
from django.db import connection, transaction
from django.test import AsyncClient
from django.utils import timezone

from tests.trading.helpers import paper_account
from trading.exports import (
    CHUNK,
    TRADE_COLUMNS,
    TRANSACTION_COLUMNS,
    trades_csv_lines,
    transactions_csv_lines,
)
from trading.models import EntryKind, Execution, Fill, LedgerEntry, Order, TradingAccount
from trading.selectors import fills_for, transactions_for
from trading.services.ledger import lock_balances, post_entry

D = Decimal
PAGE_TRADES, PAGE_TRANSACTIONS = "/trades/export.csv", "/transactions/export.csv"
API_TRADES, API_TRANSACTIONS = "/api/v1/trades/export/", "/api/v1/transactions/export/"
AT = datetime(2026, 3, 4, 23, 30, 5, tzinfo=UTC)


def an_order(account, number: int = 0, *, symbol="BTC/USDT", side="buy", **fields) -> Order:
    base, quote = symbol.split("/")
    return Order.objects.create(
        user_id=account.user_id,
        account=account,
        client_order_id=fields.pop("client_order_id", f"exp-{account.pk}-{number}"),
        request_fingerprint="0" * 64,
        symbol=symbol,
        base_asset=base,
        quote_asset=quote,
        side=side,
        type="market",
        quantity=D("0.5"),
        status="filled",
        execution=Execution.PAPER,
        **fields,
    )


def a_fill(order, price="64000.5", quantity="0.5", **fields) -> Fill:
    return Fill.objects.create(
        order=order,
        account=order.account,
        price=D(price),
        quantity=D(quantity),
        quote_quantity=D(price) * D(quantity),
        **fields,
    )


def an_entry(account, asset, amount, kind=EntryKind.ADJUSTMENT, **fields) -> LedgerEntry:
    with transaction.atomic():
        return post_entry(balance=lock_balances(account, [asset])[asset], kind=kind, amount=D(amount), **fields)


def many_entries(account, count: int) -> None:
    """`count` trade entries written by the database itself (one INSERT ... SELECT over a counter),
    so the test measures the export, not Python building 100,000 objects."""
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, asset, kind, amount, balance_after, note, created_at) "  # noqa: S608
            "WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < %s) "
            "SELECT %s, 'BTC', 'trade', %s, %s * n, 'Bought in a fill', %s FROM counter",
            [count, account.pk, D("0.00012345"), D("0.00012345"), timezone.now()],
        )


def rows_of(lines) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines))))


def download(client, url: str) -> tuple[object, list[list[str]]]:
    answer = client.get(url)
    assert answer.status_code == 200, getattr(answer, "content", b"")[:500]
    assert answer.streaming, "the file is streamed, not built in memory"
    return answer, rows_of(part.decode() for part in answer.streaming_content)


@pytest.mark.django_db
def test_a_trade_reads_in_the_csv_with_its_utc_time_plain_decimals_and_ids(owner):
    account = paper_account(owner)
    order = an_order(account, client_order_id="my-bot-17", side="sell")
    a_fill(order, fee=D("0.032000250000000000"), fee_asset="USDT", exchange_trade_id="T-991", created_at=AT)

    header, row = rows_of(trades_csv_lines(fills_for(owner)))

    assert header == list(TRADE_COLUMNS)
    assert dict(zip(header, row, strict=True)) == {
        "time_utc": "2026-03-04T23:30:05+00:00",
        "account": "Paper account",
        "symbol": "BTC/USDT",
        "side": "sell",
        "price": "64000.5",
        "quantity": "0.5",
        "quote_quantity": "32000.25",
        "fee": "0.03200025",
        "fee_asset": "USDT",
        "order_id": str(order.pk),
        "client_order_id": "my-bot-17",
        "exchange_trade_id": "T-991",
    }


@pytest.mark.django_db
def test_a_transaction_keeps_its_sign_its_balance_after_and_its_order(owner):
    account = paper_account(owner)  # deposit of 10,000 USDT
    order = an_order(account)
    an_entry(account, "USDT", "-100.25", kind=EntryKind.FEE, order=order, note="Taker fee")

    header, fee, deposit = rows_of(transactions_csv_lines(transactions_for(owner)))

    assert header == list(TRANSACTION_COLUMNS)
    assert dict(zip(header, fee, strict=True)) | {"time_utc": ""} == {
        "time_utc": "",
        "account": "Paper account",
        "kind": "fee",
        "asset": "USDT",
        "amount": "-100.25",
        "balance_after": "9899.75",
        "order_id": str(order.pk),
        "note": "Taker fee",
    }
    assert deposit[TRANSACTION_COLUMNS.index("amount")] == "10000"
    assert deposit[TRANSACTION_COLUMNS.index("order_id")] == ""
    assert datetime.fromisoformat(fee[0]).utcoffset().total_seconds() == 0


@pytest.mark.django_db
def test_text_a_spreadsheet_would_run_is_prefixed_but_negative_amounts_stay_numbers(owner):
    account = paper_account(owner)
    TradingAccount.objects.filter(pk=account.pk).update(name='=HYPERLINK("http://evil.example")')
    an_entry(account, "USDT", "-5", note="+1+cmd|' /C calc'!A0")
    a_fill(an_order(account), exchange_trade_id="@SUM(A1:A9)")

    _, entry, _deposit = rows_of(transactions_csv_lines(transactions_for(owner)))
    _, trade = rows_of(trades_csv_lines(fills_for(owner)))

    assert entry[TRANSACTION_COLUMNS.index("account")] == '\'=HYPERLINK("http://evil.example")'
    assert entry[TRANSACTION_COLUMNS.index("note")] == "'+1+cmd|' /C calc'!A0"
    assert entry[TRANSACTION_COLUMNS.index("amount")] == "-5", "a negative amount is a number, not a formula"
    assert trade[TRADE_COLUMNS.index("exchange_trade_id")] == "'@SUM(A1:A9)"
    assert trade[TRADE_COLUMNS.index("account")].startswith("'=")


@pytest.mark.django_db
def test_the_page_and_the_api_give_the_same_filtered_files_named_for_today_never_cached(
    owner_client, owner_api_client, owner
):
    account = paper_account(owner)
    a_fill(an_order(account, 1))
    a_fill(an_order(account, 2, symbol="ETH/USDT"), price="3000")
    an_entry(account, "BTC", "0.5")

    for what, page, api, query, expected in (
        ("trades", PAGE_TRADES, API_TRADES, f"account={account.pk}", 2),
        ("transactions", PAGE_TRANSACTIONS, API_TRANSACTIONS, "asset=btc", 1),
    ):
        answer, from_page = download(owner_client, f"{page}?{query}")
        _, from_api = download(owner_api_client, f"{api}?{query}")
        assert from_page == from_api and len(from_page) == 1 + expected
        assert answer["Content-Type"] == "text/csv; charset=utf-8"
        filename = f"cryptovault-{what}-{timezone.now():%Y-%m-%d}.csv"
        assert answer["Content-Disposition"] == f'attachment; filename="{filename}"'
        assert answer["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_an_outsiders_files_hold_none_of_the_owners_rows(owner, outsider, outsider_client):
    account = paper_account(owner)
    a_fill(an_order(account))
    for url, header in ((PAGE_TRADES, TRADE_COLUMNS), (PAGE_TRANSACTIONS, TRANSACTION_COLUMNS)):
        _, rows = download(outsider_client, url)
        assert rows == [list(header)]


@pytest.mark.django_db
def test_a_bad_filter_is_refused_not_exported_unfiltered(owner_client, owner_api_client, owner):
    paper_account(owner)
    assert owner_client.get(f"{PAGE_TRANSACTIONS}?kind=gift").status_code == 400
    refused = owner_api_client.get(f"{API_TRADES}?side=both&created_after=soon", HTTP_ACCEPT="text/csv")
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"side", "created_after"}


@pytest.mark.django_db
def test_an_asgi_server_streams_the_same_file_it_can_await(owner):
    """uvicorn gets an asynchronous stream (not a file Django buffers whole) holding the same rows."""
    account = paper_account(owner)
    a_fill(an_order(account))
    an_entry(account, "BTC", "0.5")

    async def export(url):
        client = AsyncClient()
        await client.aforce_login(owner)
        answer = await client.get(url)
        return answer, "".join([part.decode() async for part in answer.streaming_content])

    for url, lines in ((PAGE_TRADES, trades_csv_lines), (PAGE_TRANSACTIONS, transactions_csv_lines)):
        answer, body = async_to_sync(export)(url)
        assert answer.is_async
        selected = fills_for(owner) if lines is trades_csv_lines else transactions_for(owner)
        assert rows_of([body]) == rows_of(lines(selected))
        assert len(rows_of([body])) > 1


@pytest.mark.django_db
def test_a_hundred_thousand_transactions_stream_from_one_query_without_holding_the_file_in_memory(
    owner, django_assert_num_queries
):
    account = paper_account(owner)
    count = 100_000
    many_entries(account, count)

    with django_assert_num_queries(1):
        lines = transactions_csv_lines(transactions_for(owner))
        # Memory is traced while the first chunks are written: a file gathered before its first line
        # is sent would already hold every row here. The rest is read untraced (tracing is slow).
        tracemalloc.start()
        try:
            head = [len(line) for line in islice(lines, 3 * CHUNK)]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        rest = [len(line) for line in lines]

    size = sum(head) + sum(rest)
    assert len(head) + len(rest) == 1 + count + 1, "the header, every entry, the opening deposit"
    assert peak < size / 4, f"peak {peak:,} bytes for a {size:,}-byte file: rows are streamed, not gathered"
