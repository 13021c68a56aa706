"""The periodic schedule, declared in code and installed by ``manage.py install_beat_schedule``.

Keeping it here (not edited by hand in the admin) means every deployment runs the same
schedule and a review shows its changes. Later apps add their entries to this dict.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Every:
    seconds: int


@dataclass(frozen=True)
class Cron:
    minute: str = "*"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"


BEAT_SCHEDULE: dict[str, dict] = {
    "worker-heartbeat": {
        "task": "cryptovault.worker_heartbeat",
        "schedule": Every(seconds=60),
        "description": "Proves a worker consumes the queue; shown by /health/ready.",
    },
    "accounts-expired-purge": {
        "task": "accounts.expired_purge",
        "schedule": Cron(minute="17", hour="3"),
        "description": "Deletes expired SMS and email codes, unfinished authenticator set-ups and expired JWT records.",
    },
    "accounts-requeue-stale-deliveries": {
        "task": "accounts.requeue_stale_deliveries",
        "schedule": Every(seconds=300),
        "description": "Queues again email and SMS deliveries lost on the way (pending over 2 min, sending "
        "over 15 min), within their retry budget.",
    },
    "exchanges-health-check": {
        "task": "exchanges.check_all_connections",
        "schedule": Every(seconds=settings.CONNECTION_CHECK_MINUTES * 60),
        "description": "Re-tests every active exchange connection (one task each); notifies owners of status changes.",
    },
    "trading-sync-exchange-accounts": {
        "task": "trading.sync_exchange_accounts",
        "schedule": Every(seconds=settings.ORDER_SYNC_SECONDS),
        "description": "Syncs every active exchange account (one task each): balances, open orders and their fills.",
    },
    "trading-process-withdrawals": {
        "task": "trading.process_withdrawals",
        "schedule": Every(seconds=60),
        "description": "Completes paper withdrawals and sends exchange ones whose hold ended; follows sent ones.",
    },
    "trading-equity-snapshot": {
        "task": "trading.snapshot_equity",
        "schedule": Cron(minute="5", hour="0"),
        "description": "Takes each user's equity snapshot of the day (total value and holdings) for the analytics.",
    },
    "backups-create": {
        "task": "backups.create_scheduled",
        "schedule": Cron(minute="0", hour="2"),
        "description": "Backs up the database (encrypted, to backup storage), then verifies it restores; "
        "emails the admins on failure.",
    },
    "backups-prune": {
        "task": "backups.prune",
        "schedule": Cron(minute="0", hour="3"),
        "description": "Deletes backups older than BACKUP_RETENTION_DAYS, always keeping the newest verified one.",
    },
}

INSTALLED_FROM_CODE = "Installed from cryptovault/beat.py"


def beat_schedule_install(schedule: dict[str, dict] | None = None, *, dry_run: bool = False) -> dict[str, list[str]]:
    """Make django-celery-beat's tables match ``schedule``; returns what changed.

    Entries this function installed earlier but that are no longer declared are deleted;
    entries staff created by hand in the admin are left alone.
    """
    from django.db import transaction
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    schedule = BEAT_SCHEDULE if schedule is None else schedule
    changes: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": [], "deleted": []}
    with transaction.atomic():
        for name, entry in schedule.items():
            when = entry["schedule"]
            fields = {
                "task": entry["task"],
                "enabled": True,
                "description": f"{INSTALLED_FROM_CODE}. {entry.get('description', '')}".strip(),
            }
            if isinstance(when, Every):
                fields["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=when.seconds, period=IntervalSchedule.SECONDS
                )
                fields["crontab"] = None
            else:
                fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    minute=when.minute,
                    hour=when.hour,
                    day_of_week=when.day_of_week,
                    day_of_month=when.day_of_month,
                    month_of_year=when.month_of_year,
                    timezone="UTC",
                )
                fields["interval"] = None
            task = PeriodicTask.objects.filter(name=name).first()
            if task is None:
                PeriodicTask.objects.create(name=name, **fields)
                changes["created"].append(name)
            elif any(getattr(task, key) != value for key, value in fields.items()):
                for key, value in fields.items():
                    setattr(task, key, value)
                task.save()
                changes["updated"].append(name)
            else:
                changes["unchanged"].append(name)
        stale = PeriodicTask.objects.filter(description__startswith=INSTALLED_FROM_CODE).exclude(name__in=schedule)
        changes["deleted"] = list(stale.values_list("name", flat=True))
        stale.delete()
        if dry_run:
            transaction.set_rollback(True)
    return changes
