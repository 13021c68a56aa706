"""Stored OHLCV candles: reading ranges (aggregated to the timeframe asked), and importing them.

Reads are the hot path (the chart and the candles API ask for up to MARKET_MAX_CANDLES bars), so they
never build model instances: one indexed range query returns (unix seconds, floats) tuples computed
in the database, and aggregation is numpy over whole columns (`reduceat` per bucket), linear in the
rows read. A timeframe is served from its own stored candles, else aggregated from the coarsest
stored timeframe that divides it (1w from 1d rather than from 1h: fewer rows, longer history); weeks
open on Monday 00:00 UTC, as Binance's do.

Imports (CSV files in the shared-data layouts, ccxt's `fetch_ohlcv`, the shipped fixture) insert in
batches with `ignore_conflicts`, so running one twice changes nothing, and return how many candles
were new. A candle that may still have been open when recorded is never stored: it would stay
frozen half-formed, since a conflicting row is never updated.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import chain
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import FloatField, Func, IntegerField
from django.db.models.functions import Cast

from cryptovault.errors import DomainError
from exchanges.catalogue import exchange_spec
from exchanges.client import exchange_client
from exchanges.market.data import (
    CREDIT,
    DATA_DIR,
    FIXTURE_EXCHANGE,
    CsvCandle,
    CsvFormatError,
    fixture_files,
    read_candles,
)
from exchanges.market.symbols import market_symbols, parse_symbol
from exchanges.market.timeframes import SECONDS
from exchanges.models import Candle

TIMEFRAMES = ("5m", "15m", "1h", "4h", "1d", "1w")
# What may be stored (what exchanges serve, `timeframes.SECONDS`); the six above are what we serve.
WEEK_OFFSET = 4 * 86_400  # 1970-01-01 was a Thursday; weeks open on Monday 1970-01-05
DEFAULT_BARS = 500  # without start or days: the latest bars
BATCH = 5_000
CCXT_PAGE = 1_000


class CandleImportFailed(DomainError):
    status_code = 503
    code = "exchange_unavailable"


@dataclass(frozen=True, slots=True)
class Bar:
    time: int  # open time, unix seconds (UTC)
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class CandleSeries:
    symbol: str
    timeframe: str
    bars: list[Bar]
    source: str  # the exchange that recorded them ("binance")
    source_label: str  # "Binance spot market data, 1w candles aggregated from 1d"

    def closes(self) -> np.ndarray:
        return np.fromiter((bar.close for bar in self.bars), dtype=np.float64, count=len(self.bars))


@dataclass(frozen=True)
class Progress:
    """One step of an import, printed by the command as "[3/20] ETH/USDT 4h: 4,380 candles"."""

    step: int
    steps: int
    symbol: str
    timeframe: str
    candles: int  # read so far for this symbol and timeframe
    new: int | None = None  # inserted, when known

    def __str__(self) -> str:
        new = f" ({self.new:,} new)" if self.new is not None else ""
        return f"[{self.step}/{self.steps}] {self.symbol} {self.timeframe}: {self.candles:,} candles{new}"


OnProgress = Callable[[Progress], None] | None


class UnixSeconds(Func):
    """A datetime column as integer unix seconds, computed by the database (no datetime objects)."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        # %%%% survives the template's own formatting as %%, which the SQLite cursor turns into one %
        template = "CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS BIGINT)"
        return self.as_sql(compiler, connection, template=template, **extra)


# Time arithmetic -------------------------------------------------------------------------------


def bucket_start(moment: int, timeframe: str) -> int:
    """The open time of the `timeframe` candle holding `moment` (weeks: the Monday)."""
    step = SECONDS[timeframe]
    offset = WEEK_OFFSET if timeframe == "1w" else 0
    return moment - (moment - offset) % step


def _ceil_bucket(moment: int, timeframe: str) -> int:
    start = bucket_start(moment, timeframe)
    return start if start == moment else start + SECONDS[timeframe]


