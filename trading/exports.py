"""CSV files of trades (fills) and transactions (ledger entries), for tax tools and spreadsheets.

Every row the filter matches (not one page), streamed a chunk at a time from one cursor, so 100,000
trades cost one query and little memory. Times are UTC in ISO 8601 with their offset; amounts are
plain decimals (a dot, no thousands separator, no exponent) with their sign, as tax tools read them.

A spreadsheet runs a cell starting with = + - @ (or a tab or carriage return) as a formula.
Account names and notes are the user's (or an exchange's) text, so such cells are prefixed with an
apostrophe (`security.exports.csv_safe`). Numbers are ours and are left alone: "-0.5" is a negative
amount, which a spreadsheet reads as a number, and a tax tool must see it unaltered.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from itertools import islice
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from security.exports import csv_safe
from trading.models import Fill, LedgerEntry
from trading.portfolio import WIDE

CHUNK = 1000  # rows per fetch from the one cursor


def number(value: Decimal | None) -> str:
    """A decimal as a tax tool reads it: 0.5, -12.25, 100 (never 1E+2 nor 0.500000000000000000)."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    with localcontext(WIDE):
        return format(value.normalize(), "f")


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def text(value: str | None) -> str:
    """Someone's text (an account name, a note, an exchange's id): never a formula."""
    return csv_safe(value or "")


def plain(value: object) -> str:
    """Our own codes and ids (a kind, a side, a symbol, an order id), as they are."""
    return "" if value is None else str(value)


def utc_or_blank(value: datetime | None) -> str:
    return utc(value) if value else ""


# Each file is the columns' values read straight from the database (`values_list`, no model built
# per row: 100,000 rows stream in seconds), each put in words by its cell function.
Column = tuple[str, str, Callable[[Any], str]]  # (header, field path, cell)

TRADE_FIELDS: tuple[Column, ...] = (
    ("time_utc", "created_at", utc_or_blank),
    ("account", "account__name", text),
    ("symbol", "order__symbol", plain),
    ("side", "order__side", plain),
    ("price", "price", number),
    ("quantity", "quantity", number),
    ("quote_quantity", "quote_quantity", number),
    ("fee", "fee", number),
    ("fee_asset", "fee_asset", text),
    ("order_id", "order_id", plain),
    ("client_order_id", "order__client_order_id", text),
    ("exchange_trade_id", "exchange_trade_id", text),
)
TRANSACTION_FIELDS: tuple[Column, ...] = (
    ("time_utc", "created_at", utc_or_blank),
    ("account", "account__name", text),
    ("kind", "kind", plain),
    ("asset", "asset", text),
    ("amount", "amount", number),
    ("balance_after", "balance_after", number),
    ("order_id", "order_id", plain),
    ("note", "note", text),
)
TRADE_COLUMNS = tuple(header for header, _, _ in TRADE_FIELDS)
TRANSACTION_COLUMNS = tuple(header for header, _, _ in TRANSACTION_FIELDS)


class _Echo:
    """csv.writer writes into this and gets the line back, so each row can be yielded."""

    def write(self, line: str) -> str:
        return line


def _values(rows: QuerySet, columns: Sequence[Column]) -> QuerySet:
    return rows.values_list(*(path for _, path, _ in columns))


def _cells(values: Sequence[Any], columns: Sequence[Column]) -> list[str]:
    return [cell(value) for (_, _, cell), value in zip(columns, values, strict=True)]


def _body(rows: QuerySet, columns: Sequence[Column]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for values in _values(rows, columns).iterator(chunk_size=CHUNK):
        yield writer.writerow(_cells(values, columns))


def _header(columns: Sequence[Column]) -> str:
    return csv.writer(_Echo()).writerow([header for header, _, _ in columns])


def csv_lines(rows: QuerySet, columns: Sequence[Column]) -> Iterator[str]:
    """The header, then one line per row of `rows` (gated and filtered), read a chunk at a time."""
    yield _header(columns)
    yield from _body(rows, columns)


def _next_lines(lines: Iterator[str]) -> list[str]:
    return list(islice(lines, CHUNK))


async def csv_lines_async(rows: QuerySet, columns: Sequence[Column]) -> AsyncIterator[str]:
    """`csv_lines` for an ASGI server: each chunk is read and written in the database's thread.

    (Not `QuerySet.aiterator()`: for `values_list` it runs the query in the event loop, which
    Django refuses.)
    """
    yield _header(columns)
    lines = _body(rows, columns)  # a generator: nothing runs until the first chunk is asked for
    while True:
        chunk = await sync_to_async(_next_lines)(lines)
        for line in chunk:
            yield line
        if len(chunk) < CHUNK:
            return


def trades_csv_lines(fills: QuerySet[Fill]) -> Iterator[str]:
    return csv_lines(fills, TRADE_FIELDS)


def transactions_csv_lines(entries: QuerySet[LedgerEntry]) -> Iterator[str]:
    return csv_lines(entries, TRANSACTION_FIELDS)


def export_filename(what: str) -> str:
    return f"cryptovault-{what}-{timezone.now():%Y-%m-%d}.csv"


def _response(request: HttpRequest, rows: QuerySet, columns: Sequence[Column], what: str) -> StreamingHttpResponse:
    """`rows` (already gated and filtered) as a CSV download that no cache keeps.

    Streamed under WSGI (gunicorn) and ASGI (uvicorn) alike: each server gets the kind of iterator it
    can stream (Django buffers the other kind whole, with a warning).
    """
    served_by_asgi = isinstance(getattr(request, "_request", request), ASGIRequest)
    lines = csv_lines_async(rows, columns) if served_by_asgi else csv_lines(rows, columns)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(what)}"'
    response["Cache-Control"] = "no-store"
    return response


def trades_csv_response(request: HttpRequest, fills: QuerySet[Fill]) -> StreamingHttpResponse:
    """The trades CSV: `fills` from `trading.selectors.fills_for`, narrowed by `FillFilterSet`."""
    return _response(request, fills, TRADE_FIELDS, "trades")


def transactions_csv_response(request: HttpRequest, entries: QuerySet[LedgerEntry]) -> StreamingHttpResponse:
    """The transactions CSV: `entries` from `trading.selectors.transactions_for`, narrowed by
    `TransactionFilterSet`."""
    return _response(request, entries, TRANSACTION_FIELDS, "transactions")
