"""/api/v1/exchanges/ and /api/v1/connections/ (namespace `v1:exchanges`)."""

from django.urls import path

from exchanges.api import market, views
from exchanges.api.ws_stats import WsStatsView

app_name = "exchanges"

urlpatterns = [
    path("exchanges/", views.ExchangeListView.as_view(), name="exchange-list"),
    path("connections/", views.ConnectionListCreateView.as_view(), name="connection-list"),
    path("connections/test/", views.ConnectionTestView.as_view(), name="connection-test"),
    path("connections/audit/", views.ConnectionAuditView.as_view(), name="connection-audit"),
    path("connections/<int:connection_id>/", views.ConnectionDetailView.as_view(), name="connection-detail"),
    path("connections/<int:connection_id>/test/", views.ConnectionCheckView.as_view(), name="connection-check"),
    path("connections/<int:connection_id>/rotate/", views.ConnectionRotateView.as_view(), name="connection-rotate"),
    path("connections/<int:connection_id>/checks/", views.ConnectionChecksView.as_view(), name="connection-checks"),
    # /api/v1/market/ (exchanges/api/market.py): tickers first, so "tickers" is never read as a symbol.
    path("market/tickers/", market.TickerListView.as_view(), name="market-tickers"),
    path("market/<str:symbol>/", market.MarketDetailView.as_view(), name="market-detail"),
    path("market/<str:symbol>/candles/", market.CandlesView.as_view(), name="market-candles"),
    path("market/<str:symbol>/indicators/", market.IndicatorsView.as_view(), name="market-indicators"),
    path("market/<str:symbol>/orderbook/", market.OrderBookView.as_view(), name="market-orderbook"),
    path("ws/stats/", WsStatsView.as_view(), name="ws-stats"),
]
