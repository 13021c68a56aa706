"""The fixed cost of one API request, before and after issue 8 (benchmark 5).

    .venv/bin/python bench/api_cost_bench.py     # before and after: the figures in BENCHMARKS.md
    .venv/bin/python bench/api_cost_bench.py --only after --duration 2 --repeat 1 \\
        --in-process-requests 20 --in-process-rounds 1 --redis-requests 20 --out api-cost-smoke

"Before" is another checkout of the project (default /tmp/headwt, a `git worktree` of the
commit before issue 8: two DRF throttles, a cache get + set each, and django-ratelimit, which
that commit needs on PYTHONPATH: --before-pythonpath). "After" is the checkout this file is in
(one `RateLimitThrottle`: every limit of a request in one Redis pipeline). This script copies
itself, bench/common.py and bench/urls_db.py into the before checkout's bench/ first, so both
run the same benchmark code; nothing is committed there.

Per checkout, against its own database (cryptovault_bench_api_<label>, created and migrated
with that checkout's migrations) and the machine's Redis on databases 10-13 (never 0-3, a
developer's app; nothing is flushed: every key the bench makes expires within about a minute):

1. A setup subprocess (bench settings, DEBUG off) creates a fresh user, a signed-in session, a
   JWT access token and a `read` API key. With the test Client, per case, it counts the SQL of
   one steady-state request (CaptureQueriesContext) and the Redis commands and round trips of
   --redis-requests requests, as the Redis server counts them (INFO stats
   total_commands_processed / total_reads_processed, and commandstats, before and after,
   minus an idle period as long), so nothing in the client is trusted. It also counts a
   sign-in POST (a `rate_limited` group) from new client IPs, then from the same ones again.
2. In-process timing: subprocesses that make --in-process-requests requests per case one at a
   time (test Client, no concurrency), the cases in turn, each API case also with
   APIView.throttle_classes emptied (the difference is the throttles' share of a request),
   and time the parts (the throttles alone, the JWT check and its user lookup, the API key
   lookup); before and after alternate for --in-process-rounds rounds; the median of all is
   kept.
3. Two gunicorns (benchmark 1's configuration: 2 workers x 4 gthreads, DEBUG off), one per
   checkout, both up at once. Every case must answer 200 (the /me/ cases with the user's
   email), then wrk -t2 -c32 -d10s --timeout 10s --latency per case, before and after in
   turn (the order alternating per repeat), with the Redis server's counters read around
   each run. The median run per case goes to bench/results/<out>.json.

The throttles stay on at API_THROTTLE_USER = API_THROTTLE_ANON = 100000000/s: never 429, and
before issue 8 DRF's throttle kept every request of the window in one cache entry, so a
per-minute window at this rate would grow that entry to thousands of timestamps (BENCHMARKS.md,
"Surprises"), while a one-second one keeps it near production's worst case (600/min per user).
After issue 8 the window's length does not change the cost (one integer per window).
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
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, PG, PYTHON, bench_env, parse_wrk_output, server

RESULTS = BASE_DIR / "bench" / "results"
SETTINGS = "bench.settings_bench"
MARKER = "API_COST_BENCH "
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")
SYNCED_FILES = ("api_cost_bench.py", "common.py", "urls_db.py")  # copied into the before checkout

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DBS = {"broker": 10, "cache": 11, "channels": 12, "results": 13}  # never a developer's 0-3
THROTTLE_RATE = "100000000/s"  # never 429; see the module docstring

# case -> (path, description)
CASES = {
    "health": ("/health", "plain Django view, no DRF, no DB, no Redis: the server's floor"),
    "bare drf": ("/bench/drf", "APIView with no authentication, permissions or throttles (bench/urls_db.py)"),
    "anonymous": ("/api/v1/", "the API root, anonymous: the authentication classes, the anon throttle"),
    "jwt": ("/api/v1/me/", "Authorization: Bearer <access token> (simplejwt)"),
    "api key": ("/api/v1/me/", "Authorization: Api-Key cvk_... ('last used' at most once a minute)"),
    "session": ("/api/v1/me/", "Cookie: sessionid=... (VerifiedSessionAuthentication)"),
}
ME_CASES = ("jwt", "api key", "session")
API_CASES = ("anonymous", *ME_CASES)  # the cases the throttles count
NO_THROTTLES = ", no throttles"  # in-process only: the same request with APIView.throttle_classes = ()


@dataclass(frozen=True)
class Checkout:
    label: str  # "before" or "after"
    path: Path
    pythonpath: tuple[str, ...] = ()  # extra entries after the checkout (the before's django-ratelimit)

    @property
    def db_name(self) -> str:
        return f"cryptovault_bench_api_{self.label}"


def redis_url(use: str) -> str:
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DBS[use]}"


def checkout_env(checkout: Checkout, throttle_rate: str = THROTTLE_RATE) -> dict[str, str]:
    """bench_env for `checkout`: its code first on PYTHONPATH, its database, Redis databases 10-13."""
    return bench_env(
        SETTINGS,
        PYTHONPATH=os.pathsep.join([str(checkout.path), *checkout.pythonpath]),
        DATABASE_URL=f"{PG}/{checkout.db_name}",
        REDIS_URL=redis_url("cache"),
        CELERY_BROKER_URL=redis_url("broker"),
        CACHE_REDIS_URL=redis_url("cache"),
        CHANNEL_LAYER_REDIS_URL=redis_url("channels"),
        CELERY_RESULT_BACKEND=redis_url("results"),
        JWT_ACCESS_MINUTES="600",  # the token outlives the benchmark
        API_THROTTLE_USER=throttle_rate,
        API_THROTTLE_ANON=throttle_rate,
    )


# --- Redis server counters -------------------------------------------------------------------


def redis_snapshot(client) -> dict:
    """The server's own counters: commands, reads (one per round trip, a pipeline included), calls per command."""
    info = client.info("stats", "commandstats")
    calls = {key[len("cmdstat_") :]: value["calls"] for key, value in info.items() if key.startswith("cmdstat_")}
    return {
        "commands": info["total_commands_processed"],
        "reads": info["total_reads_processed"],
        "connections": info["total_connections_received"],
        "calls": calls,
    }


