"""When a backup cannot be made, the record says failed with an error an operator can act on, and
nothing is left in storage that could pass for a backup."""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path

import pytest
from django.db import connection

from backups.errors import DiskFull, DumpToolError
from backups.models import Backup, BackupStatus
from backups.services import backup_create
from security.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump runs on PostgreSQL")


def stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["backups"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def the_failed_record() -> Backup:
    backup = Backup.objects.get()
    assert backup.status == BackupStatus.FAILED
    assert backup.finished_at is not None and backup.checksum == "" and backup.storage_name == ""
    return backup


@postgresql_only
def test_a_missing_pg_dump_is_named_with_what_to_install(backup_settings, operator, settings, tmp_path):
    settings.BACKUP_PG_BIN_DIR = str(tmp_path / "no-such-dir")

    with pytest.raises(DumpToolError):
        backup_create(actor=operator)

    assert "pg_dump was not found" in the_failed_record().error
    assert "postgresql-client" in the_failed_record().error
    assert stored_files(settings) == []


@postgresql_only
def test_pg_dump_failing_on_a_locked_table_fails_the_run_and_stores_nothing(backup_settings, operator, settings):
    """A migration holding a table: pg_dump gives up after BACKUP_LOCK_WAIT_SECONDS and says why."""
    import psycopg

    settings.BACKUP_LOCK_WAIT_SECONDS = 1
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = connection.settings_dict["NAME"]  # the test database
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with psycopg.connect(**params) as other:
            other.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(10)
        with pytest.raises(DumpToolError, match="pg_dump failed"):
            backup_create(actor=operator)
    finally:
        release.set()
        holder.join()

    assert "LOCK TABLE public.django_session" in the_failed_record().error
    assert stored_files(settings) == []


@postgresql_only  # with SQLite the database file itself would be held by the same limit
def test_a_full_disk_fails_the_run_with_disk_full_and_leaves_no_partial_object(backup_settings, operator, settings):
    """Files may not grow past 32 KB (RLIMIT_FSIZE, as a full disk would stop them): the object is cut short."""
    AuditEvent.objects.bulk_create(
        AuditEvent(action="test.filler", via="system", details={"noise": os.urandom(400).hex()}) for _ in range(500)
    )
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    limit = 32 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        with pytest.raises(DiskFull):
            backup_create(actor=operator)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    assert "Out of disk space" in the_failed_record().error
    assert stored_files(settings) == []


@postgresql_only
def test_a_live_restore_does_not_happen_when_the_pre_restore_backup_fails(
    backup_settings, operator, settings, tmp_path
):
    from backups.engines import engine_for
    from backups.models import BackupKind
    from backups.services import backup_restore, live_database_label
    from tests.backups.helpers import table_checksums
    from tests.factories import UserFactory

    backup = backup_create(actor=operator)
    UserFactory(email="made-after-the-backup@example.com")
    before = table_checksums()
    settings.BACKUP_PG_BIN_DIR = str(tmp_path / "gone")  # pg_dump vanished: the pre-restore backup fails

    with pytest.raises(DumpToolError, match="pg_dump was not found"):
        backup_restore(actor=operator, backup=backup, target="live", confirm=live_database_label(engine_for("default")))

    assert table_checksums() == before  # the user made after the backup is still there
    assert Backup.objects.get(kind=BackupKind.PRE_RESTORE).status == BackupStatus.FAILED


def test_a_backup_root_that_cannot_be_written_says_so(backup_settings, operator, settings):
    from backups.errors import StorageUnavailable

    settings.STORAGES = {alias: options for alias, options in settings.STORAGES.items() if alias != "backups"}
    settings.BACKUP_ROOT = "/proc/cvbk"  # no folder can be made there, not even by root

    with pytest.raises(StorageUnavailable) as failed:
        backup_create(actor=operator)

    assert "could not be written" in failed.value.message and "/proc/cvbk" in failed.value.message
    assert "missing" not in the_failed_record().error
