"""The staff API: start, list, verify and restore backups, and read their status. The work runs on
the real Celery worker; the answers come at once (202) and the record shows the progress."""

from __future__ import annotations

import pytest
from django.db import connection

from backups.engines import engine_for
from backups.models import Backup, BackupStatus
from backups.services import live_database_label
from tests.backups.conftest import wait_for
from tests.backups.test_s3 import _drop_scratch, users_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
BACKUPS, STATUS = "/api/v1/backups/", "/api/v1/backups/status/"


def finished(backup_id: int, status: str = BackupStatus.VERIFIED) -> Backup:
    return wait_for(lambda: Backup.objects.filter(pk=backup_id, status=status).first(), timeout=90)


def test_staff_start_a_backup_and_watch_it_succeed_and_verify(backup_worker, admin_api):
    answer = admin_api.post(BACKUPS)

    assert answer.status_code == 202, answer.json()
    backup_id = answer.json()["backup"]["id"]
    assert answer.json()["backup"]["status"] == "running"
    backup = finished(backup_id)
    listed = admin_api.get(BACKUPS).json()["results"]
    assert [row["id"] for row in listed] == [backup_id]
    assert listed[0]["checksum"] == backup.checksum and listed[0]["requested_by"] == "ops-admin@example.com"
    status = admin_api.get(STATUS).json()
    assert status["healthy"] is True
    assert status["newest_verified"]["id"] == backup_id and status["count"] == 1
    assert status["next_backup_at"].endswith("T02:00:00Z")


def test_a_restore_into_a_scratch_database_runs_on_the_worker(backup_worker, admin_api):
    for number in range(3):
        UserFactory(email=f"api-{number}@example.com")
    backup_id = admin_api.post(BACKUPS).json()["backup"]["id"]
    finished(backup_id)

    answer = admin_api.post(
        f"{BACKUPS}{backup_id}/restore/", {"target": "scratch", "database": "cv_backups_api_scratch"}, format="json"
    )

    assert answer.status_code == 202, answer.json()
    where = (
        "cv_backups_api_scratch"
        if connection.vendor == "postgresql"
        else str(engine_for("default").scratch_path("cv_backups_api_scratch"))  # type: ignore[attr-defined]
    )
    try:
        assert wait_for(lambda: _restored(where), timeout=90) == 4  # the three and the admin
    finally:
        _drop_scratch(where)


def _restored(where: str) -> int | None:
    try:
        return users_in(where)
    except Exception:  # not there yet
        return None


def test_a_live_restore_without_the_database_name_is_refused_with_the_field_named(backup_settings, admin_api, operator):
    from backups.services import backup_create

    backup = backup_create(actor=operator)

    answer = admin_api.post(f"{BACKUPS}{backup.pk}/restore/", {"target": "live", "confirm": "yes"}, format="json")

    assert answer.status_code == 400
    assert "confirm" in answer.json()["errors"]
    assert live_database_label(engine_for("default")) in answer.json()["errors"]["confirm"][0]
    from security.models import AuditEvent

    refused = AuditEvent.objects.filter(action="backup.restored", outcome="refused").get()
    assert refused.details["target"] == "live", "an attempt on the live database leaves a trace"
    bad_name = admin_api.post(f"{BACKUPS}{backup.pk}/restore/", {"target": "scratch", "database": "Drop Me;"})
    assert bad_name.status_code == 400 and "database" in bad_name.json()["errors"]
    assert admin_api.post(f"{BACKUPS}{backup.pk}/restore/", {"target": "elsewhere"}).status_code == 400


def test_an_unknown_backup_is_404_and_a_running_one_cannot_be_verified(backup_settings, admin_api, operator):
    from backups.services import backup_start

    running = backup_start(actor=operator)

    assert admin_api.post(f"{BACKUPS}999999/verify/").status_code == 404
    answer = admin_api.post(f"{BACKUPS}{running.pk}/verify/")
    assert answer.status_code == 409 and answer.json()["code"] == "backup_not_ready"


def test_support_and_traders_cannot_reach_backups(backup_settings, support_api, owner_jwt):
    for client in (support_api, owner_jwt):
        assert client.get(BACKUPS).status_code == 403
        assert client.post(BACKUPS).status_code == 403
        assert client.get(STATUS).status_code == 403
    assert not Backup.objects.exists()
