"""The candle CSV formats we read, and the compact offline fixture shipped beside this module.

The fixture (see README.md here) is real "Binance spot market data": daily candles of the ten majors
since each listing and the last two years of 4h candles, derived from ../shared/data by `build.py`.
It ships with the project so the offline replay, the demo and the tests never need that folder.

Two layouts exist in the shared data, both gzip (or plain) CSV with UTC open times:
- binance-1d / binance-4h: `timestamp,open,high,low,close,volume` ("2024-01-06" or "2024-01-06 12:00:00");
- binance-1h: `date,open,high,low,close,volume,ticker` ("2021-04-04 21:00:00", ticker "BTCUSDT").
The fixture uses the first layout, already without the last (possibly still open) candle.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import IO

DATA_DIR = Path(__file__).resolve().parent
FIXTURE_EXCHANGE = "binance"
FIXTURE_TIMEFRAMES = ("1d", "4h")
CREDIT = "Binance spot market data"


class CsvFormatError(ValueError):
    """The file is not one of the candle layouts above (the message says what is wrong, and where)."""


@dataclass(frozen=True, slots=True)
class CsvCandle:
    time: int  # open time, unix seconds (UTC)
    open: str
    high: str
    low: str
    close: str
    volume: str
    ticker: str = ""  # the 1h layout's "BTCUSDT", else empty


def _open_text(path: Path) -> IO[str]:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    if gzipped:
        return gzip.open(path, "rt", newline="", encoding="utf-8")
    return path.open("r", newline="", encoding="utf-8")


def _unix(text: str, line: int) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CsvFormatError(f"line {line}: {text[:40]!r} is not a date or date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def read_candles(path: Path | str) -> Iterator[CsvCandle]:
    """Every row of a candle CSV in file order (the caller drops the last one where it may be open)."""
    path = Path(path)
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
        if header[:1] not in (["timestamp"], ["date"]) or header[1:6] != ["open", "high", "low", "close", "volume"]:
            raise CsvFormatError(
                "expected the columns timestamp,open,high,low,close,volume (or date,...,volume,ticker), "
                f"got {','.join(header)[:80]!r}"
            )
        has_ticker = len(header) > 6 and header[6] == "ticker"
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < 6:
                raise CsvFormatError(f"line {line}: expected at least 6 columns, got {len(row)}")
            for value in row[1:6]:
                try:
                    float(value)
                except ValueError:
                    raise CsvFormatError(f"line {line}: {value[:40]!r} is not a number") from None
            ticker = row[6] if has_ticker and len(row) > 6 else ""
            yield CsvCandle(_unix(row[0], line), row[1], row[2], row[3], row[4], row[5], ticker)


def fixture_path(symbol: str, timeframe: str) -> Path:
    """`BTC/USDT`, `4h` -> data/binance-4h/BTCUSDT_4h.csv.gz (the shared data's own names)."""
    return DATA_DIR / f"{FIXTURE_EXCHANGE}-{timeframe}" / f"{symbol.replace('/', '')}_{timeframe}.csv.gz"


@cache
def manifest() -> dict:
    """What `build.py` wrote: per file its symbol, timeframe, rows and first and last open times."""
    return json.loads((DATA_DIR / "manifest.json").read_text())


def fixture_files() -> list[dict]:
    """The manifest's entries, daily first (the long history), then 4h."""
    return list(manifest()["files"])
