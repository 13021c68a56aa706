"""Create, verify, restore and prune backups: the one place these rules live.

The command, the API, the admin and the Celery tasks all call these functions with an actor, and each
call leaves an audit record (`backup.created`, `backup.verified`, `backup.restored`, `backup.pruned`),
with `outcome="failure"` when it failed. A failure is written on the Backup row before the error
reaches the caller, so the status says the same thing as whoever asked.

Order of work in a restore: the object is downloaded, its SHA-256 checked and every chunk
authenticated and decompressed into a local file *before* anything is touched; only then (live target)
a pre-restore backup is taken, and only if that succeeds is the live database replaced.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import zstandard
from django.core.files import File
from django.core.management.color import no_style
from django.db import connections, models, transaction
from django.utils import timezone

from backups.conf import backup_key, chunk_bytes, key_id_of, retention_days, storage, work_dir
from backups.crypto import decrypt_stream, encrypt_stream
from backups.engines import Engine, check_scratch_name, engine_for
from backups.errors import (
    BackupAlreadyRan,
    BackupCorrupt,
    BackupError,
    BackupNotReady,
    DiskFull,
    DumpToolError,
    RestoreRefused,
    StorageUnavailable,
)
from backups.models import Backup, BackupKind, BackupStatus
from backups.pipeline import Counted, GeneratorReader, Progress, compress, decompress, file_chunks
from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from security.audit import audit_record

RestoreTarget = Literal["live", "scratch"]
STUCK_AFTER = timedelta(hours=12)  # a backup "running" this long died with its process


# --- create -------------------------------------------------------------------------------------


def object_name(backup: Backup) -> str:
    """Names sort by time: backups/2026/12/01/20261201T020000Z-scheduled-postgresql-42.cvbk."""
    at = backup.started_at.astimezone(UTC)
    return f"backups/{at:%Y/%m/%d}/{at:%Y%m%dT%H%M%S}Z-{backup.kind}-{backup.engine}-{backup.pk}.cvbk"


OBJECT_NAME = re.compile(
    r"(?:^|/)(?P<at>\d{8}T\d{6})Z-(?P<kind>scheduled|manual|pre_restore)-(?P<engine>postgresql|sqlite)-(?P<pk>\d+)\.cvbk$"
)


def backup_from_object(storage_name: str) -> Backup:
    """A stand-in record (not saved) for an object whose record is gone: the disaster case, when the
    database holding the records is the one lost. Without a recorded checksum, the encryption alone
    vouches for the bytes: every chunk authenticates and the last one is marked, or it is refused."""
    match = OBJECT_NAME.search(storage_name)
    if match is None:
        raise RestoreRefused(f"{storage_name} is not the name of a backup object.", field="object")
    store = storage()
    try:
        size = store.size(storage_name)
    except Exception as exc:
        raise classify(exc) from exc
    return Backup(
        kind=match["kind"],
        engine=match["engine"],
        status=BackupStatus.SUCCEEDED,
        storage_name=storage_name,
        size=size,
        checksum="",
        started_at=datetime.strptime(match["at"], "%Y%m%dT%H%M%S").replace(tzinfo=UTC),
    )


def live_database_label(engine: Engine) -> str:
    """What an operator types to confirm a live restore: the database's name (SQLite: the file's stem)."""
    return engine.database_name() if engine.name == "postgresql" else Path(engine.database_name()).stem


def backup_start(*, actor: Actor, kind: str = BackupKind.MANUAL, using: str = "default") -> Backup:
    """The record of a backup about to run (status running): what the API answers before the task runs."""
    engine = engine_for(using)
    backup = Backup(
        kind=kind,
        engine=engine.name,
        database=live_database_label(engine),
        started_at=timezone.now(),
        requested_by=actor.user,
        requested_via=actor.via,
    )
    backup.full_clean()
    backup.save()
    return backup


def backup_run(*, actor: Actor, backup: Backup, progress: Progress | None = None, using: str = "default") -> Backup:
    """Dump, compress, encrypt and store the backup `backup_start` recorded; raises BackupError on failure.

    Only a record still running is run: a task delivered twice (acks_late after a worker died) finds the
    backup finished or failed and leaves it alone.
    """
    backup.refresh_from_db(fields=["status"])
    if backup.status != BackupStatus.RUNNING:
        raise BackupAlreadyRan(f"Backup #{backup.pk} already ran ({backup.status}).")
    store = None
    name = ""
    try:
        key = backup_key()
        engine = engine_for(using)
        store = storage()
        name = object_name(backup)
        with engine.dump() as (chunks, counts):
            dumped = Counted(chunks, progress=progress, stage="dumped")
            stored = Counted(encrypt_stream(compress(dumped), key=key, chunk_size=chunk_bytes()))
            saved_name = store.save(name, File(cast(Any, GeneratorReader(stored)), name=name))
    except Exception as exc:
        error = classify(exc, writing=True)
        if store is not None and name:
            _delete_quietly(store, name)
        _fail(backup, error)
        audit_record(
            "backup.created", actor=actor, outcome="failure", backup_id=backup.pk, kind=backup.kind, error=error.message
        )
        raise error from exc
    backup.storage_name = saved_name
    backup.size = stored.size
    backup.dump_size = dumped.size
    backup.checksum = stored.sha256.hexdigest()
    backup.key_id = key_id_of(key)
    backup.table_counts = counts
    backup.status = BackupStatus.SUCCEEDED
    backup.finished_at = timezone.now()
    backup.error = ""
    backup.save()
    audit_record(
        "backup.created",
        actor=actor,
        backup_id=backup.pk,
        kind=backup.kind,
        storage_name=backup.storage_name,
        size=backup.size,
        sha256=backup.checksum,
    )
    return backup


def backup_create(
    *, actor: Actor, kind: str = BackupKind.MANUAL, progress: Progress | None = None, using: str = "default"
) -> Backup:
    """Start and run a backup in this process (the command, the scheduled task, a pre-restore backup)."""
    backup = backup_start(actor=actor, kind=kind, using=using)
    return backup_run(actor=actor, backup=backup, progress=progress, using=using)


# --- read back: checksum, decrypt, decompress ------------------------------------------------------


@contextlib.contextmanager
def opened_backup(backup: Backup, *, progress: Progress | None = None) -> Iterator[Path]:
    """The backup's dump as a local file, only once its checksum matched and every chunk authenticated.

    Download, hashing, decryption and decompression run in one pass over the object; the dump file is
    ours (in BACKUP_WORK_DIR) and is deleted when the block ends, whatever happened.
    """
    if not backup.restorable:
        raise BackupNotReady()
    key = backup_key()
    fd, path_name = tempfile.mkstemp(prefix=f"restore-{backup.pk}-", suffix=".dump", dir=work_dir())
    path = Path(path_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                handle = storage().open(backup.storage_name, "rb")
            except Exception as exc:
                raise classify(exc) from exc
            with handle:
                downloaded = Counted(file_chunks(handle, chunk_bytes()), progress=progress, stage="downloaded")
                source = iter(downloaded)
                reader = GeneratorReader(source)
                try:
                    for chunk in decompress(decrypt_stream(reader.read, key=key)):
                        out.write(chunk)
                    if reader.read(1):
                        raise BackupCorrupt("The backup has bytes after its final chunk: it was altered.")
                except (BackupError, zstandard.ZstdError) as exc:
                    for _ in source:  # read the rest, so the checksum can say whether the object changed
                        pass
                    if backup.checksum and downloaded.sha256.hexdigest() != backup.checksum:
                        raise _checksum_mismatch(backup, downloaded.size) from exc
                    if isinstance(exc, zstandard.ZstdError):
                        raise BackupCorrupt(f"The backup's compressed stream is damaged: {exc}") from exc
                    raise
                except Exception as exc:
                    raise classify(exc) from exc
        if backup.checksum and (downloaded.sha256.hexdigest() != backup.checksum or downloaded.size != backup.size):
            raise _checksum_mismatch(backup, downloaded.size)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _checksum_mismatch(backup: Backup, size: int) -> BackupCorrupt:
    return BackupCorrupt(
        f"The stored object does not match its SHA-256 ({size} bytes read, {backup.size} recorded): "
        "it was altered or truncated after it was written. Refused."
    )


# --- verify --------------------------------------------------------------------------------------


def backup_verify(*, actor: Actor, backup: Backup, progress: Progress | None = None, using: str = "default") -> Backup:
    """Prove the backup restores: checksum, decrypt, restore into scratch, compare every table's rows.

    Only proof of damage makes the backup failed (BackupCorrupt: the checksum, a chunk that does not
    authenticate, a dump pg_restore or SQLite rejects, row counts that differ). A verification that
    could not run (storage unreachable, no or another key, pg_restore missing, a role that may not
    create the scratch database) keeps the status, says why in `verify_error`, and can be run again.
    """
    try:
        engine = engine_for(using)
        if backup.engine != engine.name:
            raise RestoreRefused(f"A {backup.engine} backup cannot be checked on {engine.name}.")
        with opened_backup(backup, progress=progress) as dump:
            counts = engine.check_restores(dump)
        differences = _count_differences(backup.table_counts, counts)
        if differences:
            raise BackupCorrupt(f"Restored row counts differ from those recorded: {differences}")
    except Exception as exc:
        error = classify(exc)
        changes: dict[str, Any] = {"verify_error": error.message}
        if isinstance(error, BackupCorrupt):
            changes.update(status=BackupStatus.FAILED, error=f"Verification failed: {error.message}")
        if backup.restorable:  # a backup not ready to verify is left as it is
            Backup.objects.filter(pk=backup.pk).update(**changes)
            backup.refresh_from_db()
        audit_record("backup.verified", actor=actor, outcome="failure", backup_id=backup.pk, error=error.message)
        raise error from exc
    backup.status = BackupStatus.VERIFIED
    backup.verified_at = timezone.now()
    backup.verify_error = ""
    backup.save(update_fields=["status", "verified_at", "verify_error"])
    audit_record("backup.verified", actor=actor, backup_id=backup.pk, tables=len(counts), rows=sum(counts.values()))
    return backup


def _count_differences(recorded: dict[str, int], restored: dict[str, int]) -> str:
    names = sorted(set(recorded) | set(restored))
    wrong = [
        f"{name}: {recorded.get(name, 'absent')} -> {restored.get(name, 'absent')}"
        for name in names
        if recorded.get(name) != restored.get(name)
    ]
    return "; ".join(wrong[:10]) + (f" (and {len(wrong) - 10} more)" if len(wrong) > 10 else "")


# --- restore -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestorePlan:
    backup_id: int
    target: RestoreTarget
    database: str  # the scratch database's name; the live database's label for a live restore


@dataclass(frozen=True)
class RestoreResult:
    backup: Backup
    target: RestoreTarget
    database: str
    pre_restore_backup: Backup | None = None


def restore_plan(
    *,
    backup: Backup,
    target: str,
    database: str = "",
    confirm: str = "",
    using: str = "default",
    actor: Actor | None = None,
) -> RestorePlan:
    """Check a restore request without touching anything: what the API answers 400 for. A refused
    request by a person (`actor`) is audited: an attempt on the live database is worth knowing of."""
    try:
        return _restore_plan(backup=backup, target=target, database=database, confirm=confirm, using=using)
    except DomainError as refused:
        if actor is not None:
            audit_record(
                "backup.restored",
                actor=actor,
                outcome="refused",
                backup_id=backup.pk,
                target=str(target)[:16],
                error=refused.message,
            )
        raise


def _restore_plan(*, backup: Backup, target: str, database: str, confirm: str, using: str) -> RestorePlan:
    if not backup.restorable:
        raise BackupNotReady()
    engine = engine_for(using)
    if backup.engine != engine.name:
        raise RestoreRefused(f"A {backup.engine} backup cannot be restored into {engine.name}.")
    if target == "live":
        label = live_database_label(engine)
        if confirm != label:
            raise RestoreRefused(
                f"Restoring replaces the live database: type its name, {label}, as the confirmation.",
                field="confirm",
            )
        return RestorePlan(backup_id=backup.pk, target="live", database=label)
    if target == "scratch":
        return RestorePlan(
            backup_id=backup.pk,
            target="scratch",
            database=check_scratch_name(database, live=live_database_label(engine)),
        )
    raise RestoreRefused("Choose the target: live or scratch.", field="target")


def backup_restore(
    *,
    actor: Actor,
    backup: Backup,
    target: str,
    database: str = "",
    confirm: str = "",
    progress: Progress | None = None,
    using: str = "default",
) -> RestoreResult:
    """Restore into a scratch database, or (confirmed, after a pre-restore backup) into the live one."""
    plan = restore_plan(backup=backup, target=target, database=database, confirm=confirm, using=using, actor=actor)
    engine = engine_for(using)
    pre_restore: Backup | None = None
    try:
        with opened_backup(backup, progress=progress) as dump:
            if plan.target == "scratch":
                where = engine.restore(dump, scratch=plan.database)
            else:
                pre_restore = backup_create(actor=actor, kind=BackupKind.PRE_RESTORE, using=using)
                kept = _rows_to_keep(since=backup.started_at, restored=backup, using=using)
                connections[using].close()
                engine.restore(dump, scratch=None)
                # Restored from a record: the records are put back whole. From a stored object whose
                # record is gone (the records were lost), the dump's records are all there is: kept.
                _put_back(kept, using=using, whole_backups_table=backup.pk is not None)
                where = plan.database
    except Exception as exc:
        error = classify(exc)
        audit_record(
            "backup.restored",
            actor=actor,
            outcome="failure",
            backup_id=backup.pk,
            target=plan.target,
            database=plan.database,
            pre_restore_backup_id=pre_restore.pk if pre_restore else None,
            error=error.message,
        )
        raise error from exc
    audit_record(
        "backup.restored",
        actor=actor,
        backup_id=backup.pk,
        target=plan.target,
        database=plan.database,
        pre_restore_backup_id=pre_restore.pk if pre_restore else None,
    )
    return RestoreResult(backup=backup, target=plan.target, database=where, pre_restore_backup=pre_restore)


def _rows_to_keep(*, since: datetime, restored: Backup, using: str) -> dict[type[models.Model], list[dict[str, Any]]]:
    """Rows a live restore must not roll back: the backup records as they are now (put back as the whole
    table, so backups pruned since the dump do not return without their objects; the one restored from
    as it is now, not as the dump had it, still running), and the audit trail written since the backup,
    including this restore's own pre-restore backup."""
    from security.models import AuditEvent

    rows: dict[int, dict[str, Any]] = {row["id"]: dict(row) for row in Backup.objects.using(using).values()}
    if restored.pk is not None:  # a stand-in for a lost record (backup_from_object) is not brought back
        rows[restored.pk] = {f.attname: getattr(restored, f.attname) for f in Backup._meta.concrete_fields}
    return {
        Backup: list(rows.values()),
        AuditEvent: [dict(row) for row in AuditEvent.objects.using(using).filter(created_at__gte=since).values()],
    }


