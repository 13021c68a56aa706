"""The schedule's work through a real Celery worker (another process, on the Redis broker), and the
admins' email when a run fails."""

from __future__ import annotations

import pytest
from django.core import mail

from backups.models import Backup, BackupKind, BackupStatus
from backups.selectors import backup_status
from backups.tasks import backups_create_scheduled
from security.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_scheduled_backup_runs_on_the_worker_and_is_verified(backup_worker):
    result = backups_create_scheduled.apply_async(queue=backup_worker.queue).get(timeout=90)

    backup = Backup.objects.get()
    assert result == {"status": "verified", "backup_id": backup.pk}
    assert backup.kind == BackupKind.SCHEDULED
    assert backup.status == BackupStatus.VERIFIED and backup.verified_at is not None
    assert backup.requested_via == "task"
    assert set(AuditEvent.objects.filter(action__startswith="backup.").values_list("action", flat=True)) == {
        "backup.created",
        "backup.verified",
    }
    assert backup_status().newest_verified == backup


def test_a_failed_scheduled_run_emails_the_admins_and_shows_on_the_status(backup_settings, settings):
    settings.ADMINS = ["ops@example.com"]
    settings.BACKUP_ENCRYPTION_KEY = ""

    result = backups_create_scheduled.apply().get()

    assert result["status"] == "failed"
    [email] = mail.outbox
    assert email.to == ["ops@example.com"]
    assert "The scheduled backup failed" in email.body and "BACKUP_ENCRYPTION_KEY is not set" in email.body
    status = backup_status()
    assert status.last_failure is not None and "BACKUP_ENCRYPTION_KEY" in status.last_failure.error
    assert not status.healthy


def test_without_admins_configured_the_admin_role_is_emailed(backup_settings, settings, admin_browser):
    settings.ADMINS = []
    settings.BACKUP_ENCRYPTION_KEY = ""

    backups_create_scheduled.apply().get()

    assert [email.to for email in mail.outbox] == [["ada@example.com"]]
