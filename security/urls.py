"""The security app's pages, under /security/."""

from django.urls import path

from security import views

app_name = "security"

urlpatterns = [
    path("activity/", views.ActivityView.as_view(), name="activity"),
    path("activity/export/", views.ActivityExportView.as_view(), name="activity_export"),
]
