"""The exchange pages, under /exchanges/."""

from django.urls import path

from exchanges import views

app_name = "exchanges"

urlpatterns = [
    path("", views.ConnectionsView.as_view(), name="connections"),
    path("connect/", views.connect, name="connect"),
    path("connect/test/", views.connect_test, name="connect_test"),
    path("connect/review/", views.connect_review, name="connect_review"),
    path("connect/save/", views.connect_save, name="connect_save"),
    path("security/", views.security_panel, name="security"),
    path("guides/<slug:exchange_id>/", views.guide_page, name="guide"),
    path("<int:pk>/edit/", views.connection_edit, name="connection_edit"),
    path("<int:pk>/test/", views.connection_test_now, name="connection_test"),
    path("<int:pk>/rotate/", views.connection_rotate_view, name="connection_rotate"),
    path("<int:pk>/revoke/", views.connection_revoke_view, name="connection_revoke"),
]
