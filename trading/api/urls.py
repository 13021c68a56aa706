"""/api/v1/ trading routes (namespace `v1:trading`): alerts, accounts, portfolio, orders, trades, transactions."""

from django.urls import path

from trading.api import accounts, alerts, orders, portfolio, transactions

app_name = "trading"

urlpatterns = [
    path("alerts/", alerts.AlertListCreateView.as_view(), name="alert-list"),
    path("alerts/<int:alert_id>/", alerts.AlertDetailView.as_view(), name="alert-detail"),
    path("accounts/", accounts.AccountListView.as_view(), name="account-list"),
    path("accounts/<int:account_id>/", accounts.AccountDetailView.as_view(), name="account-detail"),
    path("accounts/<int:account_id>/reset/", accounts.AccountResetView.as_view(), name="account-reset"),
    path("portfolio/", portfolio.PortfolioView.as_view(), name="portfolio"),
    path("portfolio/history/", portfolio.EquityHistoryView.as_view(), name="portfolio-history"),
    path("orders/", orders.OrderListCreateView.as_view(), name="order-list"),
    path("orders/<int:order_id>/", orders.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<int:order_id>/cancel/", orders.OrderCancelView.as_view(), name="order-cancel"),
    path("trades/", transactions.TradeListView.as_view(), name="trade-list"),
    path("trades/export/", transactions.TradeExportView.as_view(), name="trade-export"),
    path("transactions/", transactions.TransactionListView.as_view(), name="transaction-list"),
    path("transactions/export/", transactions.TransactionExportView.as_view(), name="transaction-export"),
]
