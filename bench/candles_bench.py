"""Benchmark 7: the candles endpoint with three indicators, at 500, 5,000 and 50,000 candles.

    .venv/bin/python bench/candles_bench.py                                   # the full run
    .venv/bin/python bench/candles_bench.py --sizes 500,5000 --timeframes 5m --rounds 3 --label smoke

What is timed: `GET /api/v1/market/BTC-USDT/candles/?timeframe=<tf>&start=<s>&end=<e>&names=sma:20,rsi:14,macd`,
in-process through Django's test Client (DEBUG off, bench/common.py:bench_env, the bench database
`cryptovault_bench` on PostgreSQL; the cache, which the API throttle counts in, on Redis database 14), signed
in with a JWT (`Authorization: Bearer`, one `SELECT accounts_user` a request). Every case is asked
`--rounds` times, the cases in turn, after two warm-up requests each; the median is kept. Each answer is
checked: 200, exactly the candles asked for, three indicator series as long.

The candles. The shipped fixture has 4h and 1d candles only, so the bench stores synthetic 5m candles
for BTC/USDT (exchange "binance") in the bench database, made from the fixture's real 4h candles: each
4h candle becomes 48 five-minute candles along a random bridge from its open to its close (seeded by the
candle's time, so every run stores the same values), inside its high and low, touching both, with its
volume split among them; aggregated back to 4h they give the real candle. They are written to a CSV and
stored with `exchanges.market.candles.import_candles_csv` (idempotent; skipped when already stored).
Timeframe 5m reads them as stored; 15m is aggregated from them (three rows read per candle).

The parts (`--rounds` times each, medians): `candles_for` (of which the SQL: the execute calls, timed by
a `connection.execute_wrapper`, and how many; psycopg receives the rows there and converts them at
fetch), the indicators (`compute_indicators` on the closes), the candle rows (`candle_rows`), the JSON
encoding (the API's renderer), and freeing it all. The request's remainder is DRF, authentication,
throttle, query validation and middleware. For comparison only, the same body through `orjson.dumps`.

Prints a table and writes bench/results/candles-<label>.json.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, REDIS_URL, bench_env, ensure_database

RESULTS = BASE_DIR / "bench" / "results"
SYMBOL = "BTC/USDT"
EXCHANGE = "binance"
NAMES = "sma:20,rsi:14,macd"
SOURCE_TF, SOURCE_SECONDS, PER_SOURCE = "4h", 14_400, 48  # 48 five-minute candles per 4h candle
REDIS_CACHE_DB = 14  # never a developer's 0-3, nor benchmark 5's 10-13 (benchmark 6 uses 14 and 15)
STEP = {"5m": 300, "15m": 900}


def _redis_url(db: int) -> str:
    parts = urlsplit(REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def candles_env() -> dict[str, str]:
    url = _redis_url(REDIS_CACHE_DB)
    return bench_env(
        CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url, CACHE_REDIS_URL=url, CHANNEL_LAYER_REDIS_URL=url,
        JWT_ACCESS_MINUTES="600",
    )  # fmt: skip


# --- the synthetic 5m candles ------------------------------------------------------------------------


def five_minute_rows(open_time: int, o: float, h: float, lo: float, c: float, v: float) -> list[tuple]:
    """48 five-minute candles (time, open, high, low, close, volume) that aggregate to this 4h candle."""
    import numpy as np

    rng = np.random.default_rng(open_time)
    walk = np.concatenate(([0.0], np.cumsum(rng.normal(size=PER_SOURCE))))
    t = np.linspace(0.0, 1.0, PER_SOURCE + 1)
    bridge = walk - t * walk[-1]  # 0 at both ends
    base = o + (c - o) * t
    up, down = bridge.max(), bridge.min()
    k_up = (h - max(o, c)) / up * rng.uniform(0.6, 1.0) if up > 0 else 0.0
    k_down = (min(o, c) - lo) / -down * rng.uniform(0.6, 1.0) if down < 0 else 0.0
    path = np.round(np.where(bridge > 0, base + bridge * k_up, base + bridge * k_down), 2)
    path[0], path[-1] = o, c
    path = np.clip(path, lo, h)
    opens, closes = path[:-1], path[1:]
    tops, bottoms = np.maximum(opens, closes), np.minimum(opens, closes)
    highs = np.round(tops + (h - tops) * rng.uniform(0, 0.3, PER_SOURCE), 2).clip(tops, h)
    lows = np.round(bottoms - (bottoms - lo) * rng.uniform(0, 0.3, PER_SOURCE), 2).clip(lo, bottoms)
    highs[int(highs.argmax())], lows[int(lows.argmin())] = h, lo  # the 4h high and low are touched
    volumes = np.round(v * rng.dirichlet(np.ones(PER_SOURCE)), 5)
    return [(open_time + 300 * i, opens[i], highs[i], lows[i], closes[i], volumes[i]) for i in range(PER_SOURCE)]


def seed(five_minute_candles: int) -> dict:
    """Store at least `five_minute_candles` synthetic 5m candles (the latest ones of the fixture's 4h range)."""
    from exchanges.market.candles import _stored, import_candles_csv
    from exchanges.market.data import fixture_path, read_candles

    sources = list(read_candles(fixture_path(SYMBOL, SOURCE_TF)))
    wanted = min(len(sources), math.ceil((five_minute_candles + 1) / PER_SOURCE) + 1)
    sources = sources[-wanted:]
    first = sources[0].time
    last = sources[-1].time + SOURCE_SECONDS - 2 * 300  # the import leaves out the very last 5m candle
    stored = _stored(EXCHANGE, SYMBOL, "5m")
    in_range = stored.filter(open_time__gte=datetime.fromtimestamp(first, UTC)).count()
    expected = wanted * PER_SOURCE - 1  # the import leaves out the last row (a candle that may be open)
    started = time.perf_counter()
    new = 0
    if in_range < expected:
        with tempfile.TemporaryDirectory(prefix="candles-bench-") as scratch:
            path = Path(scratch) / "BTCUSDT_5m.csv.gz"
            with gzip.open(path, "wt", newline="") as out:
                out.write("timestamp,open,high,low,close,volume\n")
                for row in sources:
                    values = (float(row.open), float(row.high), float(row.low), float(row.close), float(row.volume))
                    for when, *numbers in five_minute_rows(row.time, *values):
                        stamp = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M:%S")
                        out.write(stamp + "," + ",".join(repr(float(n)) for n in numbers) + "\n")
            new = import_candles_csv(path=path, symbol=SYMBOL, timeframe="5m", exchange=EXCHANGE)
    return {
        "source_4h_candles": wanted,
        "first_5m": datetime.fromtimestamp(first, UTC).isoformat(),
        "last_5m": datetime.fromtimestamp(last, UTC).isoformat(),
        "stored_5m": stored.count(),
        "new": new,
        "seconds": round(time.perf_counter() - started, 1),
    }


# --- timing ------------------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))], 3)


class SqlTimer:
    """Time spent in cursor.execute (the database and the transfer; rows are converted at fetch)."""

    def __init__(self):
        self.seconds, self.queries = 0.0, 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def cases(sizes: list[int], timeframes: list[str]) -> list[dict]:
    from exchanges.market.candles import _stored, bucket_start

    latest = int(_stored(EXCHANGE, SYMBOL, "5m").order_by("-open_time").first().open_time.timestamp())
    out = []
    for timeframe in timeframes:
        step = STEP[timeframe]
        end = latest if timeframe == "5m" else bucket_start(latest, timeframe) - step  # a complete bucket
        for size in sizes:
            start = end - (size - 1) * step
            url = f"/api/v1/market/BTC-USDT/candles/?timeframe={timeframe}&start={start}&end={end}&names={NAMES}"
            out.append({"timeframe": timeframe, "candles": size, "start": start, "end": end, "url": url})
    return out


def check_answers(case_list: list[dict], client, headers: dict) -> None:
    """Two warm-up requests per case; the answer must hold exactly the candles and indicators asked for."""
    for case in case_list:
        for _ in range(2):
            response = client.get(case["url"], **headers)
        body = json.loads(response.content)
        indicators = body.get("indicators", {})
        if (
            response.status_code != 200
            or len(body["candles"]) != case["candles"]
            or len(indicators) != 3
            or any(len(series) != case["candles"] for out in indicators.values() for series in out.values())
        ):
            raise RuntimeError(f"{case['url']}: {response.status_code} {response.content[:300]!r}")
        case["response_bytes"] = len(response.content)
        case["source_label"] = body["source_label"]
        del response, body, indicators


def time_request(client, headers: dict, case: dict) -> float:
    started = time.perf_counter()
    response = client.get(case["url"], **headers)
    status = response.status_code
    del response  # freeing the answer (up to 50,000 dicts) is this request's cost, not the next one's
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"{case['url']}: {status}")
    return elapsed


