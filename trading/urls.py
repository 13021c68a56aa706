"""The price alerts pages, under /alerts/."""

from django.urls import path

from trading import views

app_name = "trading"

urlpatterns = [
    path("", views.AlertsView.as_view(), name="alerts"),
    path("<int:pk>/cancel/", views.alert_cancel_view, name="alert_cancel"),
]
