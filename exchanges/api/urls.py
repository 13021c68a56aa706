"""/api/v1/exchanges/ and /api/v1/connections/ (namespace `v1:exchanges`)."""

from django.urls import path

from exchanges.api import views

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
]
