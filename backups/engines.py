"""The two databases CryptoVault runs on, each made into a byte stream and back with its own tools.

PostgreSQL: `pg_dump --format=custom --compress=0` (our zstd stage is faster than pg_dump's zlib and
compresses better), taken from an exported snapshot so that the row counts recorded beside the dump
describe exactly what it holds; `pg_restore` to check and restore. SQLite: the online backup API,
which copies a live database page by page while other connections keep writing.

Nothing here knows about records, storage or encryption: an engine turns a database into bytes, checks
a dump restores, and restores it.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from django.db import connections

from backups.conf import chunk_bytes, lock_wait_seconds, pg_bin, scratch_prefix, work_dir
from backups.errors import BackupCorrupt, DumpToolError, RestoreRefused
from backups.pipeline import file_chunks

DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")  # what check_scratch_name's message says
PIPE_BYTES = 1024 * 1024  # F_SETPIPE_SZ: a 1 MiB pipe lets pg_dump run ahead while we encrypt
F_SETPIPE_SZ = 1031


class Engine(Protocol):
    name: str

    def database_name(self) -> str: ...

    def dump(self) -> contextlib.AbstractContextManager[tuple[Iterator[bytes], dict[str, int]]]: ...

    def check_restores(self, dump: Path) -> dict[str, int]: ...

    def restore(self, dump: Path, *, scratch: str | None) -> str: ...


def engine_for(alias: str = "default") -> Engine:
    settings_dict = connections[alias].settings_dict
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        return PostgresEngine(settings_dict)
    if vendor == "sqlite":
        return SqliteEngine(settings_dict)
    raise DumpToolError(f"Backups support PostgreSQL and SQLite, not {vendor}.")


def check_scratch_name(name: str, *, live: str) -> str:
    name = (name or "").strip()
    if not DATABASE_NAME.match(name):
        raise RestoreRefused(
            "A scratch database name is 1-63 lowercase letters, digits and underscores, starting with a letter.",
            field="database",
        )
    if name == live:
        raise RestoreRefused(
            "That is the live database: restore into it with the live target and its confirmation.",
            field="database",
        )
    return name


def refuse_unless_scratch(name: str) -> None:
    """An existing database is replaced only if its name says it is a scratch one: anything else might
    be someone's."""
    if not name.startswith(scratch_prefix()):
        raise RestoreRefused(
            f"A database named {name} exists; drop it first or choose another name "
            f"(names starting {scratch_prefix()} are replaced).",
            field="database",
        )


# --- PostgreSQL ------------------------------------------------------------------------------------


