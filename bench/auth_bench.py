"""API authentication cost: session cookie vs JWT vs API key on GET /api/v1/me/ (benchmark 4).

    .venv/bin/python bench/auth_bench.py                 # 3 x 10 s per case, the figures in BENCHMARKS.md
    .venv/bin/python bench/auth_bench.py --duration 2 --repeat 1 --in-process-requests 20 --out auth-smoke

Steps:

1. A setup subprocess (DJANGO_SETTINGS_MODULE=bench.settings_bench, JWT_ACCESS_MINUTES=600)
   creates a fresh user in the bench database, signed-in sessions for it
   (django.contrib.auth.login on a RequestFactory request with a SessionStore), a JWT access
   token (simplejwt `RefreshToken.for_user(user).access_token`) and two `read` API keys
   (`api_key_create`). With the test Client, per case, it counts the SQL of one steady-state
   request (CaptureQueriesContext, after a warm-up request) and times requests one at a
   time in-process, the cases in turn (no concurrency, so no lock waits; the median per
   case); it prints all of it as JSON.
2. Two gunicorn servers, the configuration of benchmark 1 (2 workers x 4 gthreads, DEBUG off):
   bench.settings_bench, and bench.settings_apikey_every_request (the same, with the API
   key's once-a-minute "last used" rule switched off, so every request writes it).
3. Every case must answer 200 with the user's email (the anonymous baseline: 200), and the
   API key's last_used_at must stay put on the normal server and move on the other.
4. wrk -t2 -c32 -d10s --timeout 10s --latency per case, the credentials sent with -H (for
   "session, 32 sessions" a Lua script rotates the cookie), --repeat runs interleaved across
   cases; the median run per case goes to bench/results/<out>.json.

The throttles stay on (one Redis get + set per request, as in production) with a
rate that never answers 429 and a one-second window: DRF keeps every request of the window
in the cache entry, so a per-minute window at this rate would grow that entry to thousands
of timestamps and make each request slower the longer the benchmark runs (BENCHMARKS.md,
"Surprises").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, DB_NAME, PYTHON, bench_env, ensure_database, parse_wrk_output, server

RESULTS = BASE_DIR / "bench" / "results"
SETTINGS = "bench.settings_bench"
SETTINGS_EVERY_REQUEST = "bench.settings_apikey_every_request"
SETUP_MARKER = "AUTH_BENCH_SETUP "
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")
SESSIONS = 32  # "session, 32 sessions": one per wrk connection

# Never 429, and a one-second window keeps DRF's per-key history about as small as in
# production (where the 600/min limit caps it at 600 entries). See the module docstring.
THROTTLE_RATE = "100000000/s"

# case -> (which server, path, description)
CASES = {
    "anonymous": ("main", "/api/v1/", "no credentials: the API root (anonymous throttle), no DB"),
    "session": ("main", "/api/v1/me/", "Cookie: sessionid=... (VerifiedSessionAuthentication), one session"),
    "session, 32 sessions": (
        "main",
        "/api/v1/me/",
        f"{SESSIONS} sessions of the user, the cookie rotated per request by a wrk Lua script",
    ),
    "jwt": ("main", "/api/v1/me/", "Authorization: Bearer <access token> (simplejwt)"),
    "api key": ("main", "/api/v1/me/", "Authorization: Api-Key cvk_... ('last used' at most once a minute)"),
    "api key, write every request": (
        "every",
        "/api/v1/me/",
        "the same, with 'last used' written on every request (bench.settings_apikey_every_request)",
    ),
}

# wrk: rotate the Cookie header over the values given after "--", each thread from its own offset.
ROTATE_COOKIES_LUA = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  cookies = args
  n = (id * 16) % #cookies
end
function request()
  n = n % #cookies + 1
  return wrk.format(nil, nil, {["Cookie"] = cookies[n]})
end
"""


def server_env(settings_module: str, throttle_rate: str = THROTTLE_RATE) -> dict[str, str]:
    return bench_env(
        settings_module,
        JWT_ACCESS_MINUTES="600",  # the token outlives the benchmark
        API_THROTTLE_USER=throttle_rate,
        API_THROTTLE_ANON=throttle_rate,
    )


