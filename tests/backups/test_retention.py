"""Retention: backups older than BACKUP_RETENTION_DAYS go, objects and records, except the newest
verified backup, which is kept however old, so there is always one proved to restore."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backups.conf import storage
from backups.models import Backup, BackupStatus
from backups.services import backup_create, backup_verify, backups_prune
from security.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def aged(backup: Backup, days: int) -> Backup:
    Backup.objects.filter(pk=backup.pk).update(started_at=timezone.now() - timedelta(days=days))
    backup.refresh_from_db()
    return backup


def test_prune_deletes_expired_backups_but_keeps_the_newest_verified_however_old(backup_settings, operator):
    oldest_verified = aged(backup_verify(actor=operator, backup=backup_create(actor=operator)), 50)
    newest_verified = aged(backup_verify(actor=operator, backup=backup_create(actor=operator)), 40)
    expired_unverified = aged(backup_create(actor=operator), 35)
    recent = aged(backup_create(actor=operator), 2)

    result = backups_prune(actor=operator)

    assert sorted(result.deleted) == sorted([oldest_verified.pk, expired_unverified.pk])
    assert set(Backup.objects.values_list("pk", flat=True)) == {newest_verified.pk, recent.pk}
    store = storage()
    assert not store.exists(oldest_verified.storage_name)
    assert not store.exists(expired_unverified.storage_name)
    assert store.exists(newest_verified.storage_name) and store.exists(recent.storage_name)
    pruned = AuditEvent.objects.get(action="backup.pruned")
    assert pruned.details["kept_newest_verified"] == newest_verified.pk


def test_retention_follows_the_setting_and_a_dry_run_deletes_nothing(backup_settings, operator, settings):
    settings.BACKUP_RETENTION_DAYS = 7
    week_old = aged(backup_create(actor=operator), 8)

    assert backups_prune(actor=operator, dry_run=True).deleted == [week_old.pk]
    assert Backup.objects.filter(pk=week_old.pk).exists()
    assert backups_prune(actor=operator).deleted == [week_old.pk]


def test_a_backup_left_running_by_a_dead_process_is_marked_interrupted(backup_settings, operator):
    from backups.services import backup_start

    stuck = backup_start(actor=operator)
    Backup.objects.filter(pk=stuck.pk).update(started_at=timezone.now() - timedelta(hours=13))

    backups_prune(actor=operator)

    stuck.refresh_from_db()
    assert stuck.status == BackupStatus.FAILED
    assert "Interrupted" in stuck.error


def test_a_backup_run_delivered_twice_leaves_the_first_outcome_alone(backup_settings, operator):
    from backups.errors import BackupAlreadyRan
    from backups.services import backup_run

    backup = backup_create(actor=operator)
    checksum = backup.checksum

    with pytest.raises(BackupAlreadyRan):
        backup_run(actor=operator, backup=backup)

    backup.refresh_from_db()
    assert backup.status == BackupStatus.SUCCEEDED and backup.checksum == checksum
    assert Backup.objects.count() == 1


def test_a_live_restore_does_not_bring_back_the_records_of_backups_pruned_since_its_dump(
    backup_settings, operator, settings
):
    """The dump holds the records of the backups made before it; those pruned since have no object any
    more, so after the restore the list is what it was just before (plus the pre-restore backup)."""
    from backups.engines import engine_for
    from backups.services import backup_restore, live_database_label

    pruned_later = [aged(backup_create(actor=operator), 3), aged(backup_create(actor=operator), 2)]
    kept = backup_verify(actor=operator, backup=backup_create(actor=operator))
    settings.BACKUP_RETENTION_DAYS = 0
    assert sorted(backups_prune(actor=operator).deleted) == sorted(backup.pk for backup in pruned_later)
    before = {row["id"]: row for row in Backup.objects.values()}
    assert set(before) == {kept.pk}

    result = backup_restore(actor=operator, backup=kept, target="live", confirm=live_database_label(engine_for()))

    assert result.pre_restore_backup is not None
    after = {row["id"]: row for row in Backup.objects.values()}
    assert set(after) == {kept.pk, result.pre_restore_backup.pk}
    assert after[kept.pk] == before[kept.pk]
    assert not any(Backup.objects.filter(pk=backup.pk).exists() for backup in pruned_later)
