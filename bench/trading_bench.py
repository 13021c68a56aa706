"""Benchmark 8: paper orders through the service layer, and the portfolio API of a busy trader (issue 11).

    .venv/bin/python bench/trading_bench.py orders                 # 8a: paper market orders per second
    .venv/bin/python bench/trading_bench.py portfolio              # 8b: GET /api/v1/portfolio/ vs a bare DRF view
    .venv/bin/python bench/trading_bench.py orders --orders 80 --label smoke           # short runs
    .venv/bin/python bench/trading_bench.py portfolio --orders 500 --duration 2 --repeat 1 --label smoke

Both run against PostgreSQL (the bench database `cryptovault_bench`, bench/common.py:ensure_database) with
DEBUG off (bench/common.py:bench_env), the cache, channel layer and broker on Redis database 9 (no other
benchmark and no default setting uses it), `MARKET_DATA_EXCHANGE=replay` (no network) and the publisher's
last tick kept fresh by a thread of the bench process every 2 s, as a running `publish_prices` does
(`trading.prices.current_ticker` reads it: one cache read per order).

8a, `orders`: paper market orders placed with `trading.services.orders.order_place`, exactly what the
trade ticket and `POST /api/v1/orders/` call (validation against the market's rules, the reservation,
the fill by the paper engine, ledger entries, average cost, the audit record, the events after commit,
the notification), each in its own transaction, filled at once. Each order is a market buy or sell of
BTC/USDT by quantity (0.001), alternating, on an account that holds BTC from a first buy, so every order
fills. Phases: one thread on one account; `--threads` (8) threads on as many accounts (different traders);
`--threads` threads on ONE account (every order waits for the same balance rows' locks). Each thread has
its own database connection from the settings' psycopg pool. Reported: orders per second (orders / wall
time of the phase), the latency of one `order_place` (p50, p99), SQL statements per order, and afterwards
the checks: every order filled, each balance equal to the sum of its ledger entries, nothing locked.

8b, `portfolio`: one trader with 50 assets and 10,000 orders, made once per `--label` and kept in the bench
database (`portfolio-bench-<label>@bench.local`): the first `--through-service` (400) orders are placed with
`order_place` from 4 threads, market orders on the ten followed markets and, among them, 100 limit buys at
60 % of the price that rest and hold real reservations; the rest of the history is written in bulk as the
paper engine writes it (`history_in_bulk`: order, fill, ledger entries with running balances, average cost),
since placing 10,000 orders one by one outlasts the benchmark; 40 more assets, which the followed markets do
not price, are deposited through the ledger service as an exchange sync's adjustments would be; then
`trading.ledger_check.check_ledger` must find no drift in the account. The SQL of one
`GET /api/v1/portfolio/` is counted in-process (test Client), for this trader and for a new one with one
asset. Then one gunicorn (as in benchmark 1: 2 workers x 4 threads, `bench.settings_bench`, whose URLs add
`/bench/drf`, a bare DRF view: no authentication, permissions, throttles or database) serves both;
every case is checked for a 200 first, then wrk -t2 -c32 -d10s per case, `--repeat` interleaved runs:
`/bench/drf`, `/api/v1/me/` (JWT: the fixed cost of an authenticated API request) and `/api/v1/portfolio/`
(JWT). The API throttle is at 100000000/s (never 429).

Prints a table and writes bench/results/trading-<command>-<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, REDIS_URL, bench_env, ensure_database, parse_wrk_output, server

RESULTS = BASE_DIR / "bench" / "results"
REDIS_DB = 9  # never a developer's 0-3, benchmark 5's 10-13 or benchmarks 6-7's 14-15
STARTING_BALANCE = "1000000000"  # a bench account never runs out of virtual USDT
SYMBOL = "BTC/USDT"
QUANTITY = Decimal("0.001")
PORTFOLIO_EMAIL = "portfolio-bench-{label}@bench.local"  # one trader per label: smoke runs keep theirs
PORTFOLIO_ORDERS = 10_000
PORTFOLIO_RESTING = 100
EXTRA_ASSETS = [
    "ATOM", "UNI", "LTC", "BCH", "NEAR", "APT", "ARB", "OP", "FIL", "ICP", "INJ", "SUI", "SEI", "TIA",
    "AAVE", "MKR", "LDO", "RUNE", "GRT", "ALGO", "XLM", "HBAR", "VET", "EGLD", "SAND", "MANA", "AXS",
    "FTM", "CRV", "SNX", "COMP", "YFI", "ENS", "IMX", "STX", "KAVA", "ZEC", "DASH", "EOS", "XTZ",
]  # fmt: skip


def _redis_url(db: int) -> str:
    parts = urlsplit(REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def trading_env() -> dict[str, str]:
    url = _redis_url(REDIS_DB)
    return bench_env(
        CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url, CACHE_REDIS_URL=url, CHANNEL_LAYER_REDIS_URL=url,
        MARKET_DATA_EXCHANGE="replay", PAPER_STARTING_BALANCE=STARTING_BALANCE,
        JWT_ACCESS_MINUTES="600", API_THROTTLE_USER="100000000/s", API_THROTTLE_ANON="100000000/s",
        RATE_LIMIT_ORDERS="100000000/s",
    )  # fmt: skip


def django_setup(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(("DJANGO_", "CHANNEL_LAYER_", "CACHE_", "CELERY_"))]:
        del os.environ[key]
    os.environ.update(env)
    import django

    django.setup()


# --- the publisher's last tick, kept fresh ------------------------------------------------------------


class LastTick(threading.Thread):
    """Keeps `market:last_tick` as a running publisher does (the replay's prices, every `interval` s)."""

    def __init__(self, interval: float = 2.0):
        super().__init__(daemon=True)
        self.interval, self.stop = interval, threading.Event()

    def refresh(self) -> None:
        from django.core.cache import cache

        from exchanges.market.feed import fresh_prices
        from exchanges.market.publisher import LAST_TICK_KEY, last_tick_seconds, tick_payload

        cache.set(LAST_TICK_KEY, tick_payload(fresh_prices()), timeout=last_tick_seconds())

    def run(self) -> None:
        from django.db import connection

        while not self.stop.wait(self.interval):
            self.refresh()
        connection.close()


# --- 8a: orders ----------------------------------------------------------------------------------------


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))], 2)