def time_parts(case: dict) -> dict[str, float]:
    """The request's parts one by one (ms), freeing what they made inside the case, as a server does."""
    from django.db import connection

    from analytics.indicators import compute_indicators, parse_indicators
    from cryptovault.api.renderers import SafeJSONRenderer
    from exchanges.api.market import candle_rows, series_head
    from exchanges.market.candles import candles_for

    start, end = (datetime.fromtimestamp(case[key], UTC) for key in ("start", "end"))
    specs = parse_indicators(NAMES)
    sql = SqlTimer()
    t0 = time.perf_counter()
    with connection.execute_wrapper(sql):
        series = candles_for(symbol=SYMBOL, timeframe=case["timeframe"], start=start, end=end)
    t1 = time.perf_counter()
    indicators = compute_indicators(specs, series.closes())
    t2 = time.perf_counter()
    rows = candle_rows(series.bars)
    t3 = time.perf_counter()
    body = {**series_head(series), "candles": rows, "indicators": indicators}
    rendered = SafeJSONRenderer().render(body, "application/json")
    t4 = time.perf_counter()
    parts = {"candles_for": t1 - t0, "sql": sql.seconds, "indicators": t2 - t1, "rows": t3 - t2, "json": t4 - t3}
    case["sql_queries"] = sql.queries
    try:
        import orjson  # in requirements.txt (another package's dependency); not what the API renders with
    except ImportError:  # pragma: no cover
        pass
    else:  # the same body through orjson, for comparison only
        t5 = time.perf_counter()
        orjson.dumps(body)
        parts["json_orjson"] = time.perf_counter() - t5
    t6 = time.perf_counter()
    del series, indicators, rows, body, rendered
    parts["free"] = time.perf_counter() - t6
    return {name: seconds * 1000 for name, seconds in parts.items()}


