"""Push live prices to /ws/prices (and to the price alerts) every PRICE_TICK_SECONDS.

    manage.py publish_prices                  # until SIGTERM or Ctrl-C (runstack and docker-compose run it)
    manage.py publish_prices --interval 1     # a faster tick (demos, benchmarks)
    manage.py publish_prices --once           # one tick, then exit (status 1 if another publisher runs)

One publisher at a time: it holds a Redis lock (exchanges.market.publisher). A second one says so
and waits, taking over when the first stops or dies. A failing tick (the exchange and the replay
both failing, Redis briefly gone) is logged and the next one comes on time.
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exchanges.market.publisher import PUBLISHER_LOCK_KEY, publish_tick, publisher_lock, run_publisher


class Command(BaseCommand):
    help = "Publish a price tick to /ws/prices every PRICE_TICK_SECONDS, one publisher at a time (Redis lock)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Publish one tick and exit.")
        parser.add_argument(
            "--interval", type=float, default=None, help="Seconds between ticks (default PRICE_TICK_SECONDS)."
        )
        parser.add_argument(
            "--progress-every", type=int, default=12, metavar="N", help="A progress line every N ticks (default 12)."
        )

    def handle(self, *args, once: bool, interval: float | None, progress_every: int, **options):
        interval = settings.PRICE_TICK_SECONDS if interval is None else interval
        if interval <= 0 or progress_every < 1:
            raise CommandError("--interval must be above 0 and --progress-every at least 1.")
        if once:
            self._once(interval)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        ticks = run_publisher(interval=interval, stop=stop, say=self._say, progress_every=progress_every)
        self._say(f"Publisher stopped after {ticks} ticks.")

    def _once(self, interval: float) -> None:
        lock = publisher_lock(interval)
        if not lock.acquire(blocking=False):
            raise CommandError(f"Another publisher holds the lock {PUBLISHER_LOCK_KEY}; not publishing.")
        try:
            tickers = publish_tick()
        finally:
            lock.release()
        source = tickers[0].source_label if tickers else "no prices"
        self._say(f"Published one tick: {len(tickers)} symbols from {source}.")

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