def a_trader(label: str):
    """A new verified-less user with a paper account holding BTC to sell (bought through the service)."""
    from django.contrib.auth import get_user_model

    from cryptovault.actor import Actor
    from trading.services.accounts import paper_account_open
    from trading.services.orders import order_place

    actor = Actor.for_command("trading_bench")
    user = get_user_model().objects.create_user(email=f"orders-bench-{label}-{uuid.uuid4().hex[:10]}@bench.local")
    account = paper_account_open(actor=actor, user=user)
    order_place(actor=actor, account=account, symbol=SYMBOL, side="buy", type="market", quantity=Decimal("0.05"))
    return account


def place_orders(account, count: int, offset: int = 0) -> list[float]:
    """`count` market orders, buy and sell in turn; the latency of each (ms). Runs in its own thread."""
    from django.db import connection

    from cryptovault.actor import Actor
    from trading.services.orders import order_place

    actor = Actor.for_command("trading_bench")
    times = []
    try:
        for number in range(count):
            side = "buy" if (number + offset) % 2 == 0 else "sell"
            started = time.perf_counter()
            result = order_place(
                actor=actor, account=account, symbol=SYMBOL, side=side, type="market", quantity=QUANTITY
            )
            times.append((time.perf_counter() - started) * 1000)
            if result.order.status != "filled":
                raise RuntimeError(f"order {result.order.pk} is {result.order.status}, not filled")
    finally:
        connection.close()  # back to the pool
    return times


def run_phase(name: str, accounts: list, total: int) -> dict:
    threads = len(accounts)
    per_thread = total // threads
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda pair: place_orders(pair[1], per_thread, pair[0]), enumerate(accounts)))
    wall = time.perf_counter() - started
    times = [t for result in results for t in result]
    row = {
        "phase": name,
        "threads": threads,
        "accounts": len({account.pk for account in accounts}),
        "orders": len(times),
        "seconds": round(wall, 2),
        "orders_per_s": round(len(times) / wall, 1),
        "p50_ms": _pct(times, 50),
        "p99_ms": _pct(times, 99),
        "mean_ms": round(statistics.fmean(times), 2),
    }
    print(
        f"{name:<28} {threads:>2} thr {row['accounts']:>2} acc {row['orders']:>5} orders "
        f"{row['orders_per_s']:>7.1f}/s  p50 {row['p50_ms']:>6.1f} ms  p99 {row['p99_ms']:>6.1f} ms",
        flush=True,
    )
    return row


