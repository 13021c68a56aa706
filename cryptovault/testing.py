"""Shared test machinery: a real ASGI server on loopback, a real Celery worker, Redis probes.

Browser and websocket tests talk to the project the way users do: over TCP to uvicorn
serving the ASGI application (HTTP and websockets), backed by the test database and
the real Redis channel layer. Nothing here is a mock.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import uvicorn
from django.conf import settings
from django.db import connection

from cryptovault.embedded_redis import answers_ping


class AsgiTestServer:
    """uvicorn serving cryptovault.asgi in a background thread of the test process."""

    def __init__(self) -> None:
        from channels.routing import ProtocolTypeRouter
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from cryptovault.asgi import application, django_asgi_app

        app = ProtocolTypeRouter(
            {
                "http": ASGIStaticFilesHandler(django_asgi_app),
                "websocket": application.application_mapping["websocket"],
            }
        )
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        # Like every server the project starts: the client address is the peer's, never rewritten
        # from X-Forwarded-For (cryptovault.clientip reads it as TRUSTED_PROXY_COUNT says).
        config = uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio", proxy_headers=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> AsgiTestServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def child_process_database_url() -> str:
    """A DATABASE_URL for the database the test session runs on, for its child processes."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


class CeleryTestWorker:
    """A real `celery worker` process on a private queue of the test session's broker."""

    def __init__(self, include: tuple[str, ...] = ()) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.include = include
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> CeleryTestWorker:
        from cryptovault.celery import app

        env = {
            **os.environ,
            "REDIS_URL": settings.REDIS_URL,
            "DATABASE_URL": child_process_database_url(),
            "ENV_FILE": "",  # like the test process itself, never a developer's .env
            "TESTING": "true",
            "PYTHONUNBUFFERED": "1",
        }
        arguments = (
            f"celery -A cryptovault worker --pool solo --queues {self.queue} --hostname {self.queue}@%h"
            " --loglevel WARNING --without-mingle --without-gossip"
        )
        if self.include:
            arguments += f" --include {','.join(self.include)}"
        command = [sys.executable, "-m", *arguments.split()]
        self._process = subprocess.Popen(command, cwd=Path(settings.BASE_DIR), env=env)
        try:
            self._wait_until_it_answers(app, timeout)
        except BaseException:
            self.stop()  # never leave an orphan worker behind a failed start
            raise
        return self

    def _wait_until_it_answers(self, app, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self._process.returncode}")
            if app.control.ping(destination=[f"{self.queue}@{socket.gethostname()}"], timeout=0.5):
                return
        raise RuntimeError("celery worker did not answer a ping in time")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()


# --- Redis servers started by tests (test_embedded_redis.py, test_run_command.py) ----------------


def wait_until_silent(port: int, timeout: float) -> bool:
    """Whether the Redis server on this port stops answering within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not answers_ping(port):
            return True
        time.sleep(0.1)
    return False


def shut_down_if_still_there(port: int) -> None:
    """A test that failed must not leave a server behind (a daemonised one is nobody's child)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"SHUTDOWN NOSAVE\r\n")
            conn.recv(16)
    except OSError:
        pass
