"""The analytics app's pages, under /analytics/."""

from django.urls import path

from analytics import backtest_views, views

app_name = "analytics"

urlpatterns = [
    path("", views.portfolio_analytics_page, name="portfolio"),
    path("backtests/", backtest_views.BacktestListView.as_view(), name="backtests"),
    path("backtests/new/", backtest_views.backtest_new, name="backtest_new"),
    path("backtests/compare/", backtest_views.backtest_compare, name="backtest_compare"),
    path("backtests/<int:pk>/", backtest_views.backtest_detail, name="backtest_detail"),
    path("backtests/<int:pk>/cancel/", backtest_views.backtest_cancel_view, name="backtest_cancel"),
]
