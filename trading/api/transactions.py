"""/api/v1/transactions/ and /api/v1/trades/: the ledger and the fills, listed and exported as CSV.

Lists and files share the pages' selectors and FilterSets, so the same query string asks the same
question of the page, the list and the file. A CSV holds every row the filters match (not one
page), streamed (`trading.exports`).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics

from cryptovault.api.renderers import SafeJSONRenderer
from security.api.views import JsonErrorsNegotiation, ListExportSchema
from trading.api.account_serializers import LedgerEntrySerializer
from trading.api.common import TradingApiView
from trading.api.order_serializers import FillSerializer
from trading.exports import (
    TRADE_COLUMNS,
    TRANSACTION_COLUMNS,
    trades_csv_response,
    transactions_csv_response,
)
from trading.filters import FillFilterSet, TransactionFilterSet
from trading.selectors import fills_for, transactions_for

TAGS = ["transactions"]
CSV_RULES = (
    "Times in UTC (ISO 8601 with the offset), amounts as plain signed decimals. Cells of your own text starting "
    "with = + - @ are prefixed with an apostrophe so no spreadsheet runs them. Sent as an attachment named "
    "`cryptovault-{what}-YYYY-MM-DD.csv` (today, UTC), never cached. An API key needs `read`."
)


def _columns(columns: tuple[str, ...]) -> str:
    return ", ".join(f"`{column}`" for column in columns)


def _documented(summary: str, description: str, **more):
    """The OpenAPI description of a view's GET, under this module's tag."""
    return extend_schema_view(get=extend_schema(summary=summary, description=description, tags=TAGS, **more))


def _csv_export_schema(what: str, rows: str, columns: tuple[str, ...]):
    """The OpenAPI description of an export: the same words for every file but what it holds."""
    return _documented(
        f"Export your {what} (CSV)",
        f"{rows} the filters match, in one CSV file with a header row: "
        f"{_columns(columns)}. " + CSV_RULES.replace("{what}", what),
        operation_id=f"{what}_export",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file.")},
    )


class TransactionsApiView(TradingApiView, generics.ListAPIView):
    serializer_class = LedgerEntrySerializer
    filterset_class = TransactionFilterSet

    def get_queryset(self):
        return transactions_for(self.request.user)


class TradesApiView(TradingApiView, generics.ListAPIView):
    serializer_class = FillSerializer
    filterset_class = FillFilterSet

    def get_queryset(self):
        return fills_for(self.request.user)


class CsvExportMixin:
    """A file made of the list: every filtered row, its errors still JSON."""

    pagination_class = None
    renderer_classes = [SafeJSONRenderer]  # for the errors; the file itself is streamed as text/csv
    content_negotiation_class = JsonErrorsNegotiation
    schema = ListExportSchema()


@_documented(
    "Your transactions",
    "Every ledger entry of your accounts, newest first: deposits, withdrawals, trades, fees, "
    "adjustments and resets, with the transactions page's filters. An API key needs `read`.",
)
class TransactionListView(TransactionsApiView):
    pass


@_csv_export_schema("transactions", "Every entry", TRANSACTION_COLUMNS)
class TransactionExportView(CsvExportMixin, TransactionsApiView):
    def list(self, request, *args, **kwargs):
        return transactions_csv_response(request, self.filter_queryset(self.get_queryset()))


@_documented(
    "Your trades",
    "Every fill of your orders, newest first, with its price, quantity and fee; filters `account`, "
    "`symbol`, `side`, `created_after`, `created_before`. An API key needs `read`.",
)
class TradeListView(TradesApiView):
    pass


@_csv_export_schema("trades", "Every fill", TRADE_COLUMNS)
class TradeExportView(CsvExportMixin, TradesApiView):
    def list(self, request, *args, **kwargs):
        return trades_csv_response(request, self.filter_queryset(self.get_queryset()))
