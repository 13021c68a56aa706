"""Shared helpers for the benchmarks: environment, database, servers, wrk.

Everything talks to 127.0.0.1 only. Every server started here is a subprocess in its own
process group, stopped (SIGTERM, then SIGKILL) when the ``server`` context manager exits.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent

DB_NAME = os.environ.get("BENCH_DB_NAME", "cryptovault_bench")
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

_SECRETS_FILE = BASE_DIR / "var" / "bench-secrets"


def _secrets() -> tuple[str, str]:
    """A random SECRET_KEY and Fernet key, kept across runs so sessions stay valid."""
    if _SECRETS_FILE.is_file():
        secret_key, fernet_key = _SECRETS_FILE.read_text().split()
        return secret_key, fernet_key
    alphabet = string.ascii_letters + string.digits + "!@#%^*-_=+"
    secret_key = "".join(secrets.choice(alphabet) for _ in range(60))
    fernet_key = Fernet.generate_key().decode()
    _SECRETS_FILE.parent.mkdir(exist_ok=True)
    _SECRETS_FILE.write_text(f"{secret_key}\n{fernet_key}\n")
    _SECRETS_FILE.chmod(0o600)
    return secret_key, fernet_key


def bench_env(settings_module: str = "bench.settings_bench", **overrides: str) -> dict[str, str]:
    """The environment of a production-like (DEBUG off) server process for the bench."""
    secret_key, fernet_key = _secrets()
    env = {
        key: value
        for key, value in os.environ.items()
        # Never inherit pytest's or a developer's Django configuration.
        if not key.startswith(("DJANGO_", "PYTEST_", "CHANNEL_LAYER_", "DATABASE_")) and key not in ("TESTING", "DEBUG")
    }
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        PYTHONPATH=str(BASE_DIR),
        DEBUG="false",
        SECRET_KEY=secret_key,
        FIELD_ENCRYPTION_KEYS=fernet_key,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"{PG}/{DB_NAME}",
        REDIS_URL=REDIS_URL,
        EMAIL_URL="smtp://127.0.0.1:1",  # required with DEBUG off; the benchmarks send no email
        LOG_LEVEL="WARNING",
        API_THROTTLE_ANON="1000000/min",
        API_THROTTLE_USER="1000000/min",
        STATIC_ROOT=str(Path(tempfile.gettempdir()) / "cryptovault-bench-static"),
    )
    env.update(overrides)
    return env


def ensure_database() -> None:
    """Create the bench database if missing and migrate it (idempotent, a few seconds)."""
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{DB_NAME}'"],  # noqa: S608 - our own constant
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True, timeout=30)
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=bench_env(),
        check=True,
        timeout=300,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1 only
                if response.status == 200:
                    return
        except Exception as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s: {last!r}")


GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
UVICORN_WORKERS = 2


def server_command(kind: str, port: int, workers: int | None = None) -> list[str]:
    if kind == "gunicorn":
        return [
            str(VENV_BIN / "gunicorn"),
            "cryptovault.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers or GUNICORN_WORKERS),
            "--threads", str(GUNICORN_THREADS),
            "--worker-class", "gthread",
            "--log-level", "warning",
        ]  # fmt: skip
    if kind == "uvicorn":
        return [
            str(VENV_BIN / "uvicorn"),
            "cryptovault.asgi:application",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--workers", str(workers or UVICORN_WORKERS),
            "--lifespan", "off",
            "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
    raise ValueError(kind)


@contextlib.contextmanager
def server(
    kind: str,
    env: dict[str, str],
    workers: int | None = None,
    log_path: Path | None = None,
    cwd: Path | None = None,
):
    """Run gunicorn or uvicorn on a free 127.0.0.1 port; yield its base URL.

    `cwd`: the checkout to serve (default this one). gunicorn puts its working directory first
    on sys.path, so another checkout's code (benchmark 5's "before") needs it as cwd.
    """
    port = free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        server_command(kind, port, workers),
        cwd=cwd or BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health")
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        if log_path:
            log.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(url: str, threads: int = 2, connections: int = 32, duration: int = 10) -> dict:
    """Run wrk --latency against ``url``; return req/s, p50/p99 (ms), requests and errors."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("benchmarks only target 127.0.0.1")
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    return {"url": url, "raw": out, **parse_wrk_output(out)}


def parse_wrk_output(out: str) -> dict:
    """req/s, request count, p50/p99 in ms, non-2xx and socket errors from `wrk --latency`."""
    result: dict = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    for pct in ("50", "99"):
        result[f"p{pct}_ms"] = _ms(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    return result
