"""Write `candles.json`, the emulator's market snapshot, from the shared Binance daily candles.

The emulator must run from a fresh clone (the offline demo, CI), where the shared data folder is
absent, so it reads a small committed snapshot instead: the last `DAYS` complete daily candles of
each USDT pair. The last close is the emulator's price. Run this again only to refresh the
snapshot (the output is deterministic, so an unchanged source gives an unchanged file):

    .venv/bin/python -m exchanges.emulator.snapshot /work/shared/data/binance-1d

Source: "Binance spot market data", real candles recorded by the exchange (see the data folder's
README). Each file's last row may be a candle that was still open when recorded; it is dropped.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

DAYS = 30
SNAPSHOT_PATH = Path(__file__).with_name("candles.json")


def _daily_candles(csv_gz: Path) -> list[list]:
    with gzip.open(csv_gz, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    complete = rows[:-1]  # the last row may still have been open when recorded
    candles = []
    for row in complete[-DAYS:]:
        opened = datetime.strptime(row["timestamp"], "%Y-%m-%d").replace(tzinfo=UTC)
        candles.append(
            [int(opened.timestamp() * 1000), row["open"], row["high"], row["low"], row["close"], row["volume"]]
        )
    return candles


def build_snapshot(data_dir: Path) -> dict:
    candles = {}
    for csv_gz in sorted(data_dir.glob("*USDT_1d.csv.gz")):
        base = csv_gz.name.removesuffix("USDT_1d.csv.gz")
        candles[base] = _daily_candles(csv_gz)
    if not candles:
        raise SystemExit(f"No *USDT_1d.csv.gz files in {data_dir}")
    return {
        "source": "Binance spot market data (daily candles, UTC, quote USDT)",
        "columns": ["open_time_ms", "open", "high", "low", "close", "volume"],
        "candles": candles,
    }


def main(argv: list[str]) -> None:
    data_dir = Path(argv[1] if len(argv) > 1 else "/work/shared/data/binance-1d")
    snapshot = build_snapshot(data_dir)
    SNAPSHOT_PATH.write_text(json.dumps(snapshot, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"Wrote {SNAPSHOT_PATH} ({len(snapshot['candles'])} pairs, {DAYS} days each)")


if __name__ == "__main__":
    main(sys.argv)
