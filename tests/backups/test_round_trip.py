"""Backup -> wipe -> restore gives back every table row for row, on the database the suite runs on
(SQLite by default, PostgreSQL with DATABASE_URL): the promise operators care about."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from backups.engines import engine_for
from backups.models import Backup, BackupKind, BackupStatus
from backups.services import backup_create, backup_restore, backup_verify, live_database_label
from security.audit import audit_record
from tests.backups.helpers import table_checksums, wipe_every_table
from tests.factories import TEST_ACTOR, UserFactory
from trading.services.alerts import alert_create

pytestmark = pytest.mark.django_db(transaction=True)


def some_data() -> None:
    """Rows in many tables: users, their alerts, audit records."""
    for number in range(12):
        user = UserFactory(email=f"trader{number}@example.com", name=f"Trader {number} ✓")
        alert_create(actor=TEST_ACTOR, user=user, symbol="BTC/USDT", kind="above", threshold=Decimal("70000.5"))
        audit_record("profile.updated", actor=TEST_ACTOR, user=user, number=number)


def test_a_backup_restores_every_table_row_for_row_after_the_database_is_wiped(backup_settings, operator):
    some_data()
    before = table_checksums()
    backup = backup_create(actor=operator)
    assert backup.status == BackupStatus.SUCCEEDED
    assert backup.table_counts["accounts_user"] == 12
    assert len(backup.checksum) == 64 and backup.size > 0
    assert backup_verify(actor=operator, backup=backup).status == BackupStatus.VERIFIED

    wipe_every_table()
    assert table_checksums() != before

    result = backup_restore(
        actor=operator, backup=backup, target="live", confirm=live_database_label(engine_for("default"))
    )

    assert table_checksums() == before
    assert result.pre_restore_backup is not None
    assert result.pre_restore_backup.kind == BackupKind.PRE_RESTORE
    # The records of both backups survive the restore, as they are now, not as the dump had them.
    assert Backup.objects.get(pk=backup.pk).status == BackupStatus.VERIFIED
    assert Backup.objects.get(pk=result.pre_restore_backup.pk).status == BackupStatus.SUCCEEDED


def test_a_live_restore_needs_the_database_name_as_confirmation_and_touches_nothing_without_it(
    backup_settings, operator
):
    some_data()
    backup = backup_create(actor=operator)
    before = table_checksums()
    from backups.errors import RestoreRefused

    with pytest.raises(RestoreRefused) as refused:
        backup_restore(actor=operator, backup=backup, target="live", confirm="yes")
    assert "type its name" in refused.value.message
    assert table_checksums() == before
    assert not Backup.objects.filter(kind=BackupKind.PRE_RESTORE).exists()


def test_a_scratch_restore_refuses_an_existing_database_not_named_as_a_scratch_one(backup_settings, operator):
    """Only names starting with BACKUP_SCRATCH_PREFIX are replaced: another database someone keeps is not."""
    from backups.errors import RestoreRefused
    from tests.backups.test_s3 import _drop_scratch

    backup = backup_create(actor=operator)
    engine = engine_for("default")
    if connection.vendor == "postgresql":
        engine._create("cv_backups_precious")  # type: ignore[attr-defined]
        where = "cv_backups_precious"
    else:
        path = engine.scratch_path("cv_backups_precious")  # type: ignore[attr-defined]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("hello\n")
        where = str(path)
    replaced = ""
    try:
        with pytest.raises(RestoreRefused, match="exists"):
            backup_restore(actor=operator, backup=backup, target="scratch", database="cv_backups_precious")
        if connection.vendor == "sqlite":
            assert path.read_text() == "hello\n"
        else:
            assert engine._exists("cv_backups_precious")  # type: ignore[attr-defined]
        for _ in range(2):  # a database named as a scratch one is replaced
            replaced = backup_restore(
                actor=operator, backup=backup, target="scratch", database="cv_backups_scratch_look"
            ).database
    finally:
        _drop_scratch(where)
        if replaced:
            _drop_scratch(replaced)
