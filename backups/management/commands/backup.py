"""`manage.py backup create|list|verify|restore|prune|status`: the operator's side of the backups.

A thin shell over backups.services (the same calls as the API, the admin and the tasks), printing
progress as the bytes go by. `restore --live` asks for the database's name unless --no-input, and even
then wants it as --confirm, so a restore over the live database is never one keystroke away.

    manage.py backup create [--no-verify]
    manage.py backup list [--limit 20]
    manage.py backup verify [ID|latest]
    manage.py backup restore ID --scratch NAME
    manage.py backup restore ID --live [--confirm NAME] [--no-input]
    manage.py backup prune [--dry-run]
    manage.py backup status
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from backups.engines import engine_for
from backups.errors import BackupError
from backups.models import Backup, BackupKind
from backups.selectors import backup_status, stored_objects
from backups.services import (
    backup_create,
    backup_from_object,
    backup_restore,
    backup_verify,
    backups_prune,
    live_database_label,
)
from cryptovault.actor import Actor


def human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class Command(BaseCommand):
    help = "Create, list, verify, restore and prune encrypted database backups; show their status."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = commands.add_parser("create", help="Back up the database now (then verify it).")
        create.add_argument("--no-verify", action="store_true", help="Skip the restore test afterwards.")
        listing = commands.add_parser("list", help="The newest backups.")
        listing.add_argument("--limit", type=int, default=20)
        listing.add_argument("--stored", action="store_true", help="List the objects in storage, not the records.")
        verify = commands.add_parser("verify", help="Prove a backup restores (default: the newest).")
        verify.add_argument("backup", nargs="?", default="latest", help="A backup id, or 'latest'.")
        restore = commands.add_parser("restore", help="Restore a backup into a scratch or the live database.")
        restore.add_argument("backup", nargs="?", default="", help="A backup id, or 'latest'.")
        restore.add_argument(
            "--object",
            default="",
            help="Restore this stored object by name when its record is gone (see `backup list --stored`).",
        )
        where = restore.add_mutually_exclusive_group(required=True)
        where.add_argument("--scratch", metavar="NAME", help="Restore into this scratch database.")
        where.add_argument("--live", action="store_true", help="Replace the live database (after a backup).")
        restore.add_argument("--confirm", default="", help="The live database's name (needed with --no-input).")
        prune = commands.add_parser("prune", help="Delete backups past BACKUP_RETENTION_DAYS.")
        prune.add_argument("--dry-run", action="store_true", help="Say what would be deleted; delete nothing.")
        commands.add_parser("status", help="Last success and failure, next run, count and size.")
        for sub in commands.choices.values():
            sub.add_argument("--no-input", action="store_false", dest="interactive", help="Ask nothing.")

    def handle(self, *args, action: str, **options):
        self.actor = Actor.for_command("backup")
        self._last_report = 0.0
        try:
            getattr(self, f"do_{action}")(**options)
        except BackupError as error:
            raise CommandError(error.message) from None

    # --- progress ---------------------------------------------------------------------------------
    def progress(self, stage: str, size: int) -> None:
        now = time.monotonic()
        if now - self._last_report >= 1:
            self._last_report = now
            self.stdout.write(f"  {stage} {human_size(size)}")

    def _backup(self, reference: str) -> Backup:
        if reference == "latest":
            backup = Backup.objects.finished().order_by("-started_at", "-pk").first()
            if backup is None:
                raise CommandError("No finished backup yet: run `manage.py backup create` first.")
            return backup
        try:
            return Backup.objects.get(pk=int(reference))
        except (ValueError, Backup.DoesNotExist):
            raise CommandError(f"No backup {reference!r}: see `manage.py backup list`.") from None

    # --- actions ----------------------------------------------------------------------------------
    def do_create(self, *, no_verify: bool = False, **options) -> None:
        self.stdout.write("Backing up the database...")
        started = time.monotonic()
        backup = backup_create(actor=self.actor, kind=BackupKind.MANUAL, progress=self.progress)
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup #{backup.pk} stored as {backup.storage_name}: {human_size(backup.size)} "
                f"(dump {human_size(backup.dump_size)}) in {seconds:.1f} s, sha256 {backup.checksum}."
            )
        )
        if not no_verify:
            self.do_verify(backup=str(backup.pk))

    def do_list(self, *, limit: int = 20, stored: bool = False, **options) -> None:
        if stored:
            for name in stored_objects()[-limit:]:
                self.stdout.write(name)
            return
        rows = Backup.objects.order_by("-started_at", "-pk")[:limit]
        self.stdout.write(f"{'id':>5}  {'started (UTC)':<19}  {'kind':<11}  {'status':<9}  {'size':>9}  name")
        for backup in rows:
            self.stdout.write(
                f"{backup.pk:>5}  {backup.started_at:%Y-%m-%d %H:%M:%S}  {backup.kind:<11}  {backup.status:<9}  "
                f"{human_size(backup.size):>9}  {backup.storage_name or backup.error[:60]}"
            )

    def do_verify(self, *, backup: str = "latest", **options) -> None:
        record = self._backup(backup)
        self.stdout.write(f"Verifying backup #{record.pk}: checksum, decryption, a restore into scratch...")
        record = backup_verify(actor=self.actor, backup=record, progress=self.progress)
        tables = len(record.table_counts)
        rows = sum(record.table_counts.values())
        self.stdout.write(
            self.style.SUCCESS(f"Backup #{record.pk} restores: {tables} tables, {rows} rows, as recorded.")
        )

    def do_restore(self, *, backup: str, scratch: str | None, live: bool, confirm: str, interactive: bool, **o):
        if bool(backup) == bool(o.get("object")):
            raise CommandError("Name a backup id (or 'latest'), or a stored object with --object.")
        record = backup_from_object(o["object"]) if o.get("object") else self._backup(backup)
        if live:
            label = live_database_label(engine_for("default"))
            if not confirm:
                if not interactive:
                    raise CommandError(f"--live with --no-input needs --confirm {label}.")
                try:
                    confirm = input(
                        f"This replaces the live database {label} with backup {record.pk or record.storage_name} "
                        f"({record.started_at:%Y-%m-%d %H:%M} UTC), after a pre-restore backup.\n"
                        f"Type the database's name to go on: "
                    )
                except EOFError:  # nothing to read (</dev/null, a closed pipe): not confirmed
                    confirm = ""
                    self.stdout.write("")
            self.stdout.write("Checking the backup, taking a pre-restore backup, then restoring...")
            result = backup_restore(
                actor=self.actor, backup=record, target="live", confirm=confirm.strip(), progress=self.progress
            )
            pre = result.pre_restore_backup
            self.stdout.write(
                self.style.SUCCESS(
                    f"Restored backup {record.pk or record.storage_name} into {result.database}. "
                    f"The database as it was is backup #{pre.pk if pre else '-'}."
                )
            )
            return
        result = backup_restore(
            actor=self.actor, backup=record, target="scratch", database=scratch or "", progress=self.progress
        )
        self.stdout.write(
            self.style.SUCCESS(f"Restored backup {record.pk or record.storage_name} into {result.database}.")
        )

    def do_prune(self, *, dry_run: bool = False, **options) -> None:
        result = backups_prune(actor=self.actor, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        ids = ", ".join(f"#{pk}" for pk in result.deleted) or "nothing"
        kept = f"#{result.kept_newest_verified}" if result.kept_newest_verified else "none yet"
        self.stdout.write(f"{verb} {ids}; the newest verified backup ({kept}) is always kept.")
        for error in result.errors:
            self.stderr.write(error)

    def do_status(self, **options) -> None:
        report = backup_status()

        def describe(backup: Backup | None, when: str = "started_at") -> str:
            if backup is None:
                return "never"
            return f"#{backup.pk} at {getattr(backup, when) or backup.started_at:%Y-%m-%d %H:%M} UTC"

        failure = report.last_failure
        lines = [
            f"Health:          {'OK' if report.healthy else 'ATTENTION'}",
            f"Last success:    {describe(report.last_success, 'finished_at')}",
            f"Last failure:    {describe(failure)}" + (f": {failure.verify_error or failure.error}" if failure else ""),
            f"Newest verified: {describe(report.newest_verified, 'verified_at')}",
            f"Backups kept:    {report.count}, {human_size(report.total_size)}"
            + (f" ({report.running} running)" if report.running else ""),
            f"Next backup:     {report.next_backup_at:%Y-%m-%d %H:%M} UTC",
            f"Next prune:      {report.next_prune_at:%Y-%m-%d %H:%M} UTC",
        ]
        self.stdout.write("\n".join(lines))