def _put_back(
    kept: dict[type[models.Model], list[dict[str, Any]]], *, using: str, whole_backups_table: bool = True
) -> None:
    from django.contrib.auth import get_user_model

    users = set(get_user_model().objects.using(using).values_list("pk", flat=True))
    with transaction.atomic(using=using):
        for model, rows in kept.items():
            for row in rows:
                for user_field in ("user_id", "requested_by_id"):
                    if row.get(user_field) is not None and row[user_field] not in users:
                        row[user_field] = None
            manager = model._default_manager.using(using)
            if model is Backup and whole_backups_table:  # as it was just before the restore, not as dumped
                manager.all().delete()
            elif model is Backup:
                manager.filter(pk__in=[row["id"] for row in rows]).delete()
            else:  # the audit log is append-only: a record the dump holds is the same; add the ones it lacks
                present = set(manager.filter(pk__in=[row["id"] for row in rows]).values_list("pk", flat=True))
                rows = [row for row in rows if row["id"] not in present]
            manager.bulk_create([model(**row) for row in rows])
        connection = connections[using]
        statements = connection.ops.sequence_reset_sql(no_style(), list(kept))
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


# --- prune ---------------------------------------------------------------------------------------


@dataclass
class PruneResult:
    deleted: list[int] = field(default_factory=list)
    kept_newest_verified: int | None = None
    interrupted: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def backups_prune(*, actor: Actor, now: datetime | None = None, dry_run: bool = False) -> PruneResult:
    """Delete backups older than BACKUP_RETENTION_DAYS, never the newest verified one.

    Runs that died mid-way (running for over 12 hours) are marked failed, so the status tells the truth.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    result = PruneResult()
    newest_verified = Backup.objects.newest_verified()
    result.kept_newest_verified = newest_verified.pk if newest_verified else None
    stuck = Backup.objects.filter(status=BackupStatus.RUNNING, started_at__lt=now - STUCK_AFTER)
    result.interrupted = list(stuck.values_list("pk", flat=True))
    expired = Backup.objects.filter(started_at__lt=cutoff).exclude(status=BackupStatus.RUNNING)
    if newest_verified is not None:
        expired = expired.exclude(pk=newest_verified.pk)
    if dry_run:
        result.deleted = list(expired.values_list("pk", flat=True))
        return result
    stuck.update(status=BackupStatus.FAILED, error="Interrupted: the process running it stopped.", finished_at=now)
    store = storage() if expired.exists() else None
    for backup in expired.order_by("started_at"):
        if backup.storage_name and store is not None:
            try:
                store.delete(backup.storage_name)
            except Exception as exc:
                result.errors.append(f"#{backup.pk}: {classify(exc).message}")
                continue  # keep the row: its object is still there
        result.deleted.append(backup.pk)
        backup.delete()
    audit_record(
        "backup.pruned",
        actor=actor,
        outcome="failure" if result.errors else "success",
        deleted=result.deleted,
        kept_newest_verified=result.kept_newest_verified,
        interrupted=result.interrupted,
        retention_days=retention_days(),
        errors=result.errors,
    )
    return result


# --- errors --------------------------------------------------------------------------------------


def classify(exc: BaseException, *, writing: bool = False) -> BackupError:
    """Any failure as one of our errors, with a message an operator can act on (never a secret).

    `writing`: the failure came while a backup was being made, so a file error means the object (or
    its working copy) could not be written, not that an object is missing.
    """
    if isinstance(exc, BackupError):
        return exc
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return DiskFull(f"Out of disk space while writing the backup ({exc.strerror}).")
    try:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - botocore is a production requirement
        BotoCoreError = ClientError = ()
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        return StorageUnavailable(f"Backup storage refused the request ({code or 'error'}).")
    if isinstance(exc, BotoCoreError):
        return StorageUnavailable(f"Backup storage is unreachable: {type(exc).__name__}.")
    if writing and isinstance(exc, OSError) and not isinstance(exc, ConnectionError | TimeoutError):
        where = f" to {exc.filename}" if exc.filename else ""
        return StorageUnavailable(
            f"The backup could not be written{where}: {exc.strerror or exc}. Check that BACKUP_ROOT (or the "
            "storage's location) and BACKUP_WORK_DIR are folders this process can write."
        )
    if isinstance(exc, FileNotFoundError):
        return StorageUnavailable(f"The backup object is missing from storage: {exc.filename or exc}.")
    if isinstance(exc, PermissionError | ConnectionError | TimeoutError):
        return StorageUnavailable(f"Backup storage is unreachable or not writable: {exc}.")
    if isinstance(exc, zstandard.ZstdError):
        return BackupCorrupt(f"The backup's compressed stream is damaged: {exc}")
    if type(exc).__module__.startswith("psycopg"):
        return DumpToolError(f"The database refused: {str(exc).strip().splitlines()[0][:300]}")
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        return DiskFull(f"Out of disk space while copying the database ({exc}).")
    return BackupError(f"{type(exc).__name__}: {str(exc)[:300]}")


def _fail(backup: Backup, error: BackupError) -> None:
    Backup.objects.filter(pk=backup.pk).update(
        status=BackupStatus.FAILED, error=error.message, finished_at=timezone.now(), storage_name="", checksum=""
    )
    backup.refresh_from_db()


def _delete_quietly(store: Any, name: str) -> None:
    """A failed run leaves no object behind that could pass for a backup."""
    with contextlib.suppress(Exception):
        store.delete(name)
