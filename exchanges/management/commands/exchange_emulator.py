"""Run the exchange emulator in the foreground: the offline demo's Binance and KuCoin.

Point the app at it with the `EXCHANGE_API_URLS` line this command prints. `--demo-keys` issues
the published demo keys of `exchanges/emulator/demo.py` (demo only: they open nothing else).
`--follow-replay` makes its prices follow the replay of real candles (MARKET_DATA_EXCHANGE=replay,
`exchanges/emulator/follow.py`) instead of the fixed snapshot, so orders fill at the prices the site
shows; `manage.py runstack` starts it so whenever the site shows the replay.
Ctrl-C or SIGTERM stops it. `-v 2` logs each request (method and path only).
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from exchanges.emulator import Emulator
from exchanges.emulator.demo import add_demo_keys
from exchanges.emulator.follow import FOLLOW_SECONDS, replay_days


class Command(BaseCommand):
    help = "Serve the loopback Binance and KuCoin emulator until stopped (offline demo and manual tests)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=9100, help="Port to listen on (default 9100; 0 picks one).")
        parser.add_argument("--demo-keys", action="store_true", help="Issue the published demo keys (demo only).")
        parser.add_argument(
            "--follow-replay",
            action="store_true",
            help="Prices follow the replay of real candles (what the site shows offline), not the fixed snapshot.",
        )

    def handle(self, *args, host: str, port: int, demo_keys: bool, follow_replay: bool, verbosity: int, **options):
        if verbosity >= 2:
            logging.getLogger("exchanges.emulator").setLevel(logging.DEBUG)
        emulator = Emulator(host=host, port=port)
        try:
            emulator.start()
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error.strerror or error}") from None
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
        try:
            self.stdout.write(f"Exchange emulator listening on {emulator.url}")
            for name in ("binance", "kucoin"):
                self.stdout.write(f"  {name}: {emulator.base_url(name)}")
            if follow_replay:
                emulator.follow(replay_days, every=FOLLOW_SECONDS)
                self.stdout.write(
                    f"Prices follow the replay of real candles (BTC now {emulator.price('binance', 'BTC')})."
                )
            if demo_keys:
                self.stdout.write("Demo keys (secrets and passphrase in exchanges/emulator/demo.py):")
                for entry in add_demo_keys(emulator):
                    self.stdout.write(f"  {entry['exchange']}: {entry['api_key']} ({entry['label']})")
            self.stdout.write("Point CryptoVault at it with:")
            self.stdout.write(f"  export EXCHANGE_API_URLS={emulator.api_urls_setting()}")
            self.stdout.write("Ctrl-C stops it.")
            self.stdout.flush()
            while not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
            self.stdout.write("Exchange emulator stopped.")
