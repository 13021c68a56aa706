"""The candles a backtest reads: six aligned numpy columns, oldest first.

Times are int64 milliseconds since the epoch (UTC, the candle's open), the unit exchanges and
charting libraries use; prices and volumes are float64. Two sources:

- `load_candles(symbol, timeframe, start, end)`: the stored `Candle` rows through
  `exchanges.market.candles.candles_for` (the same reads, aggregation and errors as the market pages),
  paged so a backtest may cover more than one request's MARKET_MAX_CANDLES;
- `from_csv(path)`: a file in the ../shared/data layouts (gzip or plain), without its last row, which may
  be a candle still open when it was recorded. Benchmarks and the backtrader comparison read these.

Nothing here is Decimal: the engine is float arithmetic end to end, and converts at its boundary.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from django.core.exceptions import ValidationError

from exchanges.market.timeframes import SECONDS


@dataclass(frozen=True, eq=False)
class Candles:
    """OHLCV columns of equal length; `time` in UTC milliseconds at each candle's open."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    symbol: str = ""
    timeframe: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", np.ascontiguousarray(self.time, dtype=np.int64))
        for name in ("open", "high", "low", "close", "volume"):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float64))
        lengths = {len(getattr(self, name)) for name in ("time", "open", "high", "low", "close", "volume")}
        if len(lengths) != 1:
            raise ValueError("candle columns must all have the same length")

    def __len__(self) -> int:
        return len(self.time)

    def __getitem__(self, index: slice) -> Candles:
        """A contiguous slice (views, no copy)."""
        if not isinstance(index, slice):
            raise TypeError("Candles take a slice")
        return Candles(
            self.time[index],
            self.open[index],
            self.high[index],
            self.low[index],
            self.close[index],
            self.volume[index],
            self.symbol,
            self.timeframe,
        )

    def between(self, start_ms: int | None = None, end_ms: int | None = None) -> Candles:
        """The candles opening within [start_ms, end_ms] (both inclusive)."""
        first = 0 if start_ms is None else int(np.searchsorted(self.time, start_ms, side="left"))
        last = len(self) if end_ms is None else int(np.searchsorted(self.time, end_ms, side="right"))
        return self[first:last]

    @property
    def bar_seconds(self) -> int | None:
        """The timeframe in seconds: the named one, else the usual spacing of the candles."""
        if self.timeframe in SECONDS:
            return SECONDS[self.timeframe]
        if len(self) < 2:
            return None
        gaps, counts = np.unique(np.diff(self.time), return_counts=True)
        return int(gaps[counts.argmax()]) // 1000

    @property
    def periods_per_year(self) -> int:
        """Bars in a 365-day year (crypto never closes): 365 for daily candles, 8,760 for hourly."""
        seconds = self.bar_seconds or 86_400
        return max(1, round(365 * 86_400 / seconds))


def _ms(moment: datetime | date | int | None) -> int | None:
    if moment is None or isinstance(moment, int):
        return moment
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _numpy_times(texts: np.ndarray) -> np.ndarray:
    """'2024-01-06' or '2024-01-06 12:00:00' (UTC) -> int64 ms."""
    stamps = np.array([text.strip().replace(" ", "T") for text in texts], dtype="datetime64[ms]")
    return stamps.astype(np.int64)


def from_csv(
    path: str | Path,
    *,
    symbol: str = "",
    timeframe: str = "",
    start: datetime | date | int | None = None,
    end: datetime | date | int | None = None,
    drop_last: bool = True,
) -> Candles:
    """A candle CSV of ../shared/data (`timestamp,open,high,low,close,volume` or `date,...,volume,ticker`),
    gzip or plain, optionally cut to [start, end] (datetimes, dates or UTC ms, inclusive). Its last row is
    dropped unless `drop_last=False`: the shared data's last candle may still have been open.

    Symbol and timeframe default to what the file name says (`BTCUSDT_1h[_anything].csv.gz` -> BTC/USDT, 1h)."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = io.StringIO(raw.decode("utf-8"))
    header = [name.strip().lower() for name in text.readline().split(",")]
    if header[:1] not in (["timestamp"], ["date"]) or header[1:6] != ["open", "high", "low", "close", "volume"]:
        raise ValueError(f"{path.name}: not a candle CSV (columns {','.join(header)[:80]!r})")
    columns = np.loadtxt(text, delimiter=",", dtype=str, usecols=range(6), ndmin=2)
    if drop_last and len(columns):
        columns = columns[:-1]
    ticker, *rest = path.name.split(".")[0].split("_")
    if not symbol and ticker.endswith("USDT") and len(ticker) > 4:
        symbol = f"{ticker[:-4]}/USDT"
    if not timeframe and rest and rest[0] in SECONDS:
        timeframe = rest[0]
    numbers = columns[:, 1:6].astype(np.float64)
    candles = Candles(
        _numpy_times(columns[:, 0]),
        numbers[:, 0],
        numbers[:, 1],
        numbers[:, 2],
        numbers[:, 3],
        numbers[:, 4],
        symbol,
        timeframe,
    )
    return candles.between(_ms(start), _ms(end))


def load_candles(
    symbol: str,
    timeframe: str,
    start: datetime | date,
    end: datetime | date,
    *,
    exchange: str | None = None,
) -> Candles:
    """The stored candles of `symbol` opening within [start, end], as `candles_for` serves them (the
    timeframe's own rows, or aggregated from a finer stored one), read in pages of MARKET_MAX_CANDLES bars.

    A range holding no candle is a ValidationError on `start`, as are the errors `candles_for` raises
    (unknown timeframe or symbol, start after end, nothing fine enough stored) on their own fields.
    """
    from django.conf import settings

    from exchanges.market.candles import candles_for

    if timeframe not in SECONDS:
        raise ValidationError({"timeframe": f"Unknown timeframe {str(timeframe)[:16]!r}."})
    start_ms, end_ms = _ms(start), _ms(end)
    if start_ms is None or end_ms is None or start_ms > end_ms:
        raise ValidationError({"start": "The start must be before the end."})
    page_ms = (settings.MARKET_MAX_CANDLES - 1) * SECONDS[timeframe] * 1000
    rows: list = []
    cursor = start_ms
    while cursor <= end_ms:
        page_end = min(end_ms, cursor + page_ms)
        series = candles_for(
            symbol=symbol,
            timeframe=timeframe,
            start=datetime.fromtimestamp(cursor / 1000, UTC),
            end=datetime.fromtimestamp(page_end / 1000, UTC),
            exchange=exchange,
        )
        rows.extend(series.bars)
        cursor = page_end + 1000  # candles_for reads whole seconds
    if not rows:
        raise ValidationError(
            {"start": f"No {timeframe} candles of {symbol} are stored between {_iso(start_ms)} and {_iso(end_ms)}."}
        )
    table = np.array([(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume) for bar in rows])
    times = table[:, 0].astype(np.int64) * 1000
    keep = np.concatenate(([True], np.diff(times) > 0))  # a page boundary never repeats a bar, but be sure
    table, times = table[keep], times[keep]
    return Candles(times, table[:, 1], table[:, 2], table[:, 3], table[:, 4], table[:, 5], series.symbol, timeframe)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