class PostgresEngine:
    name = "postgresql"

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self.settings = settings_dict

    def database_name(self) -> str:
        return str(self.settings["NAME"])

    # the connection, for our own sessions and for the tools (password in the environment, never argv)
    def _params(self, dbname: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"dbname": dbname or self.database_name()}
        for ours, theirs in (("USER", "user"), ("PASSWORD", "password"), ("HOST", "host"), ("PORT", "port")):
            if self.settings.get(ours):
                params[theirs] = self.settings[ours]
        for name in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
            if self.settings.get("OPTIONS", {}).get(name):
                params[name] = self.settings["OPTIONS"][name]
        return params

    def _tool_env(self) -> dict[str, str]:
        env = {**os.environ}
        names = {"USER": "PGUSER", "PASSWORD": "PGPASSWORD", "HOST": "PGHOST", "PORT": "PGPORT"}
        for ours, theirs in names.items():
            if self.settings.get(ours):
                env[theirs] = str(self.settings[ours])
        sslmode = self.settings.get("OPTIONS", {}).get("sslmode")
        if sslmode:
            env["PGSSLMODE"] = sslmode
        return env

    def _connect(self, dbname: str | None = None, *, autocommit: bool = False):
        import psycopg

        return psycopg.connect(**self._params(dbname), autocommit=autocommit, connect_timeout=10)

    def _run(self, tool: str, *args: str, judging_dump: bool = False) -> subprocess.CompletedProcess:
        """Run a tool; with `judging_dump`, its refusal is the verdict on the dump (BackupCorrupt) unless
        what it said shows it could not run (no server, no permission, a pg_restore too old)."""
        try:
            result = subprocess.run(  # noqa: S603 - our tool, our arguments, no shell
                [pg_bin(tool), *args], env=self._tool_env(), capture_output=True, text=True, check=False
            )
        except FileNotFoundError:
            raise DumpToolError(
                f"{tool} was not found ({pg_bin(tool)}): install postgresql-client matching the server's version."
            ) from None
        if result.returncode != 0:
            if judging_dump and not could_not_run(result.stderr):
                raise BackupCorrupt(f"{tool} rejected the backup (exit {result.returncode}): {_tail(result.stderr)}")
            raise DumpToolError(f"{tool} failed (exit {result.returncode}): {_tail(result.stderr)}")
        return result

    @staticmethod
    def _counts(cursor) -> dict[str, int]:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY 1, 2"
        )
        counts: dict[str, int] = {}
        for schema, table in cursor.fetchall():
            from psycopg import sql

            cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
            counts[table if schema == "public" else f"{schema}.{table}"] = cursor.fetchone()[0]
        return counts

    @contextlib.contextmanager
    def dump(self) -> Iterator[tuple[Iterator[bytes], dict[str, int]]]:
        """The dump as chunks, and the row counts of the very snapshot it was taken from.

        pg_dump reads the snapshot this session exported; the session counts each table's rows in the
        same snapshot once the dump is through (the dict is filled then), so the counts describe
        exactly what the dump holds. A table locked by a migration fails the run after
        BACKUP_LOCK_WAIT_SECONDS rather than hanging the night away.
        """
        with self._connect() as snapshot_holder, snapshot_holder.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            cursor.execute(f"SET lock_timeout = {int(lock_wait_seconds() * 1000)}")
            counts: dict[str, int] = {}  # filled once the dump is complete, from the same snapshot
            with tempfile.TemporaryFile(dir=work_dir()) as stderr:
                command = [
                    pg_bin("pg_dump"),
                    "--format=custom",
                    "--compress=0",
                    f"--snapshot={snapshot}",
                    "--no-password",
                    f"--lock-wait-timeout={int(lock_wait_seconds() * 1000)}",
                    self.database_name(),
                ]
                try:
                    process = subprocess.Popen(  # noqa: S603 - our tool, our arguments, no shell
                        command, stdout=subprocess.PIPE, stderr=stderr, env=self._tool_env()
                    )
                except FileNotFoundError:
                    raise DumpToolError(
                        f"pg_dump was not found ({pg_bin('pg_dump')}): install postgresql-client matching "
                        "the server's version."
                    ) from None
                assert process.stdout is not None
                with contextlib.suppress(OSError):
                    import fcntl

                    fcntl.fcntl(process.stdout.fileno(), F_SETPIPE_SZ, PIPE_BYTES)

                def chunks() -> Iterator[bytes]:
                    yield from file_chunks(process.stdout, chunk_bytes())
                    if process.wait() != 0:
                        stderr.seek(0)
                        message = stderr.read().decode(errors="replace")
                        raise DumpToolError(f"pg_dump failed (exit {process.returncode}): {_tail(message)}")
                    counts.update(self._counts(cursor))

                try:
                    yield chunks(), counts
                finally:
                    if process.poll() is None:
                        process.kill()
                    process.wait()
                    process.stdout.close()

    def check_restores(self, dump: Path) -> dict[str, int]:
        """`pg_restore --list`, then a real restore into a scratch database; its row counts."""
        listing = self._run("pg_restore", "--list", str(dump), judging_dump=True).stdout
        if "TABLE DATA" not in listing and "TABLE" not in listing:
            raise BackupCorrupt("pg_restore lists no tables in this backup.")
        scratch = f"{scratch_prefix()}_verify_{uuid.uuid4().hex[:12]}"
        self._create(scratch)
        try:
            self._restore_into(dump, scratch, clean=False, judging_dump=True)
            with self._connect(scratch) as connection, connection.cursor() as cursor:
                return self._counts(cursor)
        finally:
            self.drop(scratch)

    def restore(self, dump: Path, *, scratch: str | None) -> str:
        if scratch is None:
            self._restore_into(dump, self.database_name(), clean=True)
            return self.database_name()
        name = check_scratch_name(scratch, live=self.database_name())
        if self._exists(name):
            refuse_unless_scratch(name)
            self.drop(name)
        self._create(name)
        self._restore_into(dump, name, clean=False)
        return name

    def _restore_into(self, dump: Path, dbname: str, *, clean: bool, judging_dump: bool = False) -> None:
        args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", f"--dbname={dbname}"]
        if clean:
            args[:0] = ["--clean", "--if-exists"]
        self._run("pg_restore", *args, str(dump), judging_dump=judging_dump)

    def _exists(self, name: str) -> bool:
        with self._connect(autocommit=True) as connection:
            return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None

    def _create(self, name: str) -> None:
        from psycopg import sql

        with self._connect(autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop(self, name: str) -> None:
        from psycopg import sql

        if name == self.database_name():
            raise RestoreRefused("Refusing to drop the live database.")
        with self._connect(autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- SQLite ----------------------------------------------------------------------------------------


class SqliteEngine:
    name = "sqlite"

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self.settings = settings_dict

    def database_name(self) -> str:
        return str(self.settings["NAME"])

    @staticmethod
    def _counts(connection: sqlite3.Connection) -> dict[str, int]:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        quoted = {table: '"' + table.replace('"', '""') + '"' for table in tables}
        return {
            table: connection.execute(f"SELECT count(*) FROM {quoted[table]}").fetchone()[0]  # noqa: S608 - quoted
            for table in tables
        }

    @staticmethod
    def _copy(source: str | Path, target: str | Path) -> None:
        """The online backup API: a consistent copy even while other connections write."""
        src = sqlite3.connect(str(source), timeout=30)
        dst = sqlite3.connect(str(target), timeout=30)
        try:
            with dst:
                src.backup(dst, pages=4096)
        finally:
            dst.close()
            src.close()

    @contextlib.contextmanager
    def dump(self) -> Iterator[tuple[Iterator[bytes], dict[str, int]]]:
        if not Path(self.database_name()).is_file():
            raise DumpToolError(f"The SQLite database {self.database_name()} does not exist.")
        fd, name = tempfile.mkstemp(prefix="dump-", suffix=".sqlite3", dir=work_dir())
        os.close(fd)
        copy = Path(name)
        try:
            self._copy(self.database_name(), copy)
            connection = sqlite3.connect(str(copy))
            try:
                connection.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                counts = self._counts(connection)
            finally:
                connection.close()
            with copy.open("rb") as handle:
                yield file_chunks(handle, chunk_bytes()), counts
        finally:
            copy.unlink(missing_ok=True)

    def check_restores(self, dump: Path) -> dict[str, int]:
        """Restore into a fresh file with the backup API, then `PRAGMA integrity_check` and row counts."""
        fd, name = tempfile.mkstemp(prefix="verify-", suffix=".sqlite3", dir=work_dir())
        os.close(fd)
        restored = Path(name)
        try:
            try:
                self._copy(dump, restored)
                connection = sqlite3.connect(str(restored))
                try:
                    result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
                    if result != ["ok"]:
                        raise BackupCorrupt(f"SQLite integrity_check failed: {'; '.join(result[:5])}")
                    return self._counts(connection)
                finally:
                    connection.close()
            except sqlite3.DatabaseError as error:
                if _sqlite_could_not_run(error):
                    raise  # the disk, the folder or a lock: classify() names it, the backup is not judged
                raise BackupCorrupt(f"The backup is not a readable SQLite database: {error}") from None
        finally:
            restored.unlink(missing_ok=True)

    def scratch_path(self, name: str) -> Path:
        return work_dir().parent / "scratch" / f"{name}.sqlite3"

    def restore(self, dump: Path, *, scratch: str | None) -> str:
        if scratch is None:
            self._copy(dump, self.database_name())
            return self.database_name()
        name = check_scratch_name(scratch, live=Path(self.database_name()).stem)
        target = self.scratch_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            refuse_unless_scratch(name)
            target.unlink()
        self._copy(dump, target)
        return str(target)


# SQLite errors about the machine (a full disk, a folder it cannot write, a lock), not about the file read.
SQLITE_COULD_NOT_RUN = ("SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_PERM")


def _sqlite_could_not_run(error: sqlite3.DatabaseError) -> bool:
    name = getattr(error, "sqlite_errorname", "") or ""
    return name.startswith(SQLITE_COULD_NOT_RUN)


# What pg_restore says when the fault is around it, not in the dump: the server, the role, the machine.
COULD_NOT_RUN = (
    "connection to server",
    "could not connect",
    "could not translate host name",
    "too many connections",
    "permission denied",
    "must be owner",
    "password authentication failed",
    "unsupported version",  # a pg_restore older than the pg_dump that made the dump
    "out of memory",
    "no space left on device",
    "could not open input file",
    "is not available",  # an extension the server does not have
    "the database system is",  # starting up, shutting down, in recovery
)


def could_not_run(stderr: str) -> bool:
    """Whether a pg_restore that failed says the fault was its surroundings (then the dump is not judged)."""
    text = stderr.lower()
    return any(words in text for words in COULD_NOT_RUN)


def _tail(text: str, lines: int = 5) -> str:
    """The end of a tool's stderr, where it says what went wrong; passwords never appear in it."""
    from cryptovault.logging import mask_secrets

    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return mask_secrets(" | ".join(kept))[:1000] or "no message"
