"""Run the whole app locally: migrate, seed the demo, then web + Celery worker + beat + price publisher.

This is what ``make run`` calls. With no REDIS_URL (settings.EMBEDDED_REDIS), this command
starts the embedded Redis (cryptovault.embedded_redis) and restarts itself in the same
process with REDIS_URL set, so that its own steps, the web server, the worker and beat all
share one broker, cache and channel layer. Settings never start Redis themselves.

Ctrl-C stops everything (honcho forwards the signal and waits for each process). If this
command is killed outright (SIGKILL), the kernel ends Redis, web, worker and beat with it
(Linux: parent-death signals), so nothing is left holding the port or the database.

The web server never rewrites the client address from forwarded headers (uvicorn's proxy
headers are off): cryptovault.clientip reads X-Forwarded-For only as TRUSTED_PROXY_COUNT
says, so a local client cannot claim another address to escape lockout or rate limits.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shlex
import signal
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from honcho.manager import Manager
from honcho.printer import Printer
from honcho.process import Popen, Process

from cryptovault.embedded_redis import (
    die_with_parent,
    embedded_redis_pid,
    parent_death_signal,
    start_embedded_redis,
)
from exchanges.emulator import Emulator
from exchanges.emulator.demo import add_demo_keys

# Set by this command for its restarted self: "<url> <pid>" of the embedded Redis it started.
EMBEDDED_REDIS_MARKER = "RUNSTACK_EMBEDDED_REDIS"


class _ChildPopen(Popen):
    """honcho's shell child, ended by the kernel when its honcho relay process ends."""

    def __init__(self, cmd, **kwargs):
        super().__init__(cmd, preexec_fn=parent_death_signal(signal.SIGTERM), **kwargs)


