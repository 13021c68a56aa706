"""What can go wrong with a backup, in words an operator can act on.

Every failure of create, verify or restore is recorded on the Backup row (status failed, `error`) with
one of these messages before it reaches the caller, so the status page says the same thing as the
command, the API and the admins' email.
"""

from __future__ import annotations

from cryptovault.errors import DomainError


class BackupError(DomainError):
    status_code = 409
    code = "backup_failed"
    default_message = "The backup operation failed."


class BackupKeyError(BackupError):
    """Missing, malformed, or shared with the field-encryption keys."""

    code = "backup_key_invalid"


class WrongBackupKey(BackupError):
    code = "backup_wrong_key"


class BackupCorrupt(BackupError):
    """Proof of damage: a checksum mismatch, a chunk that fails authentication, a missing last chunk
    (refused before use), or a dump the engine rejects or whose row counts differ (found by verify).
    Only this error marks a backup failed when it is verified."""

    code = "backup_corrupt"


class StorageUnavailable(BackupError):
    status_code = 503
    code = "backup_storage_unavailable"


class DumpToolError(BackupError):
    """pg_dump or pg_restore missing, or exiting with an error."""

    code = "backup_tool_failed"


class DiskFull(BackupError):
    status_code = 507
    code = "backup_disk_full"


class RestoreRefused(BackupError):
    """Bad target, missing confirmation, a backup not fit to restore."""

    status_code = 400
    code = "restore_refused"


class BackupAlreadyRan(BackupError):
    """A run asked twice (a task redelivered after a worker died): the first one's outcome stands."""

    code = "backup_already_ran"


class BackupNotReady(BackupError):
    code = "backup_not_ready"
    default_message = "Only a backup that finished (succeeded or verified) can be verified or restored."
