"""/api/v1/security/: the security app's API (namespace `v1:security`)."""

from django.urls import path

from security.api import views

app_name = "security"

urlpatterns = [
    path("audit/", views.AuditEventListView.as_view(), name="audit"),
    path("audit/export/", views.AuditEventExportView.as_view(), name="audit-export"),
]