def sql_per_order(account) -> dict:
    from django.db import connection

    captured = {}
    for side in ("buy", "sell"):
        queries = SqlTimer()
        with connection.execute_wrapper(queries):
            place_orders_inline(account, side)
        captured[side] = queries.queries
    return captured


def place_orders_inline(account, side: str) -> None:
    from cryptovault.actor import Actor
    from trading.services.orders import order_place

    order_place(
        actor=Actor.for_command("trading_bench"),
        account=account,
        symbol=SYMBOL,
        side=side,
        type="market",
        quantity=QUANTITY,
    )


class SqlTimer:
    """Time in cursor.execute (the database and the transfer) and the number of statements."""

    def __init__(self):
        self.seconds, self.queries = 0.0, 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def time_parts(account, count: int) -> dict:
    """One thread, `count` orders: where an order's time goes (ms per order, medians over the orders).

    The SQL is timed by a `connection.execute_wrapper`; the events after commit (`order.placed`,
    `order.filled` and the notifications' own) by wrapping `cryptovault.events.broadcast`, which the
    on-commit callbacks look up when they run. Nothing is replaced: the same calls run, timed.
    """
    from django.db import connection

    from cryptovault import events
    from cryptovault.actor import Actor
    from trading.services.orders import order_place

    actor = Actor.for_command("trading_bench")
    original = events.broadcast
    spent = {"seconds": 0.0, "calls": 0}

    def timed_broadcast(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["seconds"] += time.perf_counter() - started
            spent["calls"] += 1

    rows = []
    events.broadcast = timed_broadcast
    try:
        for number in range(count):
            sql, spent["seconds"], spent["calls"] = SqlTimer(), 0.0, 0
            side = "buy" if number % 2 == 0 else "sell"
            started = time.perf_counter()
            with connection.execute_wrapper(sql):
                order_place(actor=actor, account=account, symbol=SYMBOL, side=side, type="market", quantity=QUANTITY)
            total = (time.perf_counter() - started) * 1000
            rows.append({"total": total, "sql": sql.seconds * 1000, "statements": sql.queries,
                         "events": spent["seconds"] * 1000, "event_sends": spent["calls"]})  # fmt: skip
    finally:
        events.broadcast = original
    parts = {name: round(statistics.median(row[name] for row in rows), 2) for name in rows[0]}
    parts["rest"] = round(parts["total"] - parts["sql"] - parts["events"], 2)
    print(f"parts (ms per order, median of {count}): {parts}", flush=True)
    return parts


def books_check(accounts: list) -> dict:
    """After the run: every order filled; every balance the sum of its entries; nothing left locked."""
    from django.db.models import Sum

    from trading.models import Balance, Fill, LedgerEntry, Order

    ids = [account.pk for account in accounts]
    orders = Order.objects.filter(account_id__in=ids)
    drift = []
    for balance in Balance.objects.filter(account_id__in=ids):
        summed = LedgerEntry.objects.filter(account_id=balance.account_id, asset=balance.asset).aggregate(
            s=Sum("amount")
        )["s"]
        if summed != balance.total or balance.locked != 0:
            drift.append(
                {
                    "account": balance.account_id,
                    "asset": balance.asset,
                    "total": str(balance.total),
                    "entries": str(summed),
                }
            )
    return {
        "orders": orders.count(),
        "not_filled": orders.exclude(status="filled").count(),
        "fills": Fill.objects.filter(account_id__in=ids).count(),
        "balances_checked": Balance.objects.filter(account_id__in=ids).count(),
        "drift": drift,
    }


def run_orders(args) -> dict:
    ticker = LastTick()
    ticker.refresh()
    ticker.start()
    try:
        warm = a_trader("warm")
        place_orders(warm, 20)
        sql = sql_per_order(warm)
        parts = time_parts(warm, args.parts)
        single = [a_trader("single")]
        many = [a_trader(f"t{n}") for n in range(args.threads)]
        shared_account = a_trader("shared")
        rows = [
            run_phase("1 thread, 1 account", single, args.orders),
            run_phase(f"{args.threads} threads, {args.threads} accounts", many, args.orders),
            run_phase(f"{args.threads} threads, 1 account", [shared_account] * args.threads, args.orders),
        ]
    finally:
        ticker.stop.set()
        ticker.join(timeout=5)
    books = books_check([*single, *many, shared_account])
    print(f"SQL statements per order: {sql}; books: {books['orders']} orders, {books['not_filled']} not filled, "
          f"{books['fills']} fills, {len(books['drift'])} drifting balances", flush=True)  # fmt: skip
    if books["not_filled"] or books["drift"]:
        raise RuntimeError(f"the books do not add up: {books}")
    return {"rows": rows, "sql_per_order": sql, "parts_ms": parts, "books": books}


# --- 8b: portfolio -------------------------------------------------------------------------------------


def portfolio_trader(orders: int, through_service: int, label: str):
    """The bench's busy trader: 50 assets and `orders` orders (made once; topped up when fewer).

    The first `through_service` orders go through `order_place` (4 threads): market orders on the ten
    followed markets and PORTFOLIO_RESTING limit buys at 60 % of the price, which rest and hold real
    reservations. The rest of the history is written in bulk (`history_in_bulk`), since placing 10,000
    orders one by one takes longer than the benchmark. The 40 assets the followed markets do not price
    are deposited through the ledger service. `trading.ledger_check.check_ledger` must then find no
    drift in the account.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from cryptovault.actor import Actor
    from exchanges.market.symbols import market_symbols
    from trading.ledger_check import check_ledger
    from trading.markets import market_rules
    from trading.models import Balance, EntryKind, Order
    from trading.prices import current_ticker
    from trading.services.accounts import paper_account_open
    from trading.services.ledger import lock_balances, post_entry
    from trading.services.orders import order_place

    actor = Actor.for_command("trading_bench")
    user, _ = get_user_model().objects.get_or_create(email=PORTFOLIO_EMAIL.format(label=label))
    account = paper_account_open(actor=actor, user=user)
    symbols = list(market_symbols())
    rules = {symbol: market_rules(account, symbol) for symbol in symbols}
    resting = min(PORTFOLIO_RESTING, through_service // 2)
    started = time.perf_counter()

    def quantity_for(symbol: str, value: Decimal) -> Decimal:
        step = rules[symbol].qty_step
        raw = value / current_ticker(symbol).last
        return max((raw / step).to_integral_value() * step, rules[symbol].min_qty)

    def work(numbers: range) -> None:
        try:
            for number in numbers:
                symbol = symbols[number % len(symbols)]
                if number < resting:  # a limit buy at 60% of the price: rests
                    tick = rules[symbol].price_tick
                    price = (current_ticker(symbol).last * Decimal("0.6") / tick).to_integral_value() * tick
                    order_place(actor=actor, account=account, symbol=symbol, side="buy", type="limit",
                                quantity=quantity_for(symbol, Decimal(20)), price=price)  # fmt: skip
                    continue
                side = "buy" if (number // len(symbols)) % 3 != 2 else "sell"
                order_place(actor=actor, account=account, symbol=symbol, side=side, type="market",
                            quantity=quantity_for(symbol, Decimal(25)))  # fmt: skip
        finally:
            connection.close()

    have = Order.objects.filter(account=account).count()
    todo = range(have, min(through_service, orders))
    if len(todo):
        print(f"placing the portfolio trader's first orders: {have} -> {todo.stop} (service, 4 threads)", flush=True)
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(work, [todo[i::4] for i in range(4)]))
    have = Order.objects.filter(account=account).count()
    if have < orders:
        print(f"writing the rest of the history in bulk: {have} -> {orders}", flush=True)
        history_in_bulk(account, orders - have, symbols, rules)
    held = set(Balance.objects.filter(account=account).values_list("asset", flat=True))
    missing = [asset for asset in EXTRA_ASSETS if asset not in held][: max(0, 50 - len(held))]
    if missing:
        with transaction.atomic():
            balances = lock_balances(account, missing)
            for asset in missing:
                note = f"bench: {asset} held, as an exchange sync records it {timezone.now():%Y-%m-%d}"
                post_entry(balance=balances[asset], kind=EntryKind.ADJUSTMENT, amount=Decimal("12.5"), note=note)
    report = check_ledger(account_ids=[account.pk])
    if not report.ok:
        raise RuntimeError(f"the portfolio trader's ledger drifts: {[str(d) for d in report.drifts][:10]}")
    return user, {
        "orders": Order.objects.filter(account=account).count(),
        "open_orders": Order.objects.filter(account=account).open().count(),
        "assets": Balance.objects.filter(account=account).exclude(total=0).count(),
        "balances": Balance.objects.filter(account=account).count(),
        "ledger_entries": account.ledger_entries.count(),
        "ledger_check": "ok",
        "seconds_to_make": round(time.perf_counter() - started, 1),
    }


def history_in_bulk(account, count: int, symbols: list[str], rules: dict) -> None:
    """`count` filled paper market orders as the paper engine writes them, in bulk, over the past 200 days.

    Per order: the Order (filled, average price, fee), its Fill, and its ledger entries (trade of the
    base, trade of the quote, the fee in USDT) with running `balance_after`; the balances' totals, average
    cost and realised PnL follow the same rules as `trading.services.engine.fill` (average cost; a fee in
    USDT is part of a buy's cost and comes off a sale's proceeds). Prices walk around the current price.
    """
    import hashlib
    import random
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from trading.models import Balance, EntryKind, Fill, LedgerEntry, Order
    from trading.prices import current_ticker
    from trading.services.ledger import money

    rng = random.Random(11)
    slippage = Decimal(5) / Decimal(10_000)
    with transaction.atomic():
        balances = {b.asset: b for b in Balance.objects.select_for_update().filter(account=account)}
        state = {asset: [b.total, b.cost_basis, b.realized_pnl] for asset, b in balances.items()}
        state.setdefault("USDT", [Decimal(0), Decimal(0), Decimal(0)])
        first = Order.objects.filter(account=account).count()
        now = timezone.now()
        orders, fills, entries = [], [], []
        for number in range(count):
            symbol = symbols[number % len(symbols)]
            base = symbol.split("/")[0]
            held = state.setdefault(base, [Decimal(0), Decimal(0), Decimal(0)])
            step, tick = rules[symbol].qty_step, rules[symbol].price_tick
            last = current_ticker(symbol).last * Decimal(str(round(rng.uniform(0.9, 1.1), 4)))
            quantity = max(((Decimal(25) / last) / step).to_integral_value() * step, rules[symbol].min_qty)
            side = "sell" if rng.random() < 0.3 and held[0] >= quantity else "buy"
            price = ((last * (1 + slippage if side == "buy" else 1 - slippage)) / tick).to_integral_value() * tick
            value = money(price * quantity)
            fee = money(value * rules[symbol].taker_fee)
            when = now - timedelta(seconds=(count - number) * 1728)  # 200 days back, oldest first
            if side == "buy":
                held[1] = money((held[0] * held[1] + value + fee) / (held[0] + quantity))
                held[0] += quantity
                state["USDT"][0] -= value + fee
            else:
                held[2] = money(held[2] + value - fee - held[1] * quantity)
                held[0] -= quantity
                state["USDT"][0] += value - fee
            key = f"bench-{first + number}"
            orders.append(Order(
                user_id=account.user_id, account=account, client_order_id=key,
                request_fingerprint=hashlib.sha256(key.encode()).hexdigest(), symbol=symbol, base_asset=base,
                quote_asset="USDT", side=side, type="market", quantity=quantity, status="filled", execution="paper",
                filled_quantity=quantity, filled_quote=value, average_price=price, fee_total=fee, fee_asset="USDT",
                created_at=when, closed_at=when,
            ))  # fmt: skip
            fills.append(Fill(account=account, price=price, quantity=quantity, quote_quantity=value, fee=fee,
                              fee_asset="USDT", created_at=when))  # fmt: skip
            signed = quantity if side == "buy" else -quantity
            usdt_trade = -value if side == "buy" else value
            entries.append([(base, EntryKind.TRADE, signed), ("USDT", EntryKind.TRADE, usdt_trade),
                            ("USDT", EntryKind.FEE, -fee), when])  # fmt: skip
        Order.objects.bulk_create(orders, batch_size=2000)
        for order, fill in zip(orders, fills, strict=True):
            fill.order = order
        Fill.objects.bulk_create(fills, batch_size=2000)
        running = {asset: balance.total for asset, balance in balances.items()}
        rows = []
        for order, fill, (*moves, when) in zip(orders, fills, entries, strict=True):
            for asset, kind, amount in moves:
                running[asset] = running.get(asset, Decimal(0)) + amount
                rows.append(LedgerEntry(account=account, asset=asset, kind=kind, amount=amount,
                                        balance_after=running[asset], order=order, fill=fill,
                                        note=f"bench history, order {order.pk}", created_at=when))  # fmt: skip
        LedgerEntry.objects.bulk_create(rows, batch_size=5000)
        for asset, (total, cost_basis, realized) in state.items():
            if running.get(asset, total) != total:
                raise RuntimeError(f"{asset}: {running[asset]} != {total}")
            Balance.objects.update_or_create(
                account=account, asset=asset,
                defaults={"total": total, "cost_basis": cost_basis, "realized_pnl": realized},
            )  # fmt: skip


def token_for(user) -> str:
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(user).access_token)


def sql_of_portfolio(user) -> dict:
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}
    client.get("/api/v1/portfolio/", **headers)  # warm
    # Counted by an execute wrapper: CaptureQueriesContext slices `queries_log`, which the request's
    # own `request_started` clears, so it can count 0.
    queries = SqlTimer()
    with connection.execute_wrapper(queries):
        answer = client.get("/api/v1/portfolio/", **headers)
    if answer.status_code != 200:
        raise RuntimeError(f"/api/v1/portfolio/ answered {answer.status_code}: {answer.content[:300]!r}")
    body = answer.json()
    from rest_framework.renderers import JSONRenderer

    from trading.api.account_serializers import PortfolioSerializer
    from trading.selectors import portfolio_for

    times, parts = [], {"portfolio_for": [], "serializer": [], "json": []}
    for _ in range(20):  # the request, then its parts called directly, in turn (same machine load)
        started = time.perf_counter()
        client.get("/api/v1/portfolio/", **headers)
        times.append((time.perf_counter() - started) * 1000)
        t0 = time.perf_counter()
        portfolio = portfolio_for(user)
        t1 = time.perf_counter()
        data = PortfolioSerializer(portfolio).data
        t2 = time.perf_counter()
        JSONRenderer().render(data)
        t3 = time.perf_counter()
        parts["portfolio_for"].append((t1 - t0) * 1000)
        parts["serializer"].append((t2 - t1) * 1000)
        parts["json"].append((t3 - t2) * 1000)
    medians = {name: round(statistics.median(values), 2) for name, values in parts.items()}
    request_ms = round(statistics.median(times), 2)
    return {
        "sql_queries": queries.queries,
        "holdings": len(body.get("holdings", [])),
        "bytes": len(answer.content),
        "in_process_ms_median": request_ms,
        "parts_ms": {**medians, "rest_of_request": round(request_ms - sum(medians.values()), 2)},
    }


def wrk_case(url: str, headers: list[str], duration: int) -> dict:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only target 127.0.0.1")
    command = ["wrk", "-t2", "-c32", f"-d{duration}s", "--timeout", "10s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=duration + 30).stdout
    return parse_wrk_output(out)


def run_portfolio(args, env: dict[str, str]) -> dict:
    from django.contrib.auth import get_user_model

    from trading.services.accounts import paper_account_open

    ticker = LastTick()
    ticker.refresh()
    ticker.start()
    try:
        user, made = portfolio_trader(args.orders, args.through_service, args.label)
        print(f"portfolio trader: {made}", flush=True)
        small = get_user_model().objects.create_user(email=f"portfolio-small-{uuid.uuid4().hex[:10]}@bench.local")
        from cryptovault.actor import Actor

        paper_account_open(actor=Actor.for_command("trading_bench"), user=small)
        sql = {"busy": sql_of_portfolio(user), "one asset": sql_of_portfolio(small)}
        print(f"in-process: {sql}", flush=True)
        token = token_for(user)
        auth = [f"Authorization: Bearer {token}"]
        cases = {
            "bare drf": ("/bench/drf", []),
            "bare drf (jwt)": ("/bench/drf-auth", auth),
            "me (jwt)": ("/api/v1/me/", auth),
            "portfolio (jwt)": ("/api/v1/portfolio/", auth),
        }
        runs: dict[str, list[dict]] = {case: [] for case in cases}
        log = RESULTS / f"trading-portfolio-{args.label}-gunicorn.log"
        with server("gunicorn", env, log_path=log) as base:
            import urllib.request

            for case, (path, headers) in cases.items():  # every case answers 200 before any load
                request = urllib.request.Request(base + path, headers=dict(h.split(": ", 1) for h in headers))  # noqa: S310
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - 127.0.0.1 only
                    if answer.status != 200:
                        raise RuntimeError(f"{case}: {answer.status}")
            for _ in range(args.repeat):
                for case, (path, headers) in cases.items():
                    result = wrk_case(base + path, headers, args.duration)
                    result["load_avg"] = round(os.getloadavg()[0], 2)
                    runs[case].append(result)
                    print(f"{case:<16} {result['rps']:>8.1f} req/s  p50 {result['p50_ms']:>7.1f} ms  "
                          f"p99 {result['p99_ms']:>7.1f} ms  non-2xx {result['non2xx']}", flush=True)  # fmt: skip
    finally:
        ticker.stop.set()
        ticker.join(timeout=5)
    rows = []
    for case, results in runs.items():
        median = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
        rows.append({"case": case, **median, "rps_all": [r["rps"] for r in results],
                     "errors_all": [r["non2xx"] + r["socket_errors"] for r in results]})  # fmt: skip
    by_case = {row["case"]: row for row in rows}
    ratio = round(by_case["portfolio (jwt)"]["rps"] / by_case["bare drf"]["rps"], 3)
    ratio_authenticated = round(by_case["portfolio (jwt)"]["rps"] / by_case["bare drf (jwt)"]["rps"], 3)
    print(f"portfolio / bare DRF: {ratio}; portfolio / bare DRF behind the same JWT: {ratio_authenticated}", flush=True)
    return {
        "trader": made,
        "in_process": sql,
        "rows": rows,
        "portfolio_over_bare": ratio,
        "portfolio_over_authenticated_bare": ratio_authenticated,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["orders", "portfolio"])
    parser.add_argument(
        "--orders", type=int, default=None, help="orders: per phase (800); portfolio: the trader's (10,000)"
    )
    parser.add_argument("--threads", type=int, default=8, help="orders: threads of the concurrent phases")
    parser.add_argument("--parts", type=int, default=100, help="orders: orders timed part by part (one thread)")
    parser.add_argument("--through-service", type=int, default=400, help="portfolio: orders placed by order_place")
    parser.add_argument("--duration", type=int, default=10, help="portfolio: seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=3, help="portfolio: interleaved wrk runs per case")
    parser.add_argument("--label", default="full")
    args = parser.parse_args(argv)
    if args.orders is None:
        args.orders = 800 if args.command == "orders" else PORTFOLIO_ORDERS
    args.orders = max(args.threads, min(args.orders, 20_000))
    args.threads = max(1, min(args.threads, 16))

    env = trading_env()
    RESULTS.mkdir(exist_ok=True)
    ensure_database()
    django_setup(env)
    from django.db import connection

    load_before = os.getloadavg()
    started = time.perf_counter()
    result = run_orders(args) if args.command == "orders" else run_portfolio(args, env)
    document = {
        "label": args.label,
        "command": args.command,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "database": connection.settings_dict["NAME"],
        "postgres": connection.cursor().connection.info.server_version,
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - started, 1),
        **result,
    }
    (RESULTS / f"trading-{args.command}-{args.label}.json").write_text(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