def time_all(case_list: list[dict], token: str, rounds: int) -> None:
    """Per round, per case: one request, then its parts, back to back (so both see the same machine load)."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    check_answers(case_list, client, headers)
    for case in case_list:
        case["request_ms_all"], case["parts_all"] = [], []
    for _ in range(rounds):
        for case in case_list:
            case["request_ms_all"].append(round(time_request(client, headers, case), 3))
            case["parts_all"].append(time_parts(case))
    for case in case_list:
        parts_all = case.pop("parts_all")
        case["parts_ms"] = {name: _median([parts[name] for parts in parts_all]) for name in parts_all[0]}


def summarise(case_list: list[dict]) -> None:
    for case in case_list:
        times = case["request_ms_all"]
        case["request_ms"] = _median(times)
        case["request_p90_ms"] = _pct(times, 90)
        case["us_per_candle"] = round(case["request_ms"] / case["candles"] * 1000, 2)
        parts = case["parts_ms"]
        named = parts["candles_for"] + parts["indicators"] + parts["rows"] + parts["json"] + parts["free"]
        case["parts_ms"]["rest_of_request"] = round(case["request_ms"] - named, 3)


def growth(case_list: list[dict]) -> dict:
    """Per timeframe: per-candle cost at the smallest and largest size, and the marginal cost per candle
    between consecutive sizes (equal marginal costs: linear)."""
    out = {}
    for timeframe in dict.fromkeys(case["timeframe"] for case in case_list):
        rows = sorted((c for c in case_list if c["timeframe"] == timeframe), key=lambda c: c["candles"])
        marginal = [
            {
                "from": a["candles"],
                "to": b["candles"],
                "us_per_extra_candle": round(
                    (b["request_ms"] - a["request_ms"]) / (b["candles"] - a["candles"]) * 1000, 2
                ),
            }
            for a, b in itertools.pairwise(rows)
        ]
        out[timeframe] = {
            "per_candle_smallest_over_largest": round(rows[0]["us_per_candle"] / rows[-1]["us_per_candle"], 2)
            if len(rows) > 1
            else None,
            "marginal": marginal,
        }
    return out


def make_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import RefreshToken

    user = get_user_model().objects.create_user(email=f"candles-bench-{uuid.uuid4().hex[:12]}@bench.local")
    return str(RefreshToken.for_user(user).access_token)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,5000,50000", help="candles per request (max 50,000)")
    parser.add_argument("--timeframes", default="5m,15m", help="5m (as stored) and/or 15m (aggregated from 5m)")
    parser.add_argument("--rounds", type=int, default=15, help="timed requests per case (max 200)")
    parser.add_argument("--label", default="full")
    args = parser.parse_args(argv)
    sizes = sorted({max(1, min(int(size), 50_000)) for size in args.sizes.split(",")})
    timeframes = [tf for tf in STEP if tf in args.timeframes.split(",")]
    if not timeframes:
        parser.error("--timeframes: 5m and/or 15m")
    rounds = max(1, min(args.rounds, 200))

    env = candles_env()
    RESULTS.mkdir(exist_ok=True)
    ensure_database()
    for key in [k for k in os.environ if k.startswith(("DJANGO_", "CHANNEL_LAYER_", "CACHE_", "CELERY_"))]:
        del os.environ[key]
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    needed = max(sizes) * max(STEP[tf] for tf in timeframes) // 300 + 3 * PER_SOURCE
    seeded = seed(needed)
    token = make_token()
    case_list = cases(sizes, timeframes)
    load_before = os.getloadavg()
    started = time.perf_counter()
    time_all(case_list, token, rounds)
    summarise(case_list)
    document = {
        "label": args.label,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "names": NAMES,
        "rounds": rounds,
        "database": connection.settings_dict["NAME"],
        "postgres": connection.cursor().connection.info.server_version,
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "timing_seconds": round(time.perf_counter() - started, 1),
        "seed": seeded,
        "cases": case_list,
        "growth": growth(case_list),
    }
    (RESULTS / f"candles-{args.label}.json").write_text(json.dumps(document, indent=2))
    print(f"{'tf':<4} {'candles':>7} {'ms':>8} {'p90':>8} {'us/candle':>9} {'for':>7} {'sql':>7} "
          f"{'ind':>7} {'rows':>7} {'json':>7} {'free':>6} {'rest':>6} {'orjson':>6} {'KB':>7}")  # fmt: skip
    for case in case_list:
        parts = case["parts_ms"]
        print(
            f"{case['timeframe']:<4} {case['candles']:>7} {case['request_ms']:>8.1f} {case['request_p90_ms']:>8.1f} "
            f"{case['us_per_candle']:>9.2f} {parts['candles_for']:>7.1f} {parts['sql']:>7.1f} "
            f"{parts['indicators']:>7.1f} {parts['rows']:>7.1f} {parts['json']:>7.1f} {parts['free']:>6.1f} "
            f"{parts['rest_of_request']:>6.1f} {parts.get('json_orjson', float('nan')):>6.1f} "
            f"{case['response_bytes'] / 1024:>7.0f}"
        )
    print(json.dumps(document["growth"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
