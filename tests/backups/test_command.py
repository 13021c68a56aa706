"""`manage.py backup ...`: what an operator types, over the same services."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from backups.engines import engine_for
from backups.models import Backup, BackupKind, BackupStatus
from backups.services import live_database_label
from tests.backups.helpers import table_checksums, wipe_every_table
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("backup", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_stores_verifies_and_lists_a_backup_with_progress(backup_settings):
    UserFactory(email="cli@example.com")

    output = run("create")

    backup = Backup.objects.get()
    assert backup.status == BackupStatus.VERIFIED and backup.kind == BackupKind.MANUAL
    assert f"Backup #{backup.pk} stored as {backup.storage_name}" in output
    assert f"Backup #{backup.pk} restores:" in output
    assert backup.storage_name in run("list")
    status = run("status")
    assert "Health:          OK" in status and f"Newest verified: #{backup.pk}" in status


def test_restore_live_with_no_input_needs_the_confirmation(backup_settings):
    run("create", "--no-verify")

    with pytest.raises(CommandError, match="--confirm"):
        run("restore", "latest", "--live", "--no-input")
    assert Backup.objects.count() == 1  # no pre-restore backup: nothing started


def test_after_losing_everything_records_included_a_stored_object_brings_every_row_back(backup_settings):
    UserFactory(email="cli@example.com")
    run("create", "--no-verify")
    before = table_checksums()
    wipe_every_table()  # the backup records go too: only the objects in storage are left
    [name] = run("list", "--stored").split()

    output = run(
        "restore", "--object", name, "--live", "--no-input", "--confirm", live_database_label(engine_for("default"))
    )

    assert f"Restored backup {name}" in output and "The database as it was is backup" in output
    assert table_checksums() == before


def test_prune_dry_run_and_unknown_backups_are_explained(backup_settings):
    assert "Would delete nothing" in run("prune", "--dry-run")
    with pytest.raises(CommandError, match="No backup '42'"):
        run("verify", "42")
    with pytest.raises(CommandError, match="No finished backup yet"):
        run("verify")


def test_restore_live_with_nothing_on_standard_input_is_not_confirmed(backup_settings, monkeypatch):
    run("create", "--no-verify")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # `restore --live </dev/null`

    with pytest.raises(CommandError, match="type its name"):
        run("restore", "latest", "--live")
    assert Backup.objects.count() == 1


@pytest.mark.parametrize("name", ["_hidden", "9lives", "Upper", "cv-dash", "x" * 64])
def test_a_scratch_name_breaking_the_stated_rule_is_refused_with_that_rule(backup_settings, name):
    run("create", "--no-verify")

    with pytest.raises(CommandError, match="starting with a letter") as refused:
        run("restore", "latest", "--scratch", name)
    assert "1-63 lowercase letters, digits and underscores" in str(refused.value)
