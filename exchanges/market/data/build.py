"""Derive the shipped offline fixture from the shared Binance candles (../shared/data).

The project must run from a fresh clone (the offline demo, CI) where the shared folder is absent, so
it ships a compact copy: every complete daily candle of the ten majors since listing, and the last
`FOUR_HOUR_DAYS` days of complete 4h candles (what the replay plays). Files keep the shared layout
(`timestamp,open,high,low,close,volume`, UTC, values exactly as recorded) without the last row, which
may have been a candle still open when it was recorded. The gzip streams carry no time stamp, so an
unchanged source gives byte-identical files. Run it again only to refresh the fixture:

    .venv/bin/python -m exchanges.market.data.build /work/shared/data

Source: "Binance spot market data" (see the shared folder's README).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from exchanges.market.data import CREDIT, DATA_DIR, FIXTURE_EXCHANGE, FIXTURE_TIMEFRAMES, fixture_path, read_candles

SYMBOLS = [f"{base}/USDT" for base in ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK")]
FOUR_HOUR_DAYS = 730
DAY = 86_400


def _stamp(unix: int, timeframe: str) -> str:
    moment = datetime.fromtimestamp(unix, UTC)
    return f"{moment:%Y-%m-%d}" if timeframe == "1d" else f"{moment:%Y-%m-%d %H:%M:%S}"


def build_file(source: Path, symbol: str, timeframe: str) -> dict:
    rows = list(read_candles(source))[:-1]  # the last row may still have been open when recorded
    if timeframe == "4h":
        cutoff = rows[-1].time - FOUR_HOUR_DAYS * DAY
        rows = [row for row in rows if row.time > cutoff]
    times = [row.time for row in rows]
    if times != sorted(set(times)):
        raise SystemExit(f"{source}: open times are not strictly increasing")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["timestamp", "open", "high", "low", "close", "volume"])
    for row in rows:
        writer.writerow([_stamp(row.time, timeframe), row.open, row.high, row.low, row.close, row.volume])
    target = fixture_path(symbol, timeframe)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(text.getvalue().encode())
    return {
        "path": str(target.relative_to(DATA_DIR)),
        "symbol": symbol,
        "timeframe": timeframe,
        "rows": len(rows),
        "first": times[0],
        "last": times[-1],
    }


def build(shared: Path) -> dict:
    files = []
    for timeframe in FIXTURE_TIMEFRAMES:
        for symbol in SYMBOLS:
            source = shared / f"{FIXTURE_EXCHANGE}-{timeframe}" / f"{symbol.replace('/', '')}_{timeframe}.csv.gz"
            if not source.exists():
                raise SystemExit(f"missing {source}")
            files.append(build_file(source, symbol, timeframe))
            print(f"{files[-1]['path']}: {files[-1]['rows']:,} candles")
    manifest = {
        "source": f"{CREDIT} (UTC open times, quote USDT), derived from ../shared/data by build.py",
        "exchange": FIXTURE_EXCHANGE,
        "columns": ["timestamp", "open", "high", "low", "close", "volume"],
        "files": files,
    }
    (DATA_DIR / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str]) -> None:
    shared = Path(argv[1] if len(argv) > 1 else "/work/shared/data")
    manifest = build(shared)
    total = sum(entry["rows"] for entry in manifest["files"])
    size = sum((DATA_DIR / entry["path"]).stat().st_size for entry in manifest["files"])
    print(f"{len(manifest['files'])} files, {total:,} candles, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(sys.argv)
