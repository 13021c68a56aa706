"""The transactions page (/transactions/): every ledger entry (deposits, withdrawals, trades, fees,
adjustments, resets) in one list with its filters, and the two CSV downloads for taxes.

The list and its CSV read the same selector through the same FilterSet, so the file holds exactly
what the filtered page lists (every row, not one page); the trades CSV takes the filters the two
share (account, dates). Another user's account in a filter is an invalid choice, never their rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_filters.views import FilterView

from cryptovault.api.pagination import StandardPagination
from cryptovault.pages import filters_applied
from trading.exports import trades_csv_response, transactions_csv_response
from trading.filters import FillFilterSet, TransactionFilterSet
from trading.selectors import fills_for, transactions_for

# The transactions page's filters the trades CSV understands too (a trade has no asset or kind).
SHARED_WITH_TRADES = ("account", "created_after", "created_before")


class TransactionsView(LoginRequiredMixin, FilterView):
    filterset_class = TransactionFilterSet
    template_name = "trading/transactions.html"
    paginate_by = StandardPagination.page_size

    def get_queryset(self):
        return transactions_for(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filtered"] = filters_applied(context["filter"])
        query = self.request.GET.copy()
        query.pop("page", None)
        context["export_query"] = query.urlencode()
        trades_query = query.copy()
        for name in list(trades_query):
            if name not in SHARED_WITH_TRADES:
                trades_query.pop(name)
        context["trades_query"] = trades_query.urlencode()
        return context


def _refused(request: HttpRequest, filterset: Any) -> HttpResponse:
    message = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
    context = {"status": 400, "title": "Bad request", "message": f"The filters were not understood ({message})."}
    return render(request, "error.html", context, status=400)


@login_required
@require_GET
def transactions_export(request: HttpRequest) -> HttpResponse:
    filterset = TransactionFilterSet(request.GET, queryset=transactions_for(request.user), request=request)
    if not filterset.is_valid():
        return _refused(request, filterset)
    return transactions_csv_response(request, filterset.qs)


@login_required
@require_GET
def trades_export(request: HttpRequest) -> HttpResponse:
    filterset = FillFilterSet(request.GET, queryset=fills_for(request.user), request=request)
    if not filterset.is_valid():
        return _refused(request, filterset)
    return trades_csv_response(request, filterset.qs)
