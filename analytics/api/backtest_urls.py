"""/api/v1/backtests/ (namespace `v1:backtests`)."""

from django.urls import path

from analytics.api import backtests

app_name = "backtests"

urlpatterns = [
    path("", backtests.BacktestListCreateView.as_view(), name="backtest-list"),
    path("compare/", backtests.BacktestCompareView.as_view(), name="backtest-compare"),
    path("<int:backtest_id>/", backtests.BacktestDetailView.as_view(), name="backtest-detail"),
    path("<int:backtest_id>/cancel/", backtests.BacktestCancelView.as_view(), name="backtest-cancel"),
]
