"""What the round-trip tests compare: every table's rows, as one checksum per table."""

from __future__ import annotations

import hashlib

from django.db import connection

# Rows a live restore writes on purpose after the data comes back: the backup records (kept across a
# restore) and the audit trail (the restore's own records).
WRITTEN_BY_THE_RESTORE = {"backups_backup", "security_auditevent"}


def table_checksums() -> dict[str, str]:
    """SHA-256 of each table's rows in a stable order (every column, sorted), read through Django."""
    sums = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table in WRITTEN_BY_THE_RESTORE:
                continue
            columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)} ORDER BY {quoted}")  # noqa: S608
            digest = hashlib.sha256()
            rows = 0
            for row in cursor.fetchall():
                digest.update(repr(tuple(str(value) for value in row)).encode())
                rows += 1
            sums[table] = f"{rows}:{digest.hexdigest()}"
    return sums


def wipe_every_table() -> None:
    """Delete every row of every table: the disaster the restore must undo."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
            cursor.execute("PRAGMA foreign_keys = ON")