def redis_delta(before: dict, after: dict) -> dict:
    """after - before, without the INFO command that took `before` (it counts once, in `after`)."""
    calls = {cmd: n - before["calls"].get(cmd, 0) for cmd, n in after["calls"].items()}
    calls["info"] = calls.get("info", 0) - 1
    return {
        "commands": after["commands"] - before["commands"] - 1,
        "reads": after["reads"] - before["reads"] - 1,
        "connections": after["connections"] - before["connections"],
        "calls": {cmd: n for cmd, n in sorted(calls.items()) if n},
    }


def count_on_redis(client, requests: int, make_request) -> dict:
    """The Redis server's counters over `requests` calls of make_request(n), minus an idle period as long."""
    start = redis_snapshot(client)
    started = time.monotonic()
    for n in range(requests):
        make_request(n)
    elapsed = time.monotonic() - started
    busy = redis_delta(start, redis_snapshot(client))
    idle_start = redis_snapshot(client)
    time.sleep(min(elapsed, 5.0))
    idle = redis_delta(idle_start, redis_snapshot(client))
    return {
        "requests": requests,
        "busy": busy,
        "idle": idle,
        "commands_per_request": round((busy["commands"] - idle["commands"]) / requests, 2),
        "round_trips_per_request": round((busy["reads"] - idle["reads"]) / requests, 2),
        "calls_per_request": {cmd: round(n / requests, 2) for cmd, n in busy["calls"].items()},
    }


def _redis_client():
    import redis

    return redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DBS["cache"], socket_timeout=5)


# --- 1. setup, in the checkout (subprocess) --------------------------------------------------


