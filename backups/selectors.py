"""Reads of backups for the status page, the API, the admin and the command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from backups.models import FINISHED, Backup, BackupStatus

# The beat entries that run backups (cryptovault/beat.py); their defaults if the entries are missing.
CREATE_ENTRY, PRUNE_ENTRY = "backups-create", "backups-prune"
DEFAULT_CREATE_AT, DEFAULT_PRUNE_AT = ("0", "2"), ("0", "3")


def stored_objects() -> list[str]:
    """Every backup object in storage, oldest first (names sort by time), whether or not a record exists."""
    from backups.conf import storage

    store = storage()
    names: list[str] = []

    def walk(folder: str) -> None:
        folders, files = store.listdir(folder)
        names.extend(f"{folder}/{name}" if folder else name for name in files if name.endswith(".cvbk"))
        for sub in folders:
            walk(f"{folder}/{sub}" if folder else sub)

    try:
        walk("backups")
    except FileNotFoundError:
        return []
    return sorted(names, key=lambda name: name.rsplit("/", 1)[-1])


def backups_for(*, user: Any) -> QuerySet[Backup]:
    return Backup.objects.visible_to(user).select_related("requested_by")


@dataclass(frozen=True)
class BackupStatusReport:
    last_success: Backup | None
    last_failure: Backup | None
    newest_verified: Backup | None
    running: int
    count: int
    total_size: int
    next_backup_at: datetime
    next_prune_at: datetime

    @property
    def healthy(self) -> bool:
        """The last attempt did not fail, and some backup was proved to restore."""
        if self.newest_verified is None:
            return False
        return self.last_failure is None or (
            self.last_success is not None and self.last_success.started_at > self.last_failure.started_at
        )


def backup_status(*, now: datetime | None = None) -> BackupStatusReport:
    now = now or timezone.now()
    finished = Backup.objects.filter(status__in=FINISHED)
    totals = Backup.objects.aggregate(
        count=Count("pk", filter=Q(status__in=FINISHED)),
        total_size=Sum("size", filter=Q(status__in=FINISHED)),
        running=Count("pk", filter=Q(status=BackupStatus.RUNNING)),
    )
    return BackupStatusReport(
        last_success=finished.order_by("-started_at", "-pk").first(),
        last_failure=Backup.objects.filter(Q(status=BackupStatus.FAILED) | ~Q(verify_error=""))
        .order_by("-started_at", "-pk")
        .first(),
        newest_verified=Backup.objects.newest_verified(),
        running=totals["running"],
        count=totals["count"],
        total_size=totals["total_size"] or 0,
        next_backup_at=next_run(CREATE_ENTRY, DEFAULT_CREATE_AT, now=now),
        next_prune_at=next_run(PRUNE_ENTRY, DEFAULT_PRUNE_AT, now=now),
    )


def next_run(entry: str, default: tuple[str, str], *, now: datetime) -> datetime:
    """When beat next runs `entry`, from the schedule declared in code (not the database's copy)."""
    from celery.schedules import crontab  # type: ignore[import-untyped]

    from cryptovault.beat import BEAT_SCHEDULE, Cron

    when = BEAT_SCHEDULE.get(entry, {}).get("schedule")
    if not isinstance(when, Cron):
        when = Cron(minute=default[0], hour=default[1])
    schedule = crontab(
        minute=when.minute,
        hour=when.hour,
        day_of_week=when.day_of_week,
        day_of_month=when.day_of_month,
        month_of_year=when.month_of_year,
        nowfun=lambda: now,
        app=None,
    )
    return now + schedule.remaining_estimate(now)
