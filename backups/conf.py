"""The backups app's settings, read in one place.

Each value comes from `django.conf.settings` (filled from the environment by cryptovault/settings.py);
the defaults here are the embedded default's, so the app works before and without extra variables.
"""

from __future__ import annotations

import base64
import hashlib
import re
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
    """The 32-byte AES key from BACKUP_ENCRYPTION_KEY (url-safe base64), checked before any work starts.

    The key is read strictly (44 url-safe base64 characters, nothing else: a lenient decoder skips
    stray characters), and compared with the development key and the field keys as bytes, so no other
    spelling of the same 32 bytes gets past.
    """
    raw = getattr(settings, "BACKUP_ENCRYPTION_KEY", None)
    if raw is None:
        raw = DEVELOPMENT_BACKUP_ENCRYPTION_KEY if settings.DEBUG else ""
    raw = str(raw).strip()
    if not raw:
        raise BackupKeyError("BACKUP_ENCRYPTION_KEY is not set: backups cannot be encrypted or read without it.")
    key = _key_bytes(raw)
    if key is None:
        raise BackupKeyError(
            "BACKUP_ENCRYPTION_KEY must be 32 bytes in url-safe base64 (44 characters); "
            'make one with: python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
        )
    if not settings.DEBUG and key == _key_bytes(DEVELOPMENT_BACKUP_ENCRYPTION_KEY):
        raise BackupKeyError("BACKUP_ENCRYPTION_KEY is the published development key; set a key of your own.")
    field_keys = {_lenient_bytes(str(field_key)) for field_key in getattr(settings, "FIELD_ENCRYPTION_KEYS", [])}
    if key in field_keys:
        raise BackupKeyError(
            "BACKUP_ENCRYPTION_KEY must differ from every FIELD_ENCRYPTION_KEYS key: a leaked backup "
            "would otherwise carry the key to the secrets inside it."
        )
    return key


URLSAFE_KEY = re.compile(r"[A-Za-z0-9_-]{43}=")


def _key_bytes(text: str) -> bytes | None:
    """Exactly 32 bytes from exactly 44 url-safe base64 characters, or None."""
    if not URLSAFE_KEY.fullmatch(text):
        return None
    key = base64.urlsafe_b64decode(text)
    return key if len(key) == 32 else None


def _lenient_bytes(text: str) -> bytes:
    """A field key as bytes, the way a lenient decoder reads it (they are Fernet keys, checked by settings)."""
    try:
        return base64.urlsafe_b64decode(text.strip().encode())
    except (ValueError, TypeError):
        return text.encode()