def _summarise(sql: str) -> str:
    """`SELECT accounts_apikey+accounts_user`: the statement's verb and tables, no values."""
    verb = sql.split(None, 1)[0].upper()
    tables = []
    for table in re.findall(r'(?:FROM|JOIN|UPDATE|INTO)\s+"([^"]+)"', sql):
        if table not in tables:
            tables.append(table)
    return f"{verb} {'+'.join(tables)}".strip()


def _api_key(user) -> str:
    """A `read` key through the checkout's own service (before issue 8 it took `request=`, now `actor=`)."""
    import inspect

    from accounts.services.api_keys import api_key_create

    if "actor" in inspect.signature(api_key_create).parameters:
        from cryptovault.actor import Actor

        caller = {"actor": Actor.for_command("bench")}
    else:
        caller = {"request": None}
    _, raw_key = api_key_create(**caller, user=user, name="api cost bench", scopes=["read"])
    return raw_key


def _signed_in_session(user) -> str:
    """A session as a sign-in leaves it: django.contrib.auth.login on a RequestFactory request."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import login
    from django.test import RequestFactory

    from accounts.middleware import SIGNED_IN_AT_SESSION_KEY

    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    login(request, user, backend="allauth.account.auth_backends.AuthenticationBackend")
    request.session[SIGNED_IN_AT_SESSION_KEY] = int(time.time())
    request.session.save()
    return f"{settings.SESSION_COOKIE_NAME}={request.session.session_key}"


def _client_headers(creds: dict) -> dict[str, dict[str, str]]:
    return {
        "health": {},
        "bare drf": {},
        "anonymous": {},
        "jwt": {"HTTP_AUTHORIZATION": f"Bearer {creds['jwt']}"},
        "api key": {"HTTP_AUTHORIZATION": f"Api-Key {creds['api_key']}"},
        "session": {"HTTP_COOKIE": creds["session_cookie"]},
    }


def _get(case: str, creds: dict):
    """One request of `case` through the whole middleware stack (a fresh test Client: no cookie unless sent)."""
    from django.test import Client

    response = Client(HTTP_HOST="127.0.0.1").get(CASES[case][0], **_client_headers(creds)[case])
    if response.status_code != 200 or (case in ME_CASES and response.json().get("email") != creds["email"]):
        raise RuntimeError(f"{case}: {response.status_code} {response.content[:300]!r}")
    return response


def setup(redis_requests: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.settings import api_settings
    from rest_framework_simplejwt.tokens import RefreshToken

    email = f"api-cost-bench-{uuid.uuid4().hex[:12]}@bench.local"
    user = get_user_model().objects.create_user(email=email)
    creds = {
        "email": email,
        "user_id": user.pk,
        "session_cookie": _signed_in_session(user),
        "jwt": str(RefreshToken.for_user(user).access_token),
        "api_key": _api_key(user),
    }

    queries: dict[str, list[str]] = {}
    redis_counts: dict[str, dict] = {}
    client = _redis_client()
    for case in CASES:
        _get(case, creds)  # warm-up: first use of the key, the user-session row, the Redis connection
        with CaptureQueriesContext(connection) as captured:
            _get(case, creds)
        queries[case] = [_summarise(query["sql"]) for query in captured.captured_queries]

        redis_counts[case] = count_on_redis(client, redis_requests, lambda _n, case=case: _get(case, creds))

    # A POST to an endpoint with a rate_limited group (sign-in: "login", 10/m per client IP) counts
    # the group as well as the API budget. Counted only (no wrk: one client IP would hit the group's
    # limit): an empty body, so the answer is a 400 from the serializer after the limits were
    # counted, from a new client IP each time, so the group never refuses.
    def sign_in_post(n: int):
        from django.test import Client

        response = Client(HTTP_HOST="127.0.0.1").post(
            "/api/v1/auth/token/",
            data="{}",
            content_type="application/json",
            REMOTE_ADDR=f"10.99.{n >> 8 & 255}.{n & 255}",
        )
        if response.status_code != 400:
            raise RuntimeError(f"sign-in POST: {response.status_code} {response.content[:300]!r}")

    sign_in_post(0)
    with CaptureQueriesContext(connection) as captured:
        sign_in_post(4000)  # outside the counted range below
    queries["sign-in POST"] = [_summarise(query["sql"]) for query in captured.captured_queries]
    redis_counts["sign-in POST"] = count_on_redis(client, redis_requests, lambda n: sign_in_post(n + 1))
    # The same clients again, within the group's minute: their counters exist now (before issue 8
    # django-ratelimit's `cache.add` then failed and it went on with `incr`).
    redis_counts["sign-in POST, second attempt"] = count_on_redis(client, redis_requests, lambda n: sign_in_post(n + 1))
    return {
        **creds,
        "throttle_classes": [f"{cls.__module__}.{cls.__qualname__}" for cls in api_settings.DEFAULT_THROTTLE_CLASSES],
        "throttle_rates": dict(api_settings.DEFAULT_THROTTLE_RATES),
        "queries": queries,
        "redis": redis_counts,
    }


# --- 2. in-process timing, in the checkout (subprocess) --------------------------------------


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


def time_requests(creds: dict, requests: int) -> dict:
    """Requests one at a time, the cases in turn; then the parts of a request, one at a time."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory
    from rest_framework.views import APIView
    from rest_framework_simplejwt.authentication import JWTAuthentication

    from accounts.services.api_keys import api_key_authenticate

    # Each API case also runs with the throttles off (APIView.throttle_classes emptied for that one
    # request; no view of either checkout sets its own), in the same process and turn: the
    # difference is what the throttles cost inside a whole request.
    throttle_classes = APIView.throttle_classes
    variants = [(case, False) for case in CASES] + [(case, True) for case in API_CASES]

    def one(case: str, unthrottled: bool) -> float:
        APIView.throttle_classes = () if unthrottled else throttle_classes
        try:
            started = time.perf_counter()
            _get(case, creds)
            return (time.perf_counter() - started) * 1000
        finally:
            APIView.throttle_classes = throttle_classes

    for variant in variants:  # warm-up
        for _ in range(3):
            one(*variant)
    times: dict[str, list[float]] = {case + (NO_THROTTLES if off else ""): [] for case, off in variants}
    for _ in range(requests):
        for case, off in variants:
            times[case + (NO_THROTTLES if off else "")].append(one(case, off))

    user = get_user_model().objects.get(pk=creds["user_id"])
    factory = APIRequestFactory()
    jwt_auth = JWTAuthentication()
    raw_token = creds["jwt"].encode()

    new_clients = iter(range(1, 1 << 24))

    def new_client_ip() -> str:
        """A client the throttles have not seen (within their one-second window): an empty history."""
        n = next(new_clients)
        return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"

    def throttles(who, ip: str = "127.0.0.1") -> float:
        """Every throttle a view runs (APIView.throttle_classes: DEFAULT_THROTTLE_CLASSES), for `who`."""
        request = Request(factory.get("/api/v1/me/", HTTP_HOST="127.0.0.1", REMOTE_ADDR=ip))
        request.user = who
        view = APIView()
        started = time.perf_counter()
        for throttle_class in APIView.throttle_classes:
            if not throttle_class().allow_request(request, view):
                raise RuntimeError("throttled: the bench's rate must never answer 429")
        return (time.perf_counter() - started) * 1000

    def timed(fn) -> float:
        started = time.perf_counter()
        fn()
        return (time.perf_counter() - started) * 1000

    validated = jwt_auth.get_validated_token(raw_token)
    parts_fns = {
        # The anonymous API requests of this process so far share one key (127.0.0.1): before issue 8
        # its cache entry holds a timestamp per request of the last second, read and written whole.
        "throttles, anonymous": lambda: throttles(AnonymousUser()),
        "throttles, anonymous, new client": lambda: throttles(AnonymousUser(), new_client_ip()),
        "throttles, signed in": lambda: throttles(user),
        "jwt token check": lambda: timed(lambda: jwt_auth.get_validated_token(raw_token)),
        "jwt user lookup": lambda: timed(lambda: jwt_auth.get_user(validated)),
        "api key lookup": lambda: timed(lambda: api_key_authenticate(raw_key=creds["api_key"], ip="127.0.0.1")),
    }
    parts: dict[str, list[float]] = {name: [] for name in parts_fns}
    for fn in parts_fns.values():  # warm-up
        fn()
    for _ in range(requests):
        for name, fn in parts_fns.items():
            parts[name].append(fn())
    return {"requests_ms": times, "parts_ms": parts}