# --- 1. setup (runs in a subprocess with the bench settings) --------------------------------


def _summarise(sql: str) -> str:
    """`SELECT accounts_apikey+accounts_user`: the statement's verb and tables, no values."""
    verb = sql.split(None, 1)[0].upper()
    tables = []
    for table in re.findall(r'(?:FROM|JOIN|UPDATE|INTO)\s+"([^"]+)"', sql):
        if table not in tables:
            tables.append(table)
    return f"{verb} {'+'.join(tables)}".strip()


def _usable_api_key(user, name: str):
    """A read-scoped key: (row, key, 0). The last item is kept for the results' shape."""
    from accounts.services import api_keys
    from cryptovault.actor import Actor

    key, raw_key = api_keys.api_key_create(actor=Actor.for_command("bench"), user=user, name=name, scopes=["read"])
    return key, raw_key, 0


def _signed_in_session(user) -> str:
    """A session as a sign-in leaves it: django.contrib.auth.login on a RequestFactory request."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import login
    from django.test import RequestFactory

    from accounts.middleware import SIGNED_IN_AT_SESSION_KEY

    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    # The backend a real sign-in records (allauth's); ModelBackend is not in AUTHENTICATION_BACKENDS.
    login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
    request.session[SIGNED_IN_AT_SESSION_KEY] = int(time.time())
    request.session.save()
    return f"{settings.SESSION_COOKIE_NAME}={request.session.session_key}"


def setup_credentials(timed_requests: int) -> dict:
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.services import api_keys

    email = f"auth-bench-{uuid.uuid4().hex[:12]}@bench.local"
    user = get_user_model().objects.create_user(email=email)
    cookies = [_signed_in_session(user) for _ in range(SESSIONS)]
    access = str(RefreshToken.for_user(user).access_token)
    _, api_key, discarded = _usable_api_key(user, "auth bench")
    every_key, api_key_every, discarded_every = _usable_api_key(user, "auth bench, every request")

    headers = {
        "anonymous": {},
        "session": {"HTTP_COOKIE": cookies[0]},
        "session, 32 sessions": {"HTTP_COOKIE": cookies[1]},  # the same work as "session", another row
        "jwt": {"HTTP_AUTHORIZATION": f"Bearer {access}"},
        "api key": {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"},
        "api key, write every request": {"HTTP_AUTHORIZATION": f"Api-Key {api_key_every}"},
    }
    resolution = api_keys.LAST_USED_RESOLUTION

    def get(case: str):
        """One request of `case` (a fresh client: no cookie unless the case sends one)."""
        if case == "api key, write every request":
            api_keys.LAST_USED_RESOLUTION = timedelta(0)  # what the settings module does in the server
        try:
            return Client(HTTP_HOST="127.0.0.1").get(CASES[case][1], **headers[case])
        finally:
            api_keys.LAST_USED_RESOLUTION = resolution

    queries: dict[str, list[str]] = {}
    for case in headers:
        get(case)  # warm-up: first use of the key, the user-session row
        with CaptureQueriesContext(connection) as captured:
            response = get(case)
        # Now: the next request's request_started signal empties the connection's query log.
        queries[case] = [_summarise(query["sql"]) for query in captured.captured_queries]
        if response.status_code != 200 or (case != "anonymous" and response.json().get("email") != email):
            raise RuntimeError(f"{case}: {response.status_code} {response.content[:300]!r}")

    # One request of each case in turn, so that other load on the box hits every case alike;
    # the median per case ignores the requests it interrupted.
    times: dict[str, list[float]] = {case: [] for case in headers}
    for _ in range(timed_requests):
        for case in headers:
            started = time.perf_counter()
            get(case)
            times[case].append((time.perf_counter() - started) * 1000)
    latency = {case: round(statistics.median(values), 2) for case, values in times.items()}

    return {
        "email": email,
        "user_id": user.pk,
        "session_cookies": cookies,
        "jwt": access,
        "api_key": api_key,
        "api_key_prefix": api_key.split("_")[1],
        "api_key_every_request": api_key_every,
        "api_key_every_request_prefix": every_key.prefix,
        "api_keys_discarded": discarded + discarded_every,
        "queries": queries,
        "in_process_ms": latency,
    }


def run_setup(timed_requests: int) -> dict:
    proc = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "--setup", "--in-process-requests", str(timed_requests)],
        cwd=BASE_DIR,
        env=server_env(SETTINGS),
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(SETUP_MARKER)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"setup failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len(SETUP_MARKER) :])


# --- 2-4. servers, checks, wrk ------------------------------------------------------------


def _headers(case: str, creds: dict) -> list[str]:
    """wrk -H headers of a case ("session, 32 sessions" sends its cookies from Lua instead)."""
    return {
        "anonymous": [],
        "session": [f"Cookie: {creds['session_cookies'][0]}"],
        "session, 32 sessions": [],
        "jwt": [f"Authorization: Bearer {creds['jwt']}"],
        "api key": [f"Authorization: Api-Key {creds['api_key']}"],
        "api key, write every request": [f"Authorization: Api-Key {creds['api_key_every_request']}"],
    }[case]


def _script_args(case: str, creds: dict) -> list[str]:
    return creds["session_cookies"] if case == "session, 32 sessions" else []


def _get(url: str, headers: list[str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))  # noqa: S310 - 127.0.0.1
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
        return response.status, json.loads(response.read())


def _last_used(prefix: str) -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB_NAME, "-tAc",
         f"SELECT last_used_at FROM accounts_apikey WHERE prefix = '{prefix}'"],  # noqa: S608 - hex from our setup
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip()  # fmt: skip


def check(targets: dict[str, str], creds: dict) -> None:
    """Every case answers 200 (with the user's email); the 'last used' rule holds on each server."""
    for case, (which, path, _) in CASES.items():
        cookies = _script_args(case, creds)
        for headers in [[f"Cookie: {cookie}"] for cookie in cookies] or [_headers(case, creds)]:
            status, body = _get(targets[which] + path, headers)
            if status != 200 or (case != "anonymous" and body.get("email") != creds["email"]):
                raise RuntimeError(f"{case}: {status} {body}")
    for case, prefix, moves in (
        ("api key", creds["api_key_prefix"], False),
        ("api key, write every request", creds["api_key_every_request_prefix"], True),
    ):
        which, path, _ = CASES[case]
        before = _last_used(prefix)
        time.sleep(0.01)
        _get(targets[which] + path, _headers(case, creds))
        after = _last_used(prefix)
        if (after != before) != moves:
            expected = "move" if moves else "stay put"
            raise RuntimeError(f"{case}: last_used_at {before!r} -> {after!r}, expected it to {expected}")


def wrk(url: str, headers: list[str], args, duration: int, script_args: list[str] | None = None) -> dict:
    """bench.common.wrk with -H headers (or the cookie-rotating Lua script): req/s, p50/p99, errors."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only target 127.0.0.1")
    # --timeout 10s (wrk's default is 2 s): a slow answer is a latency, not a dropped connection.
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--timeout", "10s", "--latency"]
    for header in headers:
        command += ["-H", header]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if script_args:
            script.write(ROTATE_COOKIES_LUA)
            script.flush()
            command += ["-s", script.name, url, "--", *script_args]
        else:
            command.append(url)
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    return parse_wrk_output(out)


def _fmt(case: str, result: dict) -> str:
    return (
        f"| {case} | `{CASES[case][1]}` | {result['rps']:.0f} | {result['p50_ms']:.1f} | {result['p99_ms']:.1f} "
        f"| {result['non2xx'] + result['socket_errors']} | {result['load1_before']} |"
    )


HEADER = "| case | endpoint | req/s | p50 ms | p99 ms | errors | load1 before |\n|---|---|---|---|---|---|---|"


def run(args, creds: dict) -> list[dict]:
    cases = [case for case in CASES if case in args.cases]
    runs: dict[str, list[dict]] = {case: [] for case in cases}
    with contextlib.ExitStack() as stack:
        targets = {
            "main": stack.enter_context(
                server("gunicorn", server_env(SETTINGS, args.throttle_rate), log_path=RESULTS / "gunicorn-auth.log")
            ),
            "every": stack.enter_context(
                server(
                    "gunicorn",
                    server_env(SETTINGS_EVERY_REQUEST, args.throttle_rate),
                    log_path=RESULTS / "gunicorn-auth-every-request.log",
                )
            ),
        }
        check(targets, creds)

        def load(case: str, duration: int) -> dict:
            which, path, _ = CASES[case]
            return wrk(targets[which] + path, _headers(case, creds), args, duration, _script_args(case, creds))

        for case in cases:  # warm-up: imports, pools, every worker thread, the user-session rows
            load(case, 1)
        for _ in range(args.repeat):
            for case in cases:
                load1 = round(os.getloadavg()[0], 2)
                result = load(case, args.duration)
                result["load1_before"] = load1
                runs[case].append(result)
                print(_fmt(case, result), flush=True)

    medians = {case: sorted(results, key=lambda r: r["rps"])[len(results) // 2] for case, results in runs.items()}
    rows = []
    for case, results in runs.items():
        statements = creds["queries"][case]
        row = {"case": case, "endpoint": CASES[case][1], "what": CASES[case][2], **medians[case]}
        row["rps_all"] = [r["rps"] for r in results]
        row["p99_all"] = [r["p99_ms"] for r in results]
        row["load1_all"] = [r["load1_before"] for r in results]
        row["errors_all"] = [r["non2xx"] + r["socket_errors"] for r in results]
        row["sql_queries"] = sum(1 for sql in statements if sql not in TRANSACTION_CONTROL)
        row["sql_transactions"] = statements.count("BEGIN")
        row["sql"] = statements
        row["in_process_ms"] = creds["in_process_ms"][case]
        if "anonymous" in medians:
            # The whole box's time per request at saturation, minus the anonymous request's.
            row["ms_per_request_vs_anonymous"] = round(1000 / row["rps"] - 1000 / medians["anonymous"]["rps"], 2)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (max 60)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case, interleaved; the median is kept")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES), metavar="CASE")
    parser.add_argument(
        "--throttle-rate", default=THROTTLE_RATE, help="API_THROTTLE_USER and _ANON of the servers (never 429)"
    )
    parser.add_argument(
        "--in-process-requests",
        type=int,
        default=300,
        help="in-process timing: requests per case, one at a time, cases in turn; the median is kept",
    )
    parser.add_argument("--out", default="auth", help="results file name (bench/results/<out>.json)")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)  # internal: step 1
    args = parser.parse_args(argv)
    args.in_process_requests = max(1, min(args.in_process_requests, 2000))
    if args.setup:
        print(SETUP_MARKER + json.dumps(setup_credentials(args.in_process_requests)), flush=True)
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    args.duration = max(1, min(args.duration, 60))
    args.repeat = max(1, min(args.repeat, 10))
    RESULTS.mkdir(exist_ok=True)
    ensure_database()
    creds = run_setup(args.in_process_requests)
    print("SQL of one steady-state request; in-process median ms per request, one at a time (test Client):")
    for case, statements in creds["queries"].items():
        count = sum(1 for sql in statements if sql not in TRANSACTION_CONTROL)
        print(f"  {case}: {count} queries, {creds['in_process_ms'][case]} ms: {', '.join(statements) or '-'}")
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "nproc": os.cpu_count(),
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s --timeout 10s --latency",
        "repeat": args.repeat,
        "server": "gunicorn 2 workers x 4 threads (gthread), DEBUG off",
        "throttle_rate": args.throttle_rate,
        "api_keys_discarded": creds["api_keys_discarded"],
    }
    print(HEADER)
    rows = run(args, creds)
    (RESULTS / f"{args.out}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
