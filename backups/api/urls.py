"""/api/v1/backups/: the backups app's API (namespace `v1:backups`)."""

from django.urls import path

from backups.api import views

app_name = "backups"

urlpatterns = [
    path("", views.BackupListCreateView.as_view(), name="backup-list"),
    path("status/", views.BackupStatusView.as_view(), name="status"),
    path("<int:backup_id>/verify/", views.BackupVerifyView.as_view(), name="backup-verify"),
    path("<int:backup_id>/restore/", views.BackupRestoreView.as_view(), name="backup-restore"),
]
