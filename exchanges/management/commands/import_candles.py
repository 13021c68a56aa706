"""Store OHLCV candles: the shipped offline fixture, a CSV file, or an exchange through ccxt.

    manage.py import_candles --offline
    manage.py import_candles --csv ../shared/data/binance-1h/BTCUSDT_1h.csv.gz --symbol BTC/USDT --timeframe 1h
    manage.py import_candles --ccxt --symbol ETH/USDT --timeframe 4h --since 2025-01-01 [--until 2025-06-30]

Every import is idempotent (candles already stored are skipped), prints a line per step and a
summary, and refuses bad input with the reason.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cryptovault.errors import DomainError
from exchanges.market.candles import (
    Progress,
    import_candles_ccxt,
    import_candles_csv,
    load_offline_candles,
)


def _moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a date (YYYY-MM-DD) or date and time.") from None
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _reason(error: ValidationError | DomainError) -> str:
    if isinstance(error, DomainError):
        return f"{error.field}: {error.message}" if error.field else error.message
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)


class Command(BaseCommand):
    help = "Import OHLCV candles: --offline (the shipped fixture), --csv PATH, or --ccxt (from the exchange)."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--offline", action="store_true", help="The real Binance candles shipped with the project.")
        source.add_argument("--csv", metavar="PATH", help="A CSV (or .csv.gz) in the shared-data layouts.")
        source.add_argument("--ccxt", action="store_true", help="Page through the exchange's public candles.")
        parser.add_argument("--symbol", help="BTC/USDT (or BTC-USDT, BTCUSDT).")
        parser.add_argument("--timeframe", help="1m, 5m, 15m, 1h, 4h, 1d, 1w, ...")
        parser.add_argument(
            "--exchange",
            help="The exchange the candles are from (default: binance for CSV, MARKET_DATA_EXCHANGE for ccxt).",
        )
        parser.add_argument("--since", help="--ccxt: first day, YYYY-MM-DD (UTC).")
        parser.add_argument("--until", help="--ccxt: last instant, YYYY-MM-DD (UTC; default: now).")

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        last: list[Progress] = []

        def progress(step: Progress) -> None:
            last[:] = [step]
            self.stdout.write(str(step))

        try:
            if options["offline"]:
                new = load_offline_candles(on_progress=progress)
                what = "the offline fixture"
            else:
                for option in ("symbol", "timeframe"):
                    if not options[option]:
                        raise CommandError(f"--{option} is required with --csv and --ccxt.")
                what = f"{options['symbol']} {options['timeframe']}"
                if options["csv"]:
                    new = import_candles_csv(
                        path=options["csv"],
                        symbol=options["symbol"],
                        timeframe=options["timeframe"],
                        exchange=options["exchange"] or "binance",
                        on_progress=progress,
                    )
                else:
                    if not options["since"]:
                        raise CommandError("--since is required with --ccxt.")
                    new = import_candles_ccxt(
                        symbol=options["symbol"],
                        timeframe=options["timeframe"],
                        since=_moment(options["since"], "--since"),
                        until=_moment(options["until"], "--until") if options["until"] else None,
                        exchange=options["exchange"],
                        on_progress=progress,
                    )
        except (ValidationError, DomainError) as error:
            raise CommandError(_reason(error)) from None
        seconds = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Imported {what}: {new:,} new candles in {seconds:.1f} s."))