# --- the orchestration (this checkout's venv) ------------------------------------------------


def _subprocess(checkout: Checkout, args: list[str], throttle_rate: str, timeout: int) -> dict:
    proc = subprocess.run(
        [PYTHON, str(checkout.path / "bench" / "api_cost_bench.py"), *args],
        cwd=checkout.path,
        env=checkout_env(checkout, throttle_rate),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{checkout.label} {args[0]} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
    return json.loads(lines[-1][len(MARKER) :])


def sync_bench_files(checkout: Checkout) -> list[str]:
    """Copy this benchmark's files into another checkout's bench/ (never committed there)."""
    copied = []
    for name in SYNCED_FILES:
        source, target = BASE_DIR / "bench" / name, checkout.path / "bench" / name
        if not target.is_file() or target.read_bytes() != source.read_bytes():
            shutil.copy2(source, target)
            copied.append(name)
    return copied


def ensure_database(checkout: Checkout) -> None:
    """Create the checkout's bench database if missing and migrate it with the checkout's migrations."""
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname='{checkout.db_name}'"],  # noqa: S608 - our own constant
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip()  # fmt: skip
    if exists != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", checkout.db_name], check=True, timeout=30)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=checkout.path,
        env=checkout_env(checkout),
        check=True,
        timeout=300,
    )


