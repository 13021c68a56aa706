"""A verification either proves the backup restores, proves it damaged, or could not run. Only proof of
damage marks a backup failed: one that could not be checked (a missing pg_restore, a role that may not
create the scratch database, storage down) keeps its status, says why in `verify_error`, and can be
verified again once the cause is fixed."""

from __future__ import annotations

import io
import os

import pytest
from django.db import connection

from backups.conf import backup_key, chunk_bytes, storage
from backups.crypto import encrypt_stream
from backups.errors import BackupCorrupt, BackupError, DumpToolError
from backups.models import Backup, BackupStatus
from backups.pipeline import Counted, compress
from backups.selectors import backup_status
from backups.services import backup_create, backup_verify
from security.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_restore runs on PostgreSQL")


@pytest.fixture
def good_backup(backup_settings, operator) -> Backup:
    for number in range(3):
        UserFactory(email=f"verify{number}@example.com")
    return backup_create(actor=operator)


def left_alone_with(backup: Backup, words: str) -> Backup:
    """The record after a verification that could not run: as it was, with the reason noted and audited."""
    backup.refresh_from_db()
    assert backup.status == BackupStatus.SUCCEEDED
    assert backup.error == "" and backup.verified_at is None
    assert words in backup.verify_error
    audit = AuditEvent.objects.filter(action="backup.verified").latest("pk")
    assert audit.outcome == "failure" and words in audit.details["error"]
    assert backup_status().last_failure == backup  # the status page still says something is wrong
    return backup


def resealed(backup: Backup, dump: bytes) -> Backup:
    """The object replaced by `dump` sealed properly under the key, its record updated to match: the
    checksum and every chunk check out, so only the engine can find the dump is not a database."""
    store = storage()
    sealed = Counted(encrypt_stream(compress([dump]), key=backup_key(), chunk_size=chunk_bytes()))
    data = b"".join(sealed)
    store.delete(backup.storage_name)
    store.save(backup.storage_name, io.BytesIO(data))
    Backup.objects.filter(pk=backup.pk).update(checksum=sealed.sha256.hexdigest(), size=sealed.size)
    backup.refresh_from_db()
    return backup


@postgresql_only
def test_a_missing_pg_restore_leaves_a_good_backup_succeeded_and_it_verifies_once_installed(
    good_backup, operator, settings, tmp_path
):
    settings.BACKUP_PG_BIN_DIR = str(tmp_path / "x-empty")

    with pytest.raises(DumpToolError, match="pg_restore was not found"):
        backup_verify(actor=operator, backup=good_backup)

    left_alone_with(good_backup, "pg_restore was not found")
    del settings.BACKUP_PG_BIN_DIR
    assert backup_verify(actor=operator, backup=good_backup).status == BackupStatus.VERIFIED
    good_backup.refresh_from_db()
    assert good_backup.verify_error == ""


@pytest.fixture
def role_without_createdb():
    """A login role that may read the test database but not create databases (as on many managed hosts)."""
    name = "cv_backups_nocreatedb"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {name}")
        cursor.execute(f"CREATE ROLE {name} LOGIN NOCREATEDB")
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {name}")


@postgresql_only
def test_a_role_that_cannot_create_the_scratch_database_leaves_a_good_backup_succeeded(
    good_backup, operator, role_without_createdb, monkeypatch
):
    monkeypatch.setitem(connection.settings_dict, "USER", role_without_createdb)  # what the engine connects as

    with pytest.raises(DumpToolError, match="permission denied to create database"):
        backup_verify(actor=operator, backup=good_backup)

    left_alone_with(good_backup, "permission denied to create database")


def test_an_unreachable_storage_leaves_a_good_backup_succeeded(good_backup, operator, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": "/proc/cvbk"}},
    }

    with pytest.raises(BackupError):
        backup_verify(actor=operator, backup=good_backup)

    left_alone_with(good_backup, "/proc/cvbk")


def test_a_dump_the_engine_cannot_restore_is_proof_of_damage_and_marks_the_backup_failed(good_backup, operator):
    damaged = resealed(good_backup, os.urandom(200_000))

    with pytest.raises(BackupCorrupt) as refused:
        backup_verify(actor=operator, backup=damaged)

    damaged.refresh_from_db()
    assert damaged.status == BackupStatus.FAILED
    assert damaged.error.startswith("Verification failed:")
    if connection.vendor == "postgresql":
        assert "pg_restore rejected" in refused.value.message
    else:
        assert "not a readable SQLite database" in refused.value.message


def test_row_counts_that_differ_from_the_recorded_ones_mark_the_backup_failed(good_backup, operator):
    Backup.objects.filter(pk=good_backup.pk).update(
        table_counts={**good_backup.table_counts, "accounts_user": good_backup.table_counts["accounts_user"] + 1}
    )
    good_backup.refresh_from_db()

    with pytest.raises(BackupCorrupt, match="row counts differ"):
        backup_verify(actor=operator, backup=good_backup)

    good_backup.refresh_from_db()
    assert good_backup.status == BackupStatus.FAILED and "accounts_user" in good_backup.error