def _unix(moment: datetime | date) -> int:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _utc(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def _duration(seconds: int) -> str:
    for name, step in sorted(SECONDS.items(), key=lambda item: -item[1]):
        if seconds == step:
            return name
    return f"{seconds:,} s"


# Aggregation -----------------------------------------------------------------------------------


def _aggregate_columns(columns: np.ndarray, timeframe: str) -> np.ndarray:
    """Rows (time, open, high, low, close, volume), sorted by time, into `timeframe` buckets:
    open of the first, max of highs, min of lows, close of the last, sum of volumes."""
    if len(columns) == 0:
        return columns
    times = columns[:, 0].astype(np.int64)
    offset = WEEK_OFFSET if timeframe == "1w" else 0
    step = SECONDS[timeframe]
    buckets = times - (times - offset) % step
    starts = np.concatenate(([0], np.flatnonzero(np.diff(buckets)) + 1))
    ends = np.concatenate((starts[1:], [len(columns)])) - 1
    out = np.empty((len(starts), 6), dtype=np.float64)
    out[:, 0] = buckets[starts]
    out[:, 1] = columns[starts, 1]
    out[:, 2] = np.maximum.reduceat(columns[:, 2], starts)
    out[:, 3] = np.minimum.reduceat(columns[:, 3], starts)
    out[:, 4] = columns[ends, 4]
    out[:, 5] = np.add.reduceat(columns[:, 5], starts)
    return out


def _bars(rows: np.ndarray | Sequence[Sequence[float]]) -> list[Bar]:
    if isinstance(rows, np.ndarray):
        rows = rows.tolist()
    return [Bar(int(t), o, h, lo, c, v) for t, o, h, lo, c, v in rows]


def aggregate(bars: Sequence[Bar], timeframe: str) -> list[Bar]:
    """Bars (oldest first) into `timeframe` bars; a bucket is as complete as the bars given for it."""
    if timeframe not in SECONDS:
        raise ValidationError({"timeframe": f"Unknown timeframe {timeframe!r}."})
    columns = np.array([(b.time, b.open, b.high, b.low, b.close, b.volume) for b in bars], dtype=np.float64)
    return _bars(_aggregate_columns(columns.reshape(-1, 6), timeframe))


# Reading ---------------------------------------------------------------------------------------


def _stored(exchange: str, symbol: str, timeframe: str):
    return Candle.objects.filter(exchange=exchange, symbol=symbol, timeframe=timeframe)


def _stored_timeframes(exchanges: list[str], symbol: str) -> set[tuple[str, str]]:
    """(exchange, timeframe) pairs stored for `symbol`: one query, where asking per pair took up to 24."""
    return set(
        Candle.objects.filter(exchange__in=exchanges, symbol=symbol).values_list("exchange", "timeframe").distinct()
    )


def served_timeframes(symbol: str) -> dict[str, str | None]:
    """Each chart timeframe and a stored timeframe that can draw it (itself, or a finer one that divides it, as
    `candles_for` aggregates), None when nothing fine enough is stored (the chart disables that button)."""
    stored = {tf for _exchange, tf in _stored_timeframes([settings.MARKET_DATA_EXCHANGE, FIXTURE_EXCHANGE], symbol)}
    finest_first = sorted((tf for tf in stored if tf in SECONDS), key=SECONDS.get)
    return {
        timeframe: next((tf for tf in finest_first if SECONDS[timeframe] % SECONDS[tf] == 0), None)
        for timeframe in TIMEFRAMES
    }


def _sources(exchanges: list[str], stored: set[tuple[str, str]], timeframe: str) -> list[tuple[str, str]]:
    """(exchange, stored timeframe) that can serve `timeframe`, best first: the exchange asked for,
    then the coarsest timeframe that divides the one asked for."""
    target = SECONDS[timeframe]
    dividing = [tf for tf, step in SECONDS.items() if step <= target and target % step == 0]  # finest first
    return [(exchange, tf) for exchange in exchanges for tf in reversed(dividing) if (exchange, tf) in stored]


def _nothing_to_serve(stored: set[tuple[str, str]], symbol: str) -> ValidationError:
    timeframes = [tf for _exchange, tf in stored if tf in SECONDS]
    if not timeframes:
        return ValidationError(
            {"symbol": f"No candles are stored for {symbol} yet (manage.py import_candles --offline loads them)."}
        )
    finest = min(timeframes, key=SECONDS.__getitem__)
    return ValidationError(
        {"timeframe": f"The finest candles stored for {symbol} are {finest}: ask for {finest} or longer."}
    )


def _rows(queryset) -> list[tuple]:
    """The query's rows as the driver returns them, in one fetch: the values are already plain ints and
    floats, so Django's per-row converters and its 100-row fetches would only add time (a third of it
    for 50,000 rows)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _label(exchange: str, timeframe: str, stored_as: str) -> str:
    try:
        name = exchange_spec(exchange).name
    except DomainError:
        name = exchange
    made = f"{timeframe} candles" if stored_as == timeframe else f"{timeframe} candles aggregated from {stored_as}"
    if exchange == FIXTURE_EXCHANGE:
        return f"{CREDIT}, {made}"
    return f"{name} spot market data, {made}"


def _checked_input(
    timeframe: str, start: datetime | None, end: datetime | None, days: int | None
) -> tuple[int | None, int | None]:
    errors: dict[str, str] = {}
    if timeframe not in TIMEFRAMES:
        errors["timeframe"] = f"Unknown timeframe {str(timeframe)[:16]!r}: use one of {', '.join(TIMEFRAMES)}."
    if days is not None:
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            errors["days"] = "Give a whole number of days, 1 or more."
        elif start is not None:
            errors["days"] = "Give either days or a start, not both."
    start_s = _unix(start) if start is not None else None
    end_s = _unix(end) if end is not None else None
    if start_s is not None and end_s is not None and start_s > end_s:
        errors["start"] = "The start is after the end."
    if errors:
        raise ValidationError(errors)
    return start_s, end_s


def candles_for(
    *,
    symbol: str,
    timeframe: str,
    start: datetime | None = None,
    end: datetime | None = None,
    days: int | None = None,
    exchange: str | None = None,
) -> CandleSeries:
    """Bars of `symbol` opening within [start, end], oldest first.

    Without `end` the range ends with the latest stored candle (the shipped data is not today's, and
    a chart should still show it); `days` counts back from the end; with neither start nor days, the
    latest DEFAULT_BARS bars. More than MARKET_MAX_CANDLES bars, an unknown timeframe, start after end,
    or a timeframe finer than anything stored is a ValidationError naming the field.
    """
    symbol = parse_symbol(symbol)
    start_s, end_s = _checked_input(timeframe, start, end, days)
    exchanges = [exchange] if exchange else list(dict.fromkeys([settings.MARKET_DATA_EXCHANGE, FIXTURE_EXCHANGE]))
    stored = _stored_timeframes(exchanges, symbol)
    sources = _sources(exchanges, stored, timeframe)
    if not sources:
        raise _nothing_to_serve(stored, symbol)
    step = SECONDS[timeframe]

    if end_s is not None:
        stop = end_s + 1  # the end is inclusive
    else:
        source_exchange, source_tf = sources[0]
        latest = (
            _stored(source_exchange, symbol, source_tf)
            .order_by("-open_time")
            .values_list(UnixSeconds("open_time"), flat=True)[0]
        )
        stop = latest + SECONDS[source_tf]
    last_bar = bucket_start(stop - 1, timeframe)
    if days is not None:
        first_bar = _ceil_bucket(stop - days * 86_400, timeframe)
    elif start_s is not None:
        first_bar = _ceil_bucket(start_s, timeframe)
    else:
        first_bar = last_bar - (min(DEFAULT_BARS, settings.MARKET_MAX_CANDLES) - 1) * step
    count = (last_bar - first_bar) // step + 1
    if count > settings.MARKET_MAX_CANDLES:
        field = "days" if days is not None else "start"
        raise ValidationError(
            {
                field: f"That range holds {count:,} {timeframe} candles; one request may ask for at most "
                f"{settings.MARKET_MAX_CANDLES:,}: shorten it or pick a longer timeframe."
            }
        )

    for source_exchange, source_tf in sources:
        rows = _rows(
            _stored(source_exchange, symbol, source_tf)
            .filter(open_time__gte=_utc(first_bar), open_time__lt=_utc(last_bar + step))
            .order_by("open_time")
            .values_list(
                UnixSeconds("open_time"),
                *(Cast(name, FloatField()) for name in ("open", "high", "low", "close", "volume")),
            )
        )
        if rows or (source_exchange, source_tf) == sources[-1]:
            break
    if source_tf == timeframe:
        bars = _bars(rows)
    else:
        columns = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=6 * len(rows)).reshape(-1, 6)
        bars = _bars(_aggregate_columns(columns, timeframe))
    return CandleSeries(symbol, timeframe, bars, source_exchange, _label(source_exchange, timeframe, source_tf))


# Importing -------------------------------------------------------------------------------------


def _checked_timeframe(timeframe: str) -> str:
    if timeframe not in SECONDS:
        known = ", ".join(SECONDS)
        raise ValidationError({"timeframe": f"Unknown timeframe {str(timeframe)[:16]!r}: use one of {known}."})
    return timeframe


def _count(exchange: str, symbol: str, timeframe: str, first: int, last: int) -> int:
    return _stored(exchange, symbol, timeframe).filter(open_time__gte=_utc(first), open_time__lte=_utc(last)).count()


def _insert_sql() -> str:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike): what bulk_create(ignore_conflicts=True)
    sends, without building a model instance and preparing each field through the ORM, which cost
    about 80% of an import (69,333 fixture candles: about 8 s through bulk_create, 1.5 s this way)."""
    quote = connection.ops.quote_name
    columns = ("exchange", "symbol", "timeframe", "open_time", "open", "high", "low", "close", "volume")
    return (
        f"INSERT INTO {quote(Candle._meta.db_table)} ({', '.join(quote(name) for name in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING"
    )


def _store(
    rows: Sequence[CsvCandle],
    *,
    exchange: str,
    symbol: str,
    timeframe: str,
    on_progress: OnProgress,
    step: int = 1,
    steps: int = 1,
) -> int:
    """Insert the rows (skipping those already stored) in batches of BATCH, each in one transaction;
    the number that were new. Values are adapted as the model's fields would store them."""
    if not rows:
        return 0
    first, last = rows[0].time, rows[-1].time
    before = _count(exchange, symbol, timeframe, first, last)
    sql, adapt_time = _insert_sql(), connection.ops.adapt_datetimefield_value
    for offset in range(0, len(rows), BATCH):
        batch = rows[offset : offset + BATCH]
        values = [
            (
                exchange,
                symbol,
                timeframe,
                adapt_time(_utc(row.time)),
                Decimal(row.open),
                Decimal(row.high),
                Decimal(row.low),
                Decimal(row.close),
                Decimal(row.volume),
            )
            for row in batch
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, values)
        done = offset + len(batch)
        if on_progress is not None and done < len(rows):
            on_progress(Progress(step, steps, symbol, timeframe, done))
    return _count(exchange, symbol, timeframe, first, last) - before


def _check_spacing(rows: Sequence[CsvCandle], timeframe: str) -> None:
    """Refuse a file whose candles are not `timeframe` apart (a daily file imported as 4h)."""
    gaps = np.diff(np.fromiter((row.time for row in rows), dtype=np.int64, count=len(rows)))
    if len(gaps) == 0:
        return
    if (gaps <= 0).any():
        raise ValidationError({"path": "The file's open times are not in increasing order."})
    values, counts = np.unique(gaps, return_counts=True)
    usual = int(values[counts.argmax()])
    if usual != SECONDS[timeframe]:
        raise ValidationError({"timeframe": f"The file's candles are {_duration(usual)} apart, not {timeframe}."})


def import_candles_csv(
    *, path: str | Path, symbol: str, timeframe: str, exchange: str = FIXTURE_EXCHANGE, on_progress: OnProgress = None
) -> int:
    """Import a CSV in the shared-data layouts (gzip or plain), without its last, possibly open, row.
    Returns the number of new candles."""
    symbol, timeframe, path = parse_symbol(symbol), _checked_timeframe(timeframe), Path(path)
    if not path.is_file():
        raise ValidationError({"path": f"No such file: {path}."})
    try:
        rows = list(read_candles(path))[:-1]
    except CsvFormatError as error:
        raise ValidationError({"path": f"{path.name}: {error}"}) from None
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ValidationError({"path": f"{path.name} cannot be read ({type(error).__name__})."}) from None
    tickers = {row.ticker for row in rows if row.ticker}
    if tickers - {symbol.replace("/", "")}:
        raise ValidationError({"symbol": f"The file holds {', '.join(sorted(tickers))} candles, not {symbol}."})
    _check_spacing(rows, timeframe)
    steps = max(1, math.ceil(len(rows) / BATCH))
    new = _store(rows, exchange=exchange, symbol=symbol, timeframe=timeframe, on_progress=on_progress, steps=steps)
    if on_progress is not None:
        on_progress(Progress(steps, steps, symbol, timeframe, len(rows), new))
    return new


def import_candles_ccxt(
    *,
    symbol: str,
    timeframe: str,
    since: datetime | date,
    until: datetime | date | None = None,
    exchange: str | None = None,
    on_progress: OnProgress = None,
) -> int:
    """Page through ccxt's `fetch_ohlcv` (public, no keys) from `since` to `until` (inclusive, default
    now), CCXT_PAGE candles a request; candles still open are left out. Returns the number of new ones."""
    symbol, timeframe = parse_symbol(symbol), _checked_timeframe(timeframe)
    spec = exchange_spec(exchange or settings.MARKET_DATA_EXCHANGE)
    now_s = int(time.time())
    since_s = _unix(since)
    until_s = min(_unix(until), now_s) if until is not None else now_s
    if since_s > until_s:
        field = "since" if until is None else "until"
        raise ValidationError({field: "The start of the import is after its end (or in the future)."})
    client = exchange_client(spec)
    if client.timeframes and timeframe not in client.timeframes:
        raise ValidationError({"timeframe": f"{spec.name} has no {timeframe} candles."})
    step_s = SECONDS[timeframe]
    steps = max(1, math.ceil((until_s - since_s + 1) / step_s / CCXT_PAGE))
    cursor, read, new, page_number = since_s, 0, 0, 0
    while cursor <= until_s:
        try:
            page = client.fetch_ohlcv(symbol, timeframe, since=cursor * 1000, limit=CCXT_PAGE)
        except Exception as error:
            raise CandleImportFailed(
                f"{spec.name} did not answer the candle request ({type(error).__name__}); {new:,} new candles were "
                "stored before that. Run the import again later: it resumes without duplicates."
            ) from error
        rows = [
            CsvCandle(int(ms // 1000), *(repr(float(value)) for value in values[:5]))
            for ms, *values in page
            if since_s <= ms // 1000 <= until_s and ms // 1000 + step_s <= now_s
        ]
        page_number += 1
        new += _store(rows, exchange=spec.id, symbol=symbol, timeframe=timeframe, on_progress=None)
        read += len(rows)
        if on_progress is not None:
            on_progress(Progress(min(page_number, steps), max(steps, page_number), symbol, timeframe, read, new))
        if not page or page[-1][0] // 1000 + step_s <= cursor:
            break
        cursor = page[-1][0] // 1000 + step_s
    return new


def load_offline_candles(on_progress: OnProgress = None) -> int:
    """Load the shipped fixture (daily since listing, 4h for two years) for the MARKET_SYMBOLS it
    has. Idempotent and cheap when already loaded: a file whose candles are all stored is skipped
    after one count. Returns the number of new candles."""
    followed = set(market_symbols())
    entries = [entry for entry in fixture_files() if entry["symbol"] in followed]
    new = 0
    for step, entry in enumerate(entries, start=1):
        symbol, timeframe = entry["symbol"], entry["timeframe"]
        added = 0
        if _count(FIXTURE_EXCHANGE, symbol, timeframe, entry["first"], entry["last"]) < entry["rows"]:
            rows = list(read_candles(DATA_DIR / entry["path"]))
            added = _store(rows, exchange=FIXTURE_EXCHANGE, symbol=symbol, timeframe=timeframe, on_progress=None)
        new += added
        if on_progress is not None:
            on_progress(Progress(step, len(entries), symbol, timeframe, entry["rows"], added))
    return new