def _git(checkout: Checkout) -> dict:
    def run(*args: str) -> str:
        return subprocess.run(["git", "-C", str(checkout.path), *args], capture_output=True, text=True).stdout.strip()

    changed = [line for line in run("status", "--porcelain").splitlines() if line]
    return {"commit": run("rev-parse", "HEAD"), "files_changed_from_commit": len(changed)}


def _wrk_headers(case: str, creds: dict) -> list[str]:
    return [f"{name[5:].title()}: {value}" for name, value in _client_headers(creds)[case].items()]


def check(base: str, creds: dict) -> None:
    """Every case answers 200 over HTTP, the /me/ cases with the user's email."""
    for case, (path, _) in CASES.items():
        headers = dict(header.split(": ", 1) for header in _wrk_headers(case, creds))
        request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 - 127.0.0.1 only
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
            body = json.loads(response.read())
            if response.status != 200 or (case in ME_CASES and body.get("email") != creds["email"]):
                raise RuntimeError(f"{base}{path} ({case}): {response.status} {body}")


def wrk(url: str, headers: list[str], args, duration: int) -> dict:
    """wrk --latency with -H headers: req/s, p50/p99, requests, errors."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only target 127.0.0.1")
    # --timeout 10s (wrk's default is 2 s): a slow answer is a latency, not a dropped connection.
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--timeout", "10s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    return parse_wrk_output(out)


def in_process(checkouts: list[Checkout], creds: dict, args) -> dict:
    """Rounds of timing subprocesses, before and after alternating; the median over all rounds."""
    samples: dict[str, dict[str, dict[str, list[float]]]] = {
        c.label: {"requests_ms": {}, "parts_ms": {}} for c in checkouts
    }
    for round_ in range(args.in_process_rounds):
        for checkout in checkouts if round_ % 2 == 0 else checkouts[::-1]:
            with tempfile.NamedTemporaryFile("w", suffix=".json") as creds_file:
                json.dump(creds[checkout.label], creds_file)
                creds_file.flush()
                result = _subprocess(
                    checkout,
                    ["--time", "--creds", creds_file.name, "--in-process-requests", str(args.in_process_requests)],
                    args.throttle_rate,
                    timeout=600,
                )
            for kind in ("requests_ms", "parts_ms"):
                for name, values in result[kind].items():
                    samples[checkout.label][kind].setdefault(name, []).extend(values)
            print(f"  in-process round {round_ + 1}, {checkout.label}: done", flush=True)
    return {
        label: {kind: {name: _median_ms(values) for name, values in by_name.items()} for kind, by_name in kinds.items()}
        for label, kinds in samples.items()
    }


def load_runs(checkouts: list[Checkout], creds: dict, args) -> dict[str, dict[str, list[dict]]]:
    """Both servers up at once; per case, before and after in turn (the order alternating per repeat)."""
    runs: dict[str, dict[str, list[dict]]] = {c.label: {case: [] for case in CASES} for c in checkouts}
    client = _redis_client()
    with contextlib.ExitStack() as stack:
        targets = {
            c.label: stack.enter_context(
                server(
                    "gunicorn",
                    checkout_env(c, args.throttle_rate),
                    log_path=RESULTS / f"gunicorn-api-cost-{c.label}.log",
                    cwd=c.path,
                )
            )
            for c in checkouts
        }
        for c in checkouts:
            check(targets[c.label], creds[c.label])
        for case in CASES:  # warm-up: imports, pools, every worker thread
            for c in checkouts:
                wrk(targets[c.label] + CASES[case][0], _wrk_headers(case, creds[c.label]), args, 1)
        for repeat in range(args.repeat):
            for case in CASES:
                for c in checkouts if repeat % 2 == 0 else checkouts[::-1]:
                    load1 = round(os.getloadavg()[0], 2)
                    start = redis_snapshot(client)
                    result = wrk(
                        targets[c.label] + CASES[case][0], _wrk_headers(case, creds[c.label]), args, args.duration
                    )
                    delta = redis_delta(start, redis_snapshot(client))
                    result["load1_before"] = load1
                    requests = max(result["requests"], 1)
                    result["redis_commands_per_request_under_load"] = round(delta["commands"] / requests, 2)
                    result["redis_round_trips_per_request_under_load"] = round(delta["reads"] / requests, 2)
                    result["redis_new_connections_under_load"] = delta["connections"]
                    runs[c.label][case].append(result)
                    print(
                        f"| {case} | {c.label} | {result['rps']:.0f} | {result['p50_ms']:.1f} | {result['p99_ms']:.1f} "
                        f"| {result['redis_round_trips_per_request_under_load']} "
                        f"| {result['non2xx'] + result['socket_errors']} "
                        f"| {load1} |",
                        flush=True,
                    )
    return runs


def summarise(checkouts: list[Checkout], creds: dict, timing: dict, runs: dict) -> list[dict]:
    rows = []
    for c in checkouts:
        label_runs = runs[c.label]
        medians = {case: sorted(r, key=lambda x: x["rps"])[len(r) // 2] for case, r in label_runs.items()}
        for case, results in label_runs.items():
            statements = creds[c.label]["queries"][case]
            redis_counts = creds[c.label]["redis"][case]
            row = {
                "checkout": c.label,
                "case": case,
                "endpoint": CASES[case][0],
                "what": CASES[case][1],
                **{k: v for k, v in medians[case].items() if k != "raw"},
                "rps_all": [r["rps"] for r in results],
                "p99_all": [r["p99_ms"] for r in results],
                "load1_all": [r["load1_before"] for r in results],
                "errors_all": [r["non2xx"] + r["socket_errors"] for r in results],
                "redis_round_trips_per_request_under_load_all": [
                    r["redis_round_trips_per_request_under_load"] for r in results
                ],
                "redis_commands_per_request_under_load_all": [
                    r["redis_commands_per_request_under_load"] for r in results
                ],
                "vs_bare_drf": round(medians[case]["rps"] / medians["bare drf"]["rps"], 2),
                "in_process_ms": timing[c.label]["requests_ms"][case],
                "in_process_ms_over_bare_drf": round(
                    timing[c.label]["requests_ms"][case] - timing[c.label]["requests_ms"]["bare drf"], 2
                ),
                "in_process_ms_no_throttles": timing[c.label]["requests_ms"].get(case + NO_THROTTLES),
                "in_process_ms_throttles": (
                    round(timing[c.label]["requests_ms"][case] - timing[c.label]["requests_ms"][case + NO_THROTTLES], 3)
                    if case in API_CASES
                    else 0
                ),
                "redis_commands_per_request": redis_counts["commands_per_request"],
                "redis_round_trips_per_request": redis_counts["round_trips_per_request"],
                "redis_calls_per_request": redis_counts["calls_per_request"],
                "sql_queries": sum(1 for sql in statements if sql not in TRANSACTION_CONTROL),
                "sql_transactions": statements.count("BEGIN"),
                "sql": statements,
            }
            rows.append(row)
    return rows


def pair_ratios(runs: dict[str, dict[str, list[dict]]]) -> dict[str, list[float]]:
    """after / before req/s of each repeat: the two runs of a pair ran back to back, so the
    machine's other load hit both alike (the medians per checkout come from different minutes)."""
    if not {"before", "after"} <= set(runs):
        return {}
    return {
        case: [round(a["rps"] / b["rps"], 2) for b, a in zip(runs["before"][case], runs["after"][case], strict=True)]
        for case in CASES
    }


