"""The embedded Redis lives exactly as long as the process that started it."""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from pathlib import Path

import pytest

from cryptovault.testing import answers_ping, shut_down_if_still_there, wait_until_silent

BASE_DIR = Path(__file__).resolve().parents[2]

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")


def read_line(process: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no output within {timeout}s")
    return process.stdout.readline()


@linux_only
def test_the_embedded_redis_dies_with_the_process_that_started_it_even_when_that_process_is_killed():
    code = (
        "import time\nfrom cryptovault.embedded_redis import start_embedded_redis\n"
        "print(start_embedded_redis(), flush=True)\ntime.sleep(120)"
    )
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    starter = subprocess.Popen(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    port = None
    try:
        url = read_line(starter, timeout=30).strip()
        assert url.startswith("redis://127.0.0.1:"), url
        port = int(url.rsplit(":", 1)[1])
        assert answers_ping(port)

        starter.kill()  # SIGKILL: no atexit handler, no clean-up code runs
        starter.wait(timeout=10)

        assert wait_until_silent(port, timeout=5), "the embedded Redis outlived the process that started it"
    finally:
        starter.kill()
        starter.wait(timeout=10)
        starter.stdout.close()
        if port is not None:
            shut_down_if_still_there(port)


def test_the_embedded_redis_is_a_child_that_is_stopped_at_exit_and_writes_nothing(tmp_path):
    code = (
        "from cryptovault.embedded_redis import start_embedded_redis\n"
        "url = start_embedded_redis()\nimport redis\nredis.Redis.from_url(url).set('probe', 'ok')\nprint(url)"
    )
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["TMPDIR"] = str(tmp_path)  # where the server runs (its --dir)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    port = int(result.stdout.strip().rsplit(":", 1)[1])
    try:
        assert wait_until_silent(port, timeout=5), "stopped when the process ended normally"
        assert list(tmp_path.iterdir()) == [], "no snapshot, no append-only file"
    finally:
        shut_down_if_still_there(port)
