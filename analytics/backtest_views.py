"""The backtest pages, under /analytics/backtests/: the list (status and progress, kept live), the
new-backtest form, one backtest (live progress while it runs; when done its charts, metrics, trades,
benchmark, ranking, walk-forward windows and Monte Carlo), its cancel confirmation, and a comparison of
2 to 4 of them.

Every page starts from `analytics.selectors` (behind the read gate): another user's backtest is not found.
Charts are drawn by static/js/backtests.js from the backtest's API answer (the CSP allows no inline script).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_filters.views import FilterView

from analytics.backtest.jobs import space_text
from analytics.backtest.strategies import STRATEGIES
from analytics.errors import BacktestCompareInvalid
from analytics.filters import BacktestFilterSet
from analytics.forms import BacktestForm
from analytics.models import Backtest, BacktestKind
from analytics.selectors import backtest_for, backtests_for, backtests_to_compare, parse_ids
from analytics.services import backtest_cancel, backtest_create
from cryptovault.api.pagination import StandardPagination
from cryptovault.pages import filters_applied, page_actor, submit

METRIC_ROWS = (
    ("net_return", "Net return", "pct"),
    ("final_equity", "Final equity", "money"),
    ("annual_return", "Annual return", "pct"),
    ("volatility", "Volatility (annual)", "pct"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("calmar", "Calmar", "ratio"),
    ("omega", "Omega", "ratio"),
    ("max_drawdown", "Maximum drawdown", "pct"),
    ("max_drawdown_duration", "Longest drawdown (candles)", "int"),
    ("var_95", "VaR 95 % (historical, per candle)", "pct"),
    ("cvar_95", "CVaR 95 % (historical)", "pct"),
    ("var_99", "VaR 99 % (historical)", "pct"),
    ("cvar_99", "CVaR 99 % (historical)", "pct"),
    ("beta", "Beta against buy and hold", "ratio"),
    ("round_trips", "Round trips", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "ratio"),
    ("expectancy", "Expectancy per trade", "pct"),
    ("kelly_fraction", "Kelly fraction", "pct"),
    ("exposure", "Exposure (time in the market)", "pct"),
    ("fees", "Fees paid", "money"),
    ("benchmark_return", "Buy and hold return", "pct"),
)
MAX_TRADE_ROWS = 500


def metric_rows(metrics: dict | None) -> list[dict[str, Any]]:
    metrics = metrics or {}
    return [
        {"key": key, "label": label, "kind": kind, "value": metrics.get(key)}
        for key, label, kind in METRIC_ROWS
        if key in metrics
    ]


def owned_backtest(request: HttpRequest, pk: int) -> Backtest:
    try:
        return backtest_for(user=request.user, pk=pk)
    except Backtest.DoesNotExist:
        raise Http404("No such backtest.") from None


class BacktestListView(LoginRequiredMixin, FilterView):
    filterset_class = BacktestFilterSet
    template_name = "analytics/backtest_list.html"
    paginate_by = StandardPagination.page_size

    def get_queryset(self):
        return backtests_for(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filtered"] = filters_applied(context["filter"])
        context["strategies"] = {name: strategy.label for name, strategy in STRATEGIES.items()}
        return context


def _create(request: HttpRequest, form: BacktestForm) -> Backtest:
    try:
        return backtest_create(actor=page_actor(request), user=request.user, **form.service_input())
    except ValidationError as error:
        # The service names its fields (params.fast, execution.fee...): put each on this form's field.
        remapped: dict[str, list[str]] = {}
        for name, problems in error.message_dict.items():
            remapped.setdefault(form.field_for(name) or "__all__", []).extend(problems)
        raise ValidationError(remapped) from None


@login_required
@require_http_methods(["GET", "POST"])
def backtest_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = BacktestForm(request.POST)
    else:
        initial = request.GET.dict()
        form = BacktestForm(initial={"start": "2023-01-01", "end": "2024-12-31", "timeframe": "1d", **initial})
    created = submit(request, form, lambda _data: _create(request, form))
    if created.done and created.result is not None:
        messages.success(request, f"Backtest #{created.result.pk} queued: follow its progress below.")
        return redirect("analytics:backtest_detail", pk=created.result.pk)
    return render(request, "analytics/backtest_new.html", {"form": form, "groups": form.groups()})


@login_required
@require_GET
def backtest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    backtest = owned_backtest(request, pk)
    results = backtest.results or {}
    if "walk_forward" in results:  # its trades and totals are the out-of-sample windows'
        results = {**results, **{key: results["walk_forward"].get(key) for key in ("trades", "trades_total")}}
    strategy = STRATEGIES.get(backtest.strategy)
    context = {
        "backtest": backtest,
        "strategy_label": strategy.label if strategy else backtest.strategy,
        "results": results,
        "metric_rows": metric_rows(results.get("metrics")),
        "trades": (results.get("trades") or [])[:MAX_TRADE_ROWS],
        "trades_shown": min(len(results.get("trades") or []), MAX_TRADE_ROWS),
        "ranking": results.get("ranking"),
        "walk_forward": results.get("walk_forward"),
        "monte_carlo": results.get("monte_carlo") or (results.get("walk_forward") or {}).get("monte_carlo"),
        "space": space_text(backtest.search.get("space") or {}) if backtest.search else "",
        "api_url": reverse("v1:backtests:backtest-detail", kwargs={"backtest_id": backtest.pk}),
        "is_search": backtest.kind != BacktestKind.SINGLE,
    }
    return render(request, "analytics/backtest_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def backtest_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST cancels (one that finished meanwhile says so)."""
    from django import forms

    backtest = owned_backtest(request, pk)
    holder = forms.Form(request.POST if request.method == "POST" else None)
    cancelled = submit(request, holder, lambda _data: backtest_cancel(actor=page_actor(request), backtest=backtest))
    if cancelled.done:
        messages.success(request, f"Backtest #{backtest.pk} cancelled.")
        return redirect("analytics:backtest_detail", pk=backtest.pk)
    return render(request, "analytics/backtest_cancel.html", {"form": holder, "backtest": backtest})


@login_required
@require_GET
def backtest_compare(request: HttpRequest) -> HttpResponse:
    raw = ",".join(request.GET.getlist("ids"))
    error = ""
    backtests: list[Backtest] = []
    try:
        backtests = backtests_to_compare(user=request.user, ids=parse_ids(raw))
    except BacktestCompareInvalid as invalid:
        error = invalid.message
    except Backtest.DoesNotExist:
        raise Http404("No such backtest.") from None
    rows = [
        {
            "label": label,
            "kind": kind,
            "values": [(backtest.results.get("metrics") or {}).get(key) for backtest in backtests],
        }
        for key, label, kind in METRIC_ROWS
        if any(key in (backtest.results.get("metrics") or {}) for backtest in backtests)
    ]
    context = {
        "backtests": backtests,
        "rows": rows,
        "error": error,
        "ids": ",".join(str(backtest.pk) for backtest in backtests),
        "api_url": reverse("v1:backtests:backtest-compare"),
        "strategies": {name: strategy.label for name, strategy in STRATEGIES.items()},
    }
    return render(request, "analytics/backtest_compare.html", context, status=400 if error else 200)
