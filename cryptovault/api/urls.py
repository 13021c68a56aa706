"""/api/v1/: every app's API routes under one versioned namespace."""

from django.urls import include, path

from cryptovault.api.views import ApiRootView

urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    path("", include("accounts.api.urls")),
    path("security/", include("security.api.urls")),
    path("", include("exchanges.api.urls")),
    path("", include("trading.api.urls")),
    path("wallet/", include("trading.api.wallet_urls")),
    path("backups/", include("backups.api.urls")),
    path("analytics/", include("analytics.api.urls")),
    path("backtests/", include("analytics.api.backtest_urls")),
]
