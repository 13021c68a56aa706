"""The backups app's settings, read in one place.

Each value comes from `django.conf.settings` (filled from the environment by cryptovault/settings.py);
the defaults here are the embedded default's, so the app works before and without extra variables.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages

from backups.errors import BackupKeyError

# Published with the code like DEVELOPMENT_FIELD_ENCRYPTION_KEY: fine for the embedded default, refused
# with DEBUG off (see backup_key()).
DEVELOPMENT_BACKUP_ENCRYPTION_KEY = "Y3Y6YmFja3VwczpkZXZlbG9wbWVudC1rZXk6MzJieXQ="
STORAGE_ALIAS = "backups"


def retention_days() -> int:
    return int(getattr(settings, "BACKUP_RETENTION_DAYS", 30))


def chunk_bytes() -> int:
    """Plaintext bytes per encrypted chunk: what the pipeline holds in memory at once, per stage."""
    return int(getattr(settings, "BACKUP_CHUNK_BYTES", 1024 * 1024))


def compression_level() -> int:
    return int(getattr(settings, "BACKUP_ZSTD_LEVEL", 1))


def lock_wait_seconds() -> float:
    """How long pg_dump waits for a table lock (a migration, a long transaction) before failing."""
    return float(getattr(settings, "BACKUP_LOCK_WAIT_SECONDS", 300))


def pg_bin(name: str) -> str:
    """Where pg_dump/pg_restore live (BACKUP_PG_BIN_DIR), or the bare name looked up on PATH."""
    directory = getattr(settings, "BACKUP_PG_BIN_DIR", "")
    return str(Path(directory) / name) if directory else name


def task_queue() -> str | None:
    """The Celery queue backup tasks go to (BACKUP_TASK_QUEUE): a dedicated worker keeps an hour-long
    backup from holding up the default queue. None is the default queue."""
    return getattr(settings, "BACKUP_TASK_QUEUE", None) or None


def scratch_prefix() -> str:
    """Scratch databases (verify, restore elsewhere) are named with this prefix, so they are easy to spot."""
    return str(getattr(settings, "BACKUP_SCRATCH_PREFIX", "cv_backups_scratch"))


def work_dir() -> Path:
    """Where temporary copies go while a backup is made, verified or restored (needs ~1x the database)."""
    configured = getattr(settings, "BACKUP_WORK_DIR", "")
    path = Path(configured) if configured else Path(settings.VAR_DIR) / "backup-work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def storage() -> Storage:
    """`STORAGES["backups"]` when configured (S3 through django-storages in production), else local files."""
    if STORAGE_ALIAS in settings.STORAGES:
        return storages[STORAGE_ALIAS]
    # The test suite (and its Celery worker) never writes into a developer's var/backups.
    default = "test-backups" if getattr(settings, "TESTING", False) else "backups"
    location = getattr(settings, "BACKUP_ROOT", "") or Path(settings.VAR_DIR) / default
    return FileSystemStorage(location=location)


def key_id_of(key: bytes) -> str:
    """What identifies a key in a backup's header and in errors without revealing it."""
    return hashlib.sha256(key).hexdigest()[:8]


def backup_key() -> bytes:
    """The 32-byte AES key from BACKUP_ENCRYPTION_KEY (url-safe base64), checked before any work starts."""
    raw = getattr(settings, "BACKUP_ENCRYPTION_KEY", None)
    if raw is None:
        raw = DEVELOPMENT_BACKUP_ENCRYPTION_KEY if settings.DEBUG else ""
    raw = str(raw).strip()
    if not raw:
        raise BackupKeyError("BACKUP_ENCRYPTION_KEY is not set: backups cannot be encrypted or read without it.")
    if not settings.DEBUG and raw == DEVELOPMENT_BACKUP_ENCRYPTION_KEY:
        raise BackupKeyError("BACKUP_ENCRYPTION_KEY is the published development key; set a key of your own.")
    if raw in getattr(settings, "FIELD_ENCRYPTION_KEYS", []):
        raise BackupKeyError(
            "BACKUP_ENCRYPTION_KEY must differ from every FIELD_ENCRYPTION_KEYS key: a leaked backup "
            "would otherwise carry the key to the secrets inside it."
        )
    try:
        key = base64.urlsafe_b64decode(raw.encode())
    except (ValueError, TypeError):
        key = b""
    if len(key) != 32:
        raise BackupKeyError(
            "BACKUP_ENCRYPTION_KEY must be 32 bytes in url-safe base64 (44 characters); "
            'make one with: python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
        )
    return key
