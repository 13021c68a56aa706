"""Periodic account work, run by the Celery worker on beat's schedule."""

from __future__ import annotations

from celery import shared_task

from accounts.services.housekeeping import accounts_expired_purge


@shared_task(name="accounts.expired_purge")
def accounts_expired_purge_task() -> dict[str, int]:
    return accounts_expired_purge()