class _ChildProcess(Process):
    """honcho's relay process (a fork of this command), ended by the kernel when this command ends."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._child_ctor = _ChildPopen
        self._parent = os.getpid()

    def run(self, events=None, ignore_signals=False):
        die_with_parent(signal.SIGKILL, parent=self._parent)
        super().run(events, ignore_signals)


class Command(BaseCommand):
    help = (
        "Run web (ASGI: HTTP and websockets), a Celery worker, beat and the price publisher together, after migrating."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--reload", action="store_true", help="Restart the web server when code changes.")
        parser.add_argument("--no-seed", action="store_true", help="Skip the demo data.")
        parser.add_argument(
            "--real-exchanges",
            action="store_true",
            help="Reach the exchanges' own hosts instead of starting the loopback exchange emulator.",
        )

    def handle(self, *args, host: str, port: int, reload: bool, no_seed: bool, real_exchanges: bool, **options):
        if settings.EMBEDDED_REDIS:
            self._restart_with_embedded_redis()  # does not return
        embedded_redis = self._adopt_embedded_redis()

        # The local folders the embedded default writes to (never created by importing settings).
        Path(settings.VAR_DIR).mkdir(exist_ok=True)
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)

        # The offline demo's exchanges: the loopback emulator with the published demo keys, unless
        # EXCHANGE_API_URLS says otherwise. Seeding tests the demo connection against it in-process.
        emulator = None
        if not real_exchanges and not settings.EXCHANGE_API_URLS:
            emulator = Emulator(host="127.0.0.1", port=0).start()
            add_demo_keys(emulator)
            settings.EXCHANGE_API_URLS = emulator.api_urls_setting()
            if "MARKET_DATA_EXCHANGE" not in os.environ:
                # Prices come from the replay of real candles, labelled as such, not the emulator's
                # fixed snapshot dressed up as Binance.
                settings.MARKET_DATA_EXCHANGE = "replay"

        steps = [
            ("Migrating the database", lambda: call_command("migrate", interactive=False, verbosity=0)),
            ("Creating the roles (trader, support, admin)", lambda: call_command("roles_sync", verbosity=0)),
            ("Loading the offline market candles", lambda: call_command("import_candles", "--offline")),
        ]
        if not no_seed:
            steps.append(("Loading demo data", lambda: call_command("seed_demo")))
        steps.append(("Installing the beat schedule", lambda: call_command("install_beat_schedule")))
        for number, (title, step) in enumerate(steps, start=1):
            self.stdout.write(self.style.MIGRATE_HEADING(f"[{number}/{len(steps)}] {title}"))
            step()

        env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "PYTHONUNBUFFERED": "1"}
        processes: list[tuple[str, list[str]]] = []
        if emulator is not None:
            emulator_port = emulator.port
            emulator.stop()  # the "exchanges" process below serves the same demo keys on the same port
            env["EXCHANGE_API_URLS"] = settings.EXCHANGE_API_URLS
            env["MARKET_DATA_EXCHANGE"] = settings.MARKET_DATA_EXCHANGE
            emulator_command = [
                sys.executable,
                "manage.py",
                "exchange_emulator",
                "--port",
                str(emulator_port),
                "--demo-keys",
            ]
            if settings.MARKET_DATA_EXCHANGE == "replay":
                # Orders fill at the prices the site shows, not at the emulator's fixed snapshot.
                emulator_command.append("--follow-replay")
            processes.append(("exchanges", emulator_command))
        # Links in emails sent by the worker (no request to take a host from) point at this server.
        env.setdefault("SITE_URL", f"http://{host}:{port}")
        python = sys.executable
        web = [
            python,
            "-m",
            "uvicorn",
            "cryptovault.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--ws",
            "websockets-sansio",
            "--ws-max-size",  # no client message is near 64 kB; a 16 MB default invites floods
            "65536",
            "--lifespan",
            "off",
            # The client address is the peer's; X-Forwarded-For is cryptovault.clientip's to read.
            "--no-proxy-headers",
        ]
        if reload:
            web += ["--reload", "--reload-dir", str(settings.BASE_DIR)]
        worker = [python, "-m", "celery", "-A", "cryptovault", "worker", "--loglevel", "INFO", "--concurrency", "2"]
        beat = [python, "-m", "celery", "-A", "cryptovault", "beat", "--loglevel", "INFO"]
        # The live prices of /ws/prices (exchanges.market.publisher): one publisher, under a Redis lock.
        prices = [python, "manage.py", "publish_prices"]

        redis_note = "embedded Redis" if embedded_redis else "Redis"
        if emulator is not None:
            self.stdout.write(
                f"Exchanges: the loopback emulator (Binance and KuCoin, demo keys in exchanges/emulator/demo.py) "
                f"at {emulator.url}; --real-exchanges reaches the real ones."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"CryptoVault on http://{host}:{port}/ ({redis_note} at {settings.REDIS_URL}). Ctrl-C stops it all."
            )
        )
        manager = Manager(printer=Printer(sys.stdout))
        manager._process_ctor = _ChildProcess  # honcho's hook for its process class
        processes += [("web", web), ("worker", worker), ("beat", beat), ("prices", prices)]
        for name, command in processes:
            # exec: the shell becomes the program, which keeps the parent-death signal.
            manager.add_process(name, "exec " + shlex.join(command), env=env, cwd=str(settings.BASE_DIR))
        manager.loop()
        sys.exit(manager.returncode)

    def _restart_with_embedded_redis(self) -> None:
        """Start the embedded Redis, then become this same command again with REDIS_URL set.

        The settings of this process were read without a REDIS_URL; replacing the program
        (same process, so Redis stays our child and dies with us) reads them afresh.
        """
        url = start_embedded_redis()
        self.stdout.write(f"Started an embedded Redis at {url}; it stops with this command.")
        self.stdout.flush()
        sys.stderr.flush()
        marker = f"{url} {embedded_redis_pid()}"
        env = {**os.environ, "REDIS_URL": url, EMBEDDED_REDIS_MARKER: marker}
        os.execve(sys.executable, sys.orig_argv, env)  # noqa: S606 - this very command, again

    def _adopt_embedded_redis(self) -> bool:
        """After the restart: whether Redis is the one we started; if so, stop it when we exit.

        The kernel would end it anyway on Linux; elsewhere this is the only stop.
        """
        url, _, pid = os.environ.pop(EMBEDDED_REDIS_MARKER, "").partition(" ")
        if not pid or url != settings.REDIS_URL:
            return False
        atexit.register(_kill_quietly, int(pid))
        return True


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
