"""Backup work run by the Celery worker: beat's daily backup and prune, and what staff start from the
API or the admin. Tasks take ids, build their actor, call a service; a failure is already on the
record when the service raises, and the admins are emailed."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from backups.errors import BackupAlreadyRan, BackupError
from backups.models import Backup, BackupKind
from backups.notify import admins_notify_failure
from backups.services import backup_create, backup_restore, backup_run, backup_verify, backups_prune
from cryptovault.actor import Actor

log = logging.getLogger(__name__)


def _actor(task, user_id: int | None) -> Actor:
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return Actor.for_task(task.request.id or "", user=user)


@shared_task(name="backups.create_scheduled", bind=True)
def backups_create_scheduled(self) -> dict:
    """02:00 UTC: a backup, then prove it restores. Either failing emails the admins."""
    actor = _actor(self, None)
    try:
        backup = backup_create(actor=actor, kind=BackupKind.SCHEDULED)
    except BackupError as error:
        failed = Backup.objects.filter(kind=BackupKind.SCHEDULED).order_by("-started_at", "-pk").first()
        admins_notify_failure("The scheduled backup", error.message, backup_id=failed.pk if failed else None)
        return {"status": "failed", "error": error.message}
    return _verify(actor, backup.pk, "The scheduled backup's verification")


@shared_task(name="backups.run", bind=True)
def backups_run(self, backup_id: int, user_id: int | None = None, verify: bool = True) -> dict:
    """A backup staff started (API, admin): the record exists already, so they could watch it."""
    actor = _actor(self, user_id)
    backup = Backup.objects.get(pk=backup_id)
    try:
        backup_run(actor=actor, backup=backup)
    except BackupAlreadyRan as error:
        return {"status": backup.status, "backup_id": backup_id, "error": error.message}
    except BackupError as error:
        admins_notify_failure(f"Backup #{backup_id}", error.message, backup_id=backup_id)
        return {"status": "failed", "error": error.message}
    if not verify:
        return {"status": backup.status, "backup_id": backup_id}
    return _verify(actor, backup_id, f"Verification of backup #{backup_id}")


@shared_task(name="backups.verify", bind=True)
def backups_verify(self, backup_id: int, user_id: int | None = None) -> dict:
    return _verify(_actor(self, user_id), backup_id, f"Verification of backup #{backup_id}")


@shared_task(name="backups.restore", bind=True)
def backups_restore(
    self, backup_id: int, target: str, database: str = "", confirm: str = "", user_id: int | None = None
) -> dict:
    actor = _actor(self, user_id)
    try:
        result = backup_restore(
            actor=actor, backup=Backup.objects.get(pk=backup_id), target=target, database=database, confirm=confirm
        )
    except BackupError as error:
        admins_notify_failure(f"Restore of backup #{backup_id} ({target})", error.message, backup_id=backup_id)
        return {"status": "failed", "error": error.message}
    return {"status": "restored", "target": result.target, "database": result.database}


@shared_task(name="backups.prune", bind=True)
def backups_prune_task(self) -> dict:
    """03:00 UTC: retention (BACKUP_RETENTION_DAYS), keeping the newest verified backup."""
    result = backups_prune(actor=_actor(self, None))
    if result.errors:
        admins_notify_failure("Pruning old backups", "; ".join(result.errors))
    return {"deleted": result.deleted, "kept": result.kept_newest_verified, "errors": result.errors}


def _verify(actor: Actor, backup_id: int, what: str) -> dict:
    try:
        backup = backup_verify(actor=actor, backup=Backup.objects.get(pk=backup_id))
    except BackupError as error:
        admins_notify_failure(what, error.message, backup_id=backup_id)
        return {"status": "failed", "backup_id": backup_id, "error": error.message}
    return {"status": backup.status, "backup_id": backup_id}
