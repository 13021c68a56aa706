"""Backup records: one row per backup made (or attempted), whatever started it.

The stored object is the truth about the data; the row is the truth about the object: where it is
(`storage_name`), what its bytes must hash to (`checksum`, the SHA-256 of the encrypted object), how many
rows each table held when it was taken (`table_counts`, compared by verify), and whether anyone proved
it restores (`verified_at`). A failed attempt keeps its row with the error, so the status page and the
admins' email say what went wrong; its object, if any was written, is deleted.
"""

from __future__ import annotations

from typing import Any, Self, cast

from django.conf import settings
from django.db import models
from django.db.models import Q


class BackupKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Manual"
    PRE_RESTORE = "pre_restore", "Pre-restore"


class BackupStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    VERIFIED = "verified", "Verified"


FINISHED = (BackupStatus.SUCCEEDED, BackupStatus.VERIFIED)


class BackupQuerySet(models.QuerySet):
    """Backups belong to the deployment, not to a person: staff holding `backups.view_backup` see them all."""

    def visible_to(self, user: Any) -> Self:
        if user is None or not user.is_authenticated or not user.is_staff:
            return self.none()
        return self.all() if user.has_perm("backups.view_backup") else self.none()

    def finished(self) -> Self:
        return self.filter(status__in=FINISHED)

    def newest_verified(self) -> Backup | None:
        return cast("Backup | None", self.filter(status=BackupStatus.VERIFIED).order_by("-started_at", "-pk").first())


class Backup(models.Model):
    kind = models.CharField(max_length=16, choices=BackupKind.choices)
    engine = models.CharField(max_length=16, help_text="postgresql or sqlite")
    database = models.CharField(max_length=255, blank=True, help_text="The database it was taken from.")
    status = models.CharField(max_length=16, choices=BackupStatus.choices, default=BackupStatus.RUNNING)
    storage_name = models.CharField(max_length=512, blank=True, help_text="The object's name in backup storage.")
    size = models.BigIntegerField(null=True, blank=True, help_text="Bytes stored (compressed and encrypted).")
    dump_size = models.BigIntegerField(null=True, blank=True, help_text="Bytes of the dump before compression.")
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the stored object.")
    key_id = models.CharField(max_length=8, blank=True, help_text="Which BACKUP_ENCRYPTION_KEY sealed it.")
    table_counts = models.JSONField(default=dict, blank=True, help_text="Rows per table when it was taken.")
    error = models.TextField(blank=True)
    verify_error = models.TextField(blank=True, help_text="Why the last verification failed, if it did.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_via = models.CharField(max_length=16, blank=True, help_text="page, api, admin, command or task")

    objects = BackupQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["status", "started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=FINISHED) | (~Q(checksum="") & ~Q(storage_name="")),
                name="backup_finished_has_object",
            )
        ]
        permissions = [("restore_backup", "Can restore a backup (into the live or a scratch database)")]

    def __str__(self) -> str:
        return f"Backup #{self.pk} ({self.get_kind_display()}, {self.started_at:%Y-%m-%d %H:%M} UTC)"

    @property
    def restorable(self) -> bool:
        return self.status in FINISHED
