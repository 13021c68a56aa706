"""`manage.py runstack` (what `make run` starts), driven for real: its own Redis, its own web server.

The server must take the client address from the connection, never from a header the client
wrote: otherwise anyone on the machine escapes the lockout by sending a new X-Forwarded-For
with each attempt. And when the command is killed outright, its Redis and its processes go
with it. One run of the command serves the three tests below, so it is started once.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from cryptovault.embedded_redis import parent_death_signal
from cryptovault.testing import answers_ping, shut_down_if_still_there, wait_until_silent
from tests.helpers import post_json

BASE_DIR = Path(__file__).resolve().parents[2]
EMAIL = "runner@example.com"
PASSWORD = "correct-horse-battery-staple"
INHERITED_PREFIXES = ("DJANGO_", "PYTEST_", "CELERY_", "CACHE_", "CHANNEL_LAYER_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique(processes: list[psutil.Process]) -> list[psutil.Process]:
    return list({process.pid: process for process in processes}.values())


def still_there(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still running after up to ``timeout`` seconds (zombies count as gone)."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    running = []
    for process in alive:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            pass
    return running


class RunningStack:
    """`manage.py runstack --no-seed` on a fresh SQLite file, with no REDIS_URL (the embedded default)."""

    def __init__(self, database: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(INHERITED_PREFIXES) and key not in ("REDIS_URL", "DATABASE_URL", "TESTING", "DEBUG")
        }
        # TESTING only for fast password hashing: six sign-ins with the real hasher take seconds.
        self.env.update(ENV_FILE="", DATABASE_URL=f"sqlite:///{database}", TESTING="true", PYTHONUNBUFFERED="1")
        self.output: list[str] = []
        self.process: subprocess.Popen | None = None
        self.redis_port: int | None = None
        self.known_processes: list[psutil.Process] = []

    def start(self, timeout: float = 90) -> RunningStack:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--no-seed", "--port", str(self.port)],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so that the test can stop the whole group whatever happens
            preexec_fn=parent_death_signal(signal.SIGKILL),  # and the kernel does, if pytest itself is killed
        )
        threading.Thread(target=self._collect_output, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"runstack exited with {self.process.returncode}:\n{self.printed}")
            if self._ready():
                self.known_processes = self.family()
                return self
            time.sleep(0.25)
        raise AssertionError(f"runstack did not answer /health/ready within {timeout}s:\n{self.printed}")

    @property
    def printed(self) -> str:
        return "".join(self.output)

    @property
    def redis_url(self) -> str:
        found = re.search(r"embedded Redis at (redis://127\.0\.0\.1:(\d+))", self.printed)
        assert found, self.printed
        self.redis_port = int(found.group(2))
        return found.group(1)

    def _collect_output(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health/ready", timeout=2) as response:  # noqa: S310 - loopback
                return response.status == 200
        except OSError:
            return False

    def family(self) -> list[psutil.Process]:
        """The command, everything it started, and its Redis: what must be gone after the test."""
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def manage(self, code: str) -> str:
        """Run Python in `manage.py shell` against the command's database and Redis."""
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=BASE_DIR,
            env={**self.env, "REDIS_URL": self.redis_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def post_json(self, path: str, payload: dict, headers: dict | None = None) -> tuple[int, dict]:
        return post_json(self.url + path, payload, headers)

    def stop_everything(self) -> None:
        """Whatever happened: SIGKILL the command's group, everything it started, and its Redis."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.known_processes = unique(self.known_processes + self.family())
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        for process in self.known_processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()  # psutil checks it is still the same process (pid and start time)
        still_there(self.known_processes, timeout=10)
        if self.redis_port is not None:
            shut_down_if_still_there(self.redis_port)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = RunningStack(tmp_path_factory.mktemp("runstack") / "run.sqlite3")
    try:
        running.start()
        yield running
    finally:
        running.stop_everything()


def test_the_run_command_starts_its_own_embedded_redis_when_no_redis_url_is_set(stack):
    assert stack.redis_url.startswith("redis://127.0.0.1:")
    assert answers_ping(stack.redis_port)
    assert f"embedded Redis at {stack.redis_url}" in stack.printed


def test_a_local_client_cannot_escape_the_lockout_by_making_up_x_forwarded_for(stack):
    stack.manage(f"from accounts.models import User\nUser.objects.create_user(email={EMAIL!r}, password={PASSWORD!r})")
    wrong = [
        stack.post_json("/api/v1/auth/token/", {"email": EMAIL, "password": "not-the-password"})[0] for _ in range(5)
    ]
    assert set(wrong) <= {401, 429}, wrong

    status, body = stack.post_json(
        "/api/v1/auth/token/", {"email": EMAIL, "password": PASSWORD}, headers={"X-Forwarded-For": "203.0.113.77"}
    )

    assert status == 429, body
    assert body["code"] == "account_locked"
    assert "access" not in body


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")
def test_killing_the_run_command_outright_takes_its_redis_and_its_servers_with_it(stack):
    redis_port = int(stack.redis_url.rsplit(":", 1)[1])
    stack.known_processes = unique(stack.known_processes + stack.family())
    children = [process for process in stack.known_processes if process.pid != stack.process.pid]
    assert len(children) >= 4, "Redis, web, worker and beat"

    stack.process.send_signal(signal.SIGKILL)
    stack.process.wait(timeout=10)

    assert wait_until_silent(redis_port, timeout=5), "the embedded Redis outlived the killed run command"
    left = still_there(children, timeout=15)
    assert left == [], f"still running after the run command was killed: {[p.pid for p in left]}"
