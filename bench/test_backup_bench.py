"""`pytest bench -k backup`: a short run of bench/backup_bench.py (a 20 MB database, one run each).

Checks the benchmark still works end to end (pg_dump, create, verify) and that the pipeline's memory
stays small (the Python process's peak over its start-up size); speed is reported, not asserted, as in
the other benchmarks: it depends on the machine's load. BENCH_FULL=1 runs the 50 and 200 MB figures.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent
FULL = os.environ.get("BENCH_FULL") == "1"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(not _listening(5432), reason="PostgreSQL is not listening on 127.0.0.1:5432")
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed (postgresql-client)")
@pytest.mark.timeout(1500 if FULL else 300)
def test_backup_and_verify_keep_pace_with_pg_dump_in_flat_memory():
    out = "backups" if FULL else "backups-smoke"
    args = ["--sizes", "50", "200"] if FULL else ["--sizes", "20", "--repeat", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, str(BENCH / "backup_bench.py"), *args, "--out", out],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=1450 if FULL else 280,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = json.loads((BENCH / "results" / f"{out}.json").read_text())["rows"]
    assert {row["what"] for row in rows} == {"pg_dump -Fc", "pg_dump -Fc -Z0", "backup create", "backup verify"}
    for row in rows:
        assert row["mb_per_s"] > 0
        if row["what"].startswith("backup"):
            # The pipeline holds a few chunks, never the database: well under 64 MB above start-up.
            assert row["python_peak_mb"] - row["python_baseline_mb"] < 64, row
    print(proc.stdout)
