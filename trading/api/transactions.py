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


@extend_schema_view(
    get=extend_schema(
        summary="Your transactions",
        description="Every ledger entry of your accounts, newest first: deposits, withdrawals, trades, fees, "
        "adjustments and resets, with the transactions page's filters. An API key needs `read`.",
        tags=TAGS,
    )
)
class TransactionListView(TransactionsApiView):
    pass


@extend_schema_view(
    get=extend_schema(
        summary="Export your transactions (CSV)",
        operation_id="transactions_export",
        description="Every entry the filters match, in one CSV file with a header row: "
        f"{_columns(TRANSACTION_COLUMNS)}. " + CSV_RULES.replace("{what}", "transactions"),
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file.")},
        tags=TAGS,
    )
)
class TransactionExportView(CsvExportMixin, TransactionsApiView):
    def list(self, request, *args, **kwargs):
        return transactions_csv_response(request, self.filter_queryset(self.get_queryset()))


@extend_schema_view(
    get=extend_schema(
        summary="Your trades",
        description="Every fill of your orders, newest first, with its price, quantity and fee; filters `account`, "
        "`symbol`, `side`, `created_after`, `created_before`. An API key needs `read`.",
        tags=TAGS,
    )
)
class TradeListView(TradesApiView):
    pass


@extend_schema_view(
    get=extend_schema(
        summary="Export your trades (CSV)",
        operation_id="trades_export",
        description="Every fill the filters match, in one CSV file with a header row: "
        f"{_columns(TRADE_COLUMNS)}. " + CSV_RULES.replace("{what}", "trades"),
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file.")},
        tags=TAGS,
    )
)
class TradeExportView(CsvExportMixin, TradesApiView):
    def list(self, request, *args, **kwargs):
        return trades_csv_response(request, self.filter_queryset(self.get_queryset()))
