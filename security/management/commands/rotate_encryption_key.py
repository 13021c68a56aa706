"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key in front of FIELD_ENCRYPTION_KEYS (keep the old one behind it), deploy,
run this command, then drop the old key. It covers every column `security.crypto.encrypted_columns()`
names (TOTP seeds, exchange credentials, whatever comes later).

It works on the raw column values, through SQL: `EncryptedTextField` decrypts on load, so the ORM
would hide which key a row is under. A value whose `v1:<key id>:` prefix already names the current
key is skipped without decrypting, so a second run re-encrypts nothing and a run cut short picks up
where it stopped. Rows are read in primary-key order, in batches; each batch is written in its own
transaction, and each row with a compare-and-swap (`UPDATE … WHERE pk = … AND col = <the value read>`),
so a secret written meanwhile (a rotated exchange key, a new authenticator) is never overwritten
with the old one. A value no configured key decrypts is reported by table and primary key, left as
it is, and makes the command exit with status 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from security.crypto import DecryptionError, current_key_id, encrypted_columns, reencrypt_text, stored_key_id

SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Column:
    table: str
    pk: str
    column: str

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"

    def sql(self, template: str) -> str:
        quote = connection.ops.quote_name
        return template.format(table=quote(self.table), pk=quote(self.pk), col=quote(self.column))


@dataclass
class Tally:
    total: int = 0
    reencrypted: int = 0
    current: int = 0
    changed_meanwhile: int = 0
    undecryptable: list[object] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.reencrypted += other.reencrypted
        self.current += other.current
        self.changed_meanwhile += other.changed_meanwhile
        self.undecryptable += other.undecryptable


def secret_columns() -> list[Column]:
    """The ciphertext columns, each once (a proxy model shares its parent's table)."""
    seen: dict[tuple[str, str], Column] = {}
    for model, column in encrypted_columns():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        seen.setdefault((meta.db_table, column), Column(meta.db_table, meta.pk.column, column))
    return sorted(seen.values(), key=lambda c: c.label)


def rotate_rows(column: Column, rows: list[tuple[object, str]], *, dry_run: bool = False) -> Tally:
    """Re-encrypt one batch of (pk, stored value) rows as read; the write is a compare-and-swap."""
    tally = Tally()
    current = current_key_id()
    updates: list[tuple[str, object, str]] = []
    for pk, stored in rows:
        if stored_key_id(stored) == current:
            tally.current += 1
            continue
        try:
            updates.append((reencrypt_text(stored), pk, stored))
        except DecryptionError:
            tally.undecryptable.append(pk)
    if dry_run:
        tally.reencrypted = len(updates)
        return tally
    statement = column.sql("UPDATE {table} SET {col} = %s WHERE {pk} = %s AND {col} = %s")
    with transaction.atomic(), connection.cursor() as cursor:
        for new, pk, old in updates:
            cursor.execute(statement, [new, pk, old])
            if cursor.rowcount == 1:
                tally.reencrypted += 1
            else:
                tally.changed_meanwhile += 1  # written since we read it, under the current key
    return tally


def read_batch(column: Column, *, after: object, size: int) -> list[tuple[object, str]]:
    where = "{col} IS NOT NULL AND {col} <> ''"
    if after is not None:
        where += " AND {pk} > %s"
    query = column.sql(f"SELECT {{pk}}, {{col}} FROM {{table}} WHERE {where} ORDER BY {{pk}} LIMIT %s")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, [after, size] if after is not None else [size])
        return list(cursor.fetchall())


def count_values(column: Column) -> int:
    with connection.cursor() as cursor:
        cursor.execute(column.sql("SELECT COUNT(*) FROM {table} WHERE {col} IS NOT NULL AND {col} <> ''"))
        return cursor.fetchone()[0]


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS (idempotent, resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be re-encrypted; write nothing.")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args, dry_run: bool = False, batch_size: int = 500, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        prefix = "[dry run] " if dry_run else ""
        current = current_key_id()
        if len(settings.FIELD_ENCRYPTION_KEYS) == 1:
            self.stdout.write(
                f"{prefix}Only one key is configured ({current}): nothing to rotate from. "
                "Values stored before versioning are still upgraded to the versioned format."
            )
        else:
            self.stdout.write(
                f"{prefix}Re-encrypting under key {current} "
                f"({len(settings.FIELD_ENCRYPTION_KEYS) - 1} older key(s) configured)."
            )
        overall, problems = Tally(), []
        columns = secret_columns()
        for column in columns:
            tally = self._rotate_column(column, batch_size=batch_size, dry_run=dry_run, prefix=prefix)
            overall.total += tally.total
            overall.add(tally)
            problems += [(column.table, pk) for pk in tally.undecryptable]
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{prefix}Done: {overall.reencrypted} of {overall.total} value(s) {verb} in {len(columns)} column(s), "
            f"{overall.current} already under key {current}."
        )
        if overall.changed_meanwhile:
            self.stdout.write(
                f"{overall.changed_meanwhile} value(s) changed while this ran and were left to their new writer; "
                "run the command again to make sure they are under the current key."
            )
        if problems:
            for table, pk in problems[:SHOWN_PROBLEMS]:
                self.stderr.write(f"  not decryptable: {table} pk {pk}")
            if len(problems) > SHOWN_PROBLEMS:
                self.stderr.write(f"  … and {len(problems) - SHOWN_PROBLEMS} more")
            raise CommandError(
                f"{len(problems)} stored value(s) could not be decrypted with any configured key and were left as "
                "they are. Put the key they were written with back into FIELD_ENCRYPTION_KEYS and run this again."
            )
        if not dry_run:
            self.stdout.write(self.style.SUCCESS("Every stored secret is under the current key."))

    def _rotate_column(self, column: Column, *, batch_size: int, dry_run: bool, prefix: str) -> Tally:
        tally = Tally(total=count_values(column))
        after: object = None
        seen = 0
        while rows := read_batch(column, after=after, size=batch_size):
            tally.add(rotate_rows(column, rows, dry_run=dry_run))
            seen += len(rows)
            after = rows[-1][0]
            if tally.total > batch_size:
                self.stdout.write(f"{prefix}{column.label}: {seen}/{tally.total} checked")
        verb = "to re-encrypt" if dry_run else "re-encrypted"
        line = f"{prefix}{column.label}: {tally.reencrypted}/{tally.total} {verb}, {tally.current} already current"
        if tally.changed_meanwhile:
            line += f", {tally.changed_meanwhile} changed meanwhile"
        if tally.undecryptable:
            line += f", {len(tally.undecryptable)} not decryptable"
        self.stdout.write(line if not tally.undecryptable else self.style.ERROR(line))
        return tally
