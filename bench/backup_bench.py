"""Backup and verify of a PostgreSQL database of a given size, beside plain `pg_dump -Fc`.

    .venv/bin/python bench/backup_bench.py --sizes 50 200      # the figures in BENCHMARKS.md
    .venv/bin/python bench/backup_bench.py --sizes 20 --out backups-smoke

For each size it fills the database `cv_backups_bench` (migrated; the audit log grown with realistic
rows to the size), then times, each in a fresh process so peak memory is its own:

- `pg_dump -Fc` to a file (the limit: what any backup of this database must at least do);
- `manage.py backup`'s create (pg_dump --compress=0 -> zstd -> AES-GCM -> SHA-256 -> storage);
- verify (download, SHA-256, decrypt, decompress, pg_restore --list, restore into a scratch database,
  row counts compared).

MB/s is the database's size (pg_database_size) over wall time. Peak memory is the maximum resident set
of the Python process (ru_maxrss) and, separately, of the tools it ran (pg_dump, pg_restore).
Results go to bench/results/<out>.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BASE = BENCH.parent
DB = "cv_backups_bench"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
ROW_BYTES = 640  # about what one generated audit row takes on disk, with its indexes


def psql(sql: str, dbname: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(dbname=dbname, autocommit=True, **PG) as connection:
        connection.execute(sql)


def database_bytes() -> int:
    import psycopg

    with psycopg.connect(dbname=DB, **PG) as connection:
        return connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def child_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_", "DATABASE_"))}
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
        DJANGO_SETTINGS_MODULE="bench.settings_backups",
        BENCH_BACKUP_ROOT=str(root / "store"),
        BENCH_BACKUP_WORK_DIR=str(root / "work"),
        BENCH_BACKUP_KEY=env.get("BENCH_BACKUP_KEY") or base64.urlsafe_b64encode(os.urandom(32)).decode(),
        ENV_FILE="",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(BASE),
    )
    return env


def prepare(size_mb: int, env: dict[str, str]) -> int:
    """A migrated database whose audit log makes it about `size_mb` megabytes."""
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=BASE, env=env, check=True)
    rows = int(size_mb * 1024 * 1024 // ROW_BYTES)
    fill = (
        "INSERT INTO security_auditevent (created_at, actor_email, action, outcome, via, ip, user_agent, "
        "request_id, details) SELECT now() - (n || ' seconds')::interval, 'trader' || (n % 5000) || '@example.com', "
        "(ARRAY['auth.signed_in','order.placed','alert.fired','api_key.created'])[1 + n % 4], 'success', 'api', "
        "('10.' || (n % 250) || '.' || (n % 199) || '.' || (n % 97))::inet, "
        "'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/' || (100 + n % 30) || '.0', md5(n::text), "
        "jsonb_build_object('order_id', n, 'symbol', 'BTC/USDT', 'qty', (n % 1000) / 7.0, 'note', md5((n * 7)::text)) "
        "FROM generate_series(1, ROWS) AS n"
    )
    psql(fill.replace("ROWS", str(rows)), dbname=DB)
    psql("VACUUM ANALYZE", dbname=DB)
    return database_bytes()


def timed(command: list[str], env: dict[str, str]) -> dict:
    """Wall time and peak memory of one process (and of what it ran, reported by it). For the backup
    runs, `seconds` is the service call alone (`work_seconds`), without Python's and Django's start-up."""
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=BASE, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{command[:3]} failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1]) if command[1].endswith("backup_bench.py") else {}
    result = {"seconds": seconds, "process_seconds": seconds, **report}
    if "work_seconds" in report:
        result["seconds"] = report["work_seconds"]
    return result


def run_pg_dump(env: dict[str, str], root: Path, *extra: str) -> dict:
    target = root / "plain.dump"
    command = [sys.executable, str(BENCH / "backup_bench.py"), "_pg_dump", str(target), *extra]
    result = timed(command, env)
    result["stored_bytes"] = target.stat().st_size
    target.unlink()
    return result


def inner_pg_dump(target: str, *extra: str) -> None:
    subprocess.run(["pg_dump", "-Fc", *extra, "-h", "127.0.0.1", "-U", "postgres", "-f", target, DB], check=True)
    print(json.dumps({"tool_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def inner(action: str) -> None:
    import django

    django.setup()
    from backups.models import Backup
    from backups.services import backup_create, backup_verify
    from cryptovault.actor import Actor

    actor = Actor.for_command("backup-bench")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    if action == "_create":
        backup = backup_create(actor=actor)
        extra = {"stored_bytes": backup.size, "dump_bytes": backup.dump_size, "backup_id": backup.pk}
    else:
        backup = backup_verify(actor=actor, backup=Backup.objects.order_by("-pk").first())
        extra = {"status": backup.status}
    print(
        json.dumps(
            {
                "work_seconds": time.perf_counter() - started,
                "python_baseline_mb": baseline,
                "python_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "tool_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                **extra,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200], help="database sizes in MB")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; the best is kept")
    parser.add_argument("--out", default="backups")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cv-backup-bench-") as tmp:
        root = Path(tmp)
        env = child_env(root)
        for size in args.sizes:
            db_bytes = prepare(size, env)
            me = [sys.executable, str(BENCH / "backup_bench.py")]
            best = {
                "pg_dump -Fc": min((run_pg_dump(env, root) for _ in range(args.repeat)), key=lambda r: r["seconds"]),
                # The raw export alone, no compression: our pipeline's first stage, the floor for any backup.
                "pg_dump -Fc -Z0": min(
                    (run_pg_dump(env, root, "-Z0") for _ in range(args.repeat)), key=lambda r: r["seconds"]
                ),
                "backup create": min(
                    (timed([*me, "_create"], env) for _ in range(args.repeat)), key=lambda r: r["seconds"]
                ),
                "backup verify": min(
                    (timed([*me, "_verify"], env) for _ in range(args.repeat)), key=lambda r: r["seconds"]
                ),
            }
            for name, result in best.items():
                rows.append(
                    {
                        "size_mb": size,
                        "database_mb": round(db_bytes / 2**20, 1),
                        "what": name,
                        "seconds": round(result["seconds"], 2),
                        "process_seconds": round(result["process_seconds"], 2),
                        "mb_per_s": round(db_bytes / 2**20 / result["seconds"], 1),
                        "python_peak_mb": round(result.get("python_peak_mb", 0), 1),
                        "python_baseline_mb": round(result.get("python_baseline_mb", 0), 1),
                        "tool_peak_mb": round(result.get("tool_peak_mb", 0), 1),
                        "dump_mb": round(result["dump_bytes"] / 2**20, 1) if result.get("dump_bytes") else None,
                        "stored_mb": round(result.get("stored_bytes", 0) / 2**20, 1)
                        if result.get("stored_bytes")
                        else None,
                    }
                )
        psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    out = BENCH / "results" / f"{args.out}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": rows}, indent=2))
    print(
        f"{'size':>5} {'db MB':>7}  {'what':<15} {'s':>7} {'MB/s':>7} {'py base':>7} {'py peak':>7} {'tool MB':>8} "
        f"{'stored MB':>9}"
    )
    for row in rows:
        print(
            f"{row['size_mb']:>5} {row['database_mb']:>7}  {row['what']:<15} {row['seconds']:>7} {row['mb_per_s']:>7} "
            f"{row['python_baseline_mb']:>7} {row['python_peak_mb']:>7} {row['tool_peak_mb']:>8} "
            f"{row['stored_mb'] or '-':>9}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_pg_dump":
        inner_pg_dump(sys.argv[2], *sys.argv[3:])
    elif len(sys.argv) > 1 and sys.argv[1] in ("_create", "_verify"):
        inner(sys.argv[1])
    else:
        main()
