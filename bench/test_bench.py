"""`make bench` (pytest bench): short, bounded smoke runs of every benchmark.

Each test starts real servers as subprocesses on 127.0.0.1 for a few seconds and checks
the benchmark still works and the headline property still holds (no websocket lost after
an idle period longer than the 5 s BZPOPMIN window). Full-length runs, whose figures go in
BENCHMARKS.md, happen with BENCH_FULL=1 (several minutes) or by calling the scripts.
Skipped when PostgreSQL, Redis or wrk is not available.
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


pytestmark = [
    pytest.mark.skipif(not _listening(5432), reason="PostgreSQL is not listening on 127.0.0.1:5432"),
    pytest.mark.skipif(not _listening(6379), reason="Redis is not listening on 127.0.0.1:6379"),
]


def _run(script: str, *args: str, timeout: int) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
@pytest.mark.timeout(900 if FULL else 120)
def test_http_gunicorn_vs_uvicorn():
    smoke = ["--duration", "2", "--repeat", "1", "--endpoints", "/health", "/bench/db", "--out", "servers-smoke"]
    args = [] if FULL else smoke
    out = _run("http_bench.py", "servers", *args, timeout=840 if FULL else 110)
    rows = json.loads((BENCH / "results" / ("servers.json" if FULL else "servers-smoke.json")).read_text())["rows"]
    assert {row["server"] for row in rows} == {"gunicorn", "uvicorn"}, out
    for row in rows:
        assert row["rps"] > 0 and row["non2xx"] == 0 and row["socket_errors"] == 0, row


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
@pytest.mark.timeout(600 if FULL else 120)
def test_db_pool_vs_no_pool():
    args = ["--persistent"] if FULL else ["--duration", "2", "--repeat", "1", "--out", "pool-smoke"]
    out = _run("http_bench.py", "pool", *args, timeout=540 if FULL else 110)
    rows = json.loads((BENCH / "results" / ("pool.json" if FULL else "pool-smoke.json")).read_text())["rows"]
    assert len(rows) >= 2, out
    for row in rows:
        assert row["rps"] > 0 and row["non2xx"] == 0 and row["socket_errors"] == 0, row


@pytest.mark.timeout(300 if FULL else 120)
def test_websocket_fanout_survives_idle():
    # Idle 6 s > the 5 s BZPOPMIN window of channels-redis: the pre-fix config loses clients here.
    args = ["--label", "configured"] if FULL else ["--clients", "50", "--idle", "6", "--label", "smoke"]
    out = _run("ws_bench.py", *args, timeout=280 if FULL else 110)
    result = json.loads((BENCH / "results" / f"ws-{args[-1]}.json").read_text())
    assert result["clients"] == (300 if FULL else 50), out
    assert result["connect"]["failed"] == 0, result
    assert result["dropped_while_open"] == 0, result
    assert result["rounds"][0]["lost"] == 0, result


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
@pytest.mark.timeout(600 if FULL else 180)
def test_api_authentication_session_jwt_api_key():
    args = [] if FULL else ["--duration", "2", "--repeat", "1", "--in-process-requests", "20", "--out", "auth-smoke"]
    out = _run("auth_bench.py", *args, timeout=540 if FULL else 170)
    rows = json.loads((BENCH / "results" / ("auth.json" if FULL else "auth-smoke.json")).read_text())["rows"]
    by_case = {row["case"]: row for row in rows}
    assert set(by_case) == {
        "anonymous",
        "session",
        "session, 32 sessions",
        "jwt",
        "api key",
        "api key, write every request",
    }, out
    for row in rows:
        assert row["rps"] > 0 and row["errors_all"] == [0] * len(row["errors_all"]), row
    # The query counts that explain the figures: no DB for the anonymous root, one lookup for
    # a JWT or an API key, and the once-a-minute rule keeping the key's UPDATE off the path.
    assert by_case["anonymous"]["sql_queries"] == 0, by_case["anonymous"]
    assert by_case["jwt"]["sql_queries"] == 1 and by_case["api key"]["sql_queries"] == 1, out
    assert by_case["api key, write every request"]["sql_queries"] == 2, out
    assert by_case["session"]["sql_queries"] > by_case["jwt"]["sql_queries"], out
    assert by_case["session, 32 sessions"]["sql"] == by_case["session"]["sql"], out


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
@pytest.mark.timeout(900 if FULL else 150)
def test_api_request_fixed_cost():
    # The smoke run measures this checkout only ("after" issue 8); the full run needs the before
    # worktree (bench/README.md, benchmark 5).
    smoke = ["--only", "after", "--duration", "2", "--repeat", "1", "--in-process-requests", "20"]
    smoke += ["--in-process-rounds", "1", "--redis-requests", "20", "--out", "api-cost-smoke"]
    args = ["--only", "after", "--out", "api-cost-after"] if FULL else smoke
    out = _run("api_cost_bench.py", *args, timeout=840 if FULL else 140)
    rows = json.loads((BENCH / "results" / f"{args[-1]}.json").read_text())["rows"]
    by_case = {row["case"]: row for row in rows}
    assert set(by_case) == {"health", "bare drf", "anonymous", "jwt", "api key", "session"}, out
    for row in rows:
        assert row["rps"] > 0 and row["errors_all"] == [0] * len(row["errors_all"]), row
    # The headline of issue 8: every limit of an API request in one Redis round trip, counted by
    # the Redis server itself (a little slack for another client of the same server).
    for case in ("anonymous", "jwt", "api key", "session"):
        assert 0.9 <= by_case[case]["redis_round_trips_per_request"] <= 1.3, by_case[case]
    for case in ("health", "bare drf"):
        assert by_case[case]["redis_round_trips_per_request"] < 0.3, by_case[case]
        assert by_case[case]["sql_queries"] == 0, by_case[case]
    assert by_case["anonymous"]["sql_queries"] == 0, out
    assert by_case["jwt"]["sql_queries"] == 1 and by_case["api key"]["sql_queries"] == 1, out
