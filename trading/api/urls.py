"""/api/v1/alerts/ (namespace `v1:trading`)."""

from django.urls import path

from trading.api import views

app_name = "trading"

urlpatterns = [
    path("alerts/", views.AlertListCreateView.as_view(), name="alert-list"),
    path("alerts/<int:alert_id>/", views.AlertDetailView.as_view(), name="alert-detail"),
]
