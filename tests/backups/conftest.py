"""Backups are written to a temporary folder (or to the loopback S3 server) under a key made for the
test, never to var/backups; scratch databases are named cv_backups_* so they are easy to find."""

from __future__ import annotations

import base64
import os

import pytest

from cryptovault.actor import Actor


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def backup_settings(settings, tmp_path):
    """Local backup storage in the test's folder, its own work folder and a fresh key."""
    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    settings.BACKUP_WORK_DIR = str(tmp_path / "work")
    settings.BACKUP_ENCRYPTION_KEY = new_key()
    settings.BACKUP_CHUNK_BYTES = 64 * 1024  # many chunks even for a small test database
    return settings


@pytest.fixture
def operator() -> Actor:
    return Actor.for_command("backup")


@pytest.fixture
def backup_worker(celery_worker, settings):
    """The session's real Celery worker takes the backup tasks (BACKUP_TASK_QUEUE is its queue).

    The worker is another process with the default backup settings (storage under var/test-backups,
    the development key), so tests using it keep those; what they store is deleted afterwards.
    """
    settings.BACKUP_TASK_QUEUE = celery_worker.queue
    yield celery_worker
    from backups.conf import storage
    from backups.models import Backup

    store = storage()
    for name in Backup.objects.exclude(storage_name="").values_list("storage_name", flat=True):
        store.delete(name)


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.25):
    """Poll the database until the worker has done its part."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not done within {timeout} s")


def client_with_role(email: str, role: str):
    from rest_framework.test import APIClient

    from accounts.services.roles import role_assign
    from tests.factories import TEST_ACTOR, UserFactory
    from tests.fakes.authenticator import turn_on_totp, unused_totp_code
    from tests.helpers import sign_in

    user = role_assign(actor=TEST_ACTOR, user=UserFactory(email=email), role=role)
    turn_on_totp(user)  # staff endpoints need 2FA given at sign-in, as the admin (cryptovault.admin_gate)
    client = APIClient()
    sign_in(client, email, otp_code=unused_totp_code(user))
    return client


@pytest.fixture
def admin_api(db):
    """An admin by role (every permission, staff, not a superuser), signed in with a JWT and a code."""
    return client_with_role("ops-admin@example.com", "admin")


@pytest.fixture
def support_api(db):
    """Support staff: may read what support may read, which does not include backups."""
    return client_with_role("ops-support@example.com", "support")