def print_table(rows: list[dict], timing: dict) -> None:
    by = {(row["checkout"], row["case"]): row for row in rows}
    labels = list(dict.fromkeys(row["checkout"] for row in rows))

    def pair(case: str, key: str, fmt: str = "{}") -> str:
        return " → ".join(fmt.format(by[(label, case)][key]) for label in labels)

    print(f"\n{' → '.join(labels)}")
    print(
        "| case | req/s | vs bare DRF | in-process ms | of which throttles | Redis round trips | Redis commands | SQL |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for case in CASES:
        print(
            f"| {case} | {pair(case, 'rps', '{:.0f}')} | {pair(case, 'vs_bare_drf')} | {pair(case, 'in_process_ms')} "
            f"| {pair(case, 'in_process_ms_throttles')} "
            f"| {pair(case, 'redis_round_trips_per_request')} | {pair(case, 'redis_commands_per_request')} "
            f"| {pair(case, 'sql_queries')} |"
        )
    print("\nparts, in-process median ms:")
    for name in next(iter(timing.values()))["parts_ms"]:
        print(f"  {name}: {' → '.join(str(timing[label]['parts_ms'][name]) for label in labels)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # The worktree and the --target install that bench/README.md describes (a fixed place, nothing secret).
    before_default = Path("/tmp/headwt")  # noqa: S108
    parser.add_argument("--before", type=Path, default=before_default, help="the checkout before issue 8")
    parser.add_argument(
        "--before-pythonpath",
        default="/tmp/headdeps",  # noqa: S108
        help="extra PYTHONPATH of the before checkout (django-ratelimit==4.1.0: pip install --target)",
    )
    parser.add_argument("--only", choices=("before", "after"), help="one checkout (`make bench`: after)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (max 60)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="wrk runs per case and checkout; the median is kept")
    parser.add_argument("--throttle-rate", default=THROTTLE_RATE, help="API_THROTTLE_USER and _ANON (never 429)")
    parser.add_argument("--in-process-requests", type=int, default=150, help="per case, per round and checkout")
    parser.add_argument("--in-process-rounds", type=int, default=4, help="timing rounds, before and after alternating")
    parser.add_argument("--redis-requests", type=int, default=100, help="requests per case counted on the Redis server")
    parser.add_argument("--out", default="api-cost", help="results file name (bench/results/<out>.json)")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)  # internal: step 1
    parser.add_argument("--time", action="store_true", help=argparse.SUPPRESS)  # internal: step 2
    parser.add_argument("--creds", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.in_process_requests = max(1, min(args.in_process_requests, 2000))
    args.redis_requests = max(1, min(args.redis_requests, 1000))
    if args.setup:
        print(MARKER + json.dumps(setup(args.redis_requests)), flush=True)
        return 0
    if args.time:
        creds = json.loads(Path(args.creds).read_text())
        print(MARKER + json.dumps(time_requests(creds, args.in_process_requests)), flush=True)
        return 0

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    args.duration = max(1, min(args.duration, 60))
    args.repeat = max(1, min(args.repeat, 10))
    args.in_process_rounds = max(1, min(args.in_process_rounds, 10))
    checkouts = []
    if args.only != "after":
        if not (args.before / "manage.py").is_file():
            raise SystemExit(f"{args.before} is not a checkout: git -C {BASE_DIR} worktree add -f {args.before} HEAD")
        before = Checkout(
            "before", args.before.resolve(), tuple(p for p in args.before_pythonpath.split(os.pathsep) if p)
        )
        copied = sync_bench_files(before)
        if copied:
            print(f"copied into {before.path}/bench: {', '.join(copied)}")
        checkouts.append(before)
    if args.only != "before":
        checkouts.append(Checkout("after", BASE_DIR))
    RESULTS.mkdir(exist_ok=True)
    git = {c.label: _git(c) for c in checkouts}  # at the start: what the servers and subprocesses load

    creds = {}
    for c in checkouts:
        ensure_database(c)
        creds[c.label] = _subprocess(
            c, ["--setup", "--redis-requests", str(args.redis_requests)], args.throttle_rate, 600
        )
        print(f"{c.label}: throttles {creds[c.label]['throttle_classes']}")
        for case in [*CASES, "sign-in POST", "sign-in POST, second attempt"]:
            counts = creds[c.label]["redis"][case]
            sql = creds[c.label]["queries"].get(case, [])
            print(
                f"  {case}: {sum(1 for q in sql if q not in TRANSACTION_CONTROL)} SQL, "
                f"Redis {counts['round_trips_per_request']} round trips / {counts['commands_per_request']} commands "
                f"{counts['calls_per_request']}",
                flush=True,
            )
    timing = in_process(checkouts, creds, args)
    print("| case | checkout | req/s | p50 ms | p99 ms | Redis round trips | errors | load1 before |")
    print("|---|---|---|---|---|---|---|---|")
    runs = load_runs(checkouts, creds, args)
    rows = summarise(checkouts, creds, timing, runs)
    print_table(rows, timing)
    ratios = pair_ratios(runs)
    for case, values in ratios.items():
        print(f"  after/before req/s, per pair: {case}: {values} (median {statistics.median(values)})")
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "nproc": os.cpu_count(),
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s --timeout 10s --latency",
        "repeat": args.repeat,
        "in_process": f"{args.in_process_requests} requests per case x {args.in_process_rounds} rounds per checkout",
        "redis_requests": args.redis_requests,
        "server": "gunicorn 2 workers x 4 threads (gthread), DEBUG off",
        "throttle_rate": args.throttle_rate,
        "redis": f"{REDIS_HOST}:{REDIS_PORT}, databases {REDIS_DBS}",
        "checkouts": {
            c.label: {
                "path": str(c.path),
                "pythonpath": list(c.pythonpath),
                "database": c.db_name,
                **git[c.label],
                "throttle_classes": creds[c.label]["throttle_classes"],
                "throttle_rates": creds[c.label]["throttle_rates"],
                "redis_setup_counts": creds[c.label]["redis"],
            }
            for c in checkouts
        },
        "in_process_parts_ms": {label: t["parts_ms"] for label, t in timing.items()},
        "after_to_before_rps_per_pair": ratios,
    }
    (RESULTS / f"{args.out}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
