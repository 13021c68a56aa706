"""The test run's environment, prepared before anything reads the settings.

pyproject.toml loads this module with ``-p cryptovault.pytest_plugin``: plugins named with
``-p`` are imported before pytest-django reads the settings (in its own
``pytest_load_initial_conftests``), which is earlier than any conftest.py. Settings have no
side effects and no idea they run under pytest; everything test-specific comes from here:

- ``TESTING=true`` (fast password hashing, static files from their sources, no online
  password check) and ``ENV_FILE=""`` (a developer's .env never changes what the suite
  proves), unless the environment already says otherwise;
- with no REDIS_URL (CI sets one), an embedded Redis for this run, exported as REDIS_URL,
  so the test process and the Celery worker it starts share it; it dies with this process;
- var/ (the SQLite test databases live there) and STATIC_ROOT (WhiteNoise warns when it is
  missing).

Run the suite with ``python -m pytest`` (as ``make test`` does) so that the project root is
importable when pytest loads this plugin.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def prepare_test_environment() -> None:
    """Set the variables the settings read for a test run, and start what they point at."""
    os.environ.setdefault("TESTING", "true")
    os.environ.setdefault("ENV_FILE", "")
    env_file = os.environ["ENV_FILE"]
    if env_file and Path(env_file).is_file():
        import environ

        environ.Env.read_env(env_file)  # what settings will read: it may name a REDIS_URL
    if not os.environ.get("REDIS_URL"):
        from cryptovault.embedded_redis import start_embedded_redis

        os.environ["REDIS_URL"] = start_embedded_redis()
    (BASE_DIR / "var").mkdir(exist_ok=True)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Around pytest-django's hook of the same name, which imports the settings."""
    prepare_test_environment()
    result = yield
    from django.conf import settings

    if settings.configured:
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    return result
