"""The trading pages: price alerts, the portfolio, the trade ticket, orders, transactions and accounts."""

from django.urls import path

from trading import views

app_name = "trading"

urlpatterns = [
    path("alerts/", views.AlertsView.as_view(), name="alerts"),
    path("alerts/<int:pk>/cancel/", views.alert_cancel_view, name="alert_cancel"),
    path("portfolio/", views.portfolio_page, name="portfolio"),
    path("trade/", views.trade, name="trade"),
    path("orders/", views.open_orders, name="orders"),
    path("orders/history/", views.OrderHistoryView.as_view(), name="order_history"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/cancel/", views.order_cancel_view, name="order_cancel"),
    path("transactions/", views.TransactionsView.as_view(), name="transactions"),
    path("transactions/export.csv", views.transactions_export, name="transactions_export"),
    path("trades/export.csv", views.trades_export, name="trades_export"),
    path("trading-accounts/", views.accounts_page, name="accounts"),
    path("trading-accounts/<int:pk>/reset/", views.paper_reset_view, name="paper_reset"),
]
