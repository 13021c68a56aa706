"""Production settings refuse to start when unsafe, and say which variable to fix."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

from cryptovault.config_checks import DEVELOPMENT_FIELD_ENCRYPTION_KEY, DEVELOPMENT_SECRET_KEY

SAFE_SECRET_KEY = "q8Zr1-Lk2vN9xT0bW3sY5uP7mC4hJ6gF1dS8aQ2eR5tY7uI9oP0lK3jH6gF4dS2a"
SAFE = {
    "DEBUG": "false",
    "SECRET_KEY": SAFE_SECRET_KEY,
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "vault.example.com",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
}


def run_django(env_overrides: dict[str, str | None], code: str = "import django; django.setup(); print('started')"):
    inherited = set(SAFE) | {"PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in inherited}
    env["DJANGO_SETTINGS_MODULE"] = "cryptovault.settings"
    env["ENV_FILE"] = ""  # a .env in the checkout must not leak into these cases
    # REDIS_URL: the session's Redis, so no subprocess starts another embedded one.
    wanted = {**SAFE, "REDIS_URL": settings.REDIS_URL, **env_overrides}
    env.update({key: value for key, value in wanted.items() if value is not None})
    return subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_safe_production_settings_start():
    result = run_django({})
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    "overrides, variable",
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is missing"),
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY is the development default"),
        ({"SECRET_KEY": "too-short-but-random-9f8e7d"}, "SECRET_KEY is too short"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY has too few distinct characters"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS is missing"),
        ({"FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}, "FIELD_ENCRYPTION_KEYS key #1 is not a valid Fernet key"),
        ({"FIELD_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},bogus"}, "FIELD_ENCRYPTION_KEYS key #2"),
        (
            {"FIELD_ENCRYPTION_KEYS": DEVELOPMENT_FIELD_ENCRYPTION_KEY},
            "FIELD_ENCRYPTION_KEYS key #1 is the development",
        ),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS is empty"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is empty"),
        ({"REDIS_URL": ""}, "REDIS_URL is missing"),
        ({"EMAIL_URL": None}, "EMAIL_URL is missing or consolemail://"),
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_URL is missing or consolemail://"),
        ({"SMS_BACKEND": "accounts.sms.LoggingSMSBackend"}, "SMS_BACKEND is the logging backend"),
    ],
)
def test_unsafe_production_settings_refuse_to_start_naming_the_variable(overrides, variable):
    result = run_django(overrides)
    assert result.returncode != 0
    assert "Refusing to start with DEBUG off" in result.stderr
    assert variable in result.stderr
    assert "started" not in result.stdout


def test_without_twilio_production_refuses_to_text_instead_of_logging_codes():
    code = (
        "import django; django.setup(); from accounts.sms import sms_backend, SMSDeliveryError\n"
        "try:\n    sms_backend().send(to='+447700900123', body='code: 123456')\n"
        "except SMSDeliveryError as exc:\n    print('refused:', exc)"
    )
    result = run_django({}, code)
    assert result.returncode == 0, result.stderr
    assert "refused: Text messages are not set up on this server" in result.stdout
    assert "123456" not in result.stdout + result.stderr


def test_every_problem_is_listed_at_once():
    result = run_django({"SECRET_KEY": None, "FIELD_ENCRYPTION_KEYS": None, "ALLOWED_HOSTS": None})
    for variable in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS"):
        assert f"{variable} is" in result.stderr


def test_check_deploy_with_production_environment_prints_no_warnings():
    code = (
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    )
    result = run_django({"DATABASE_URL": "sqlite:///:memory:"}, code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_no_environment_at_all_means_sqlite_and_an_embedded_redis(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings; from django.core.cache import cache;"
        "cache.set('probe', 'ok'); print(settings.DATABASES['default']['ENGINE'], settings.EMBEDDED_REDIS,"
        " settings.REDIS_URL.startswith('redis://127.0.0.1:'), cache.get('probe'), settings.EMAIL_BACKEND)"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cryptovault.settings",
        "ENV_FILE": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "True",
        "ok",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_channel_layer_allows_blocking_pops_and_hundreds_of_connections():
    """redis-py 8 defaults (5 s socket timeout, 100 connections) break websockets: redis/redis-py#4091."""
    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    assert host["socket_timeout"] > 5  # channels-redis blocks for 5 s in BZPOPMIN
    assert host["max_connections"] >= 500


def test_a_postgres_database_url_uses_djangos_connection_pool():
    code = (
        "import django; django.setup(); from django.conf import settings; db = settings.DATABASES['default'];"
        "print(db['ENGINE'], db['CONN_MAX_AGE'], sorted(db['OPTIONS']['pool']))"
    )
    result = run_django({"DEBUG": "true", "DATABASE_URL": "postgres://trader@db.internal:5432/vault"}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "0", "['max_size',", "'min_size',", "'timeout']"]


@pytest.mark.django_db
def test_the_configured_database_is_the_one_in_use():
    from django.db import connection

    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
        assert connection.pool is not None, "requests borrow pooled connections"
    else:
        assert connection.vendor == "sqlite"


def test_production_sends_hsts_and_marks_every_cookie_secure(tmp_path):
    code = """
import django; django.setup()
from django.core.management import call_command
from django.test import Client
from accounts.models import User
call_command("migrate", verbosity=0)
User.objects.create_user(email="t@example.com", password="a-Long-pass-2026")
browser = Client(HTTP_HOST="vault.example.com")
print("plain-http", browser.get("/accounts/login/").status_code)
print("spoofed-https", browser.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"}).status_code)
page = browser.get("/accounts/login/", secure=True)
print("hsts", page.headers["Strict-Transport-Security"])
print("csrf", bool(page.cookies["csrftoken"]["secure"]))
signed_in = browser.post("/accounts/login/", {"login": "t@example.com", "password": "a-Long-pass-2026"}, secure=True)
session = signed_in.cookies["sessionid"]
print("session", signed_in.status_code, bool(session["secure"]), bool(session["httponly"]), session["samesite"])
"""
    # TESTING: static files from their sources, so no collectstatic is needed for the login page.
    result = run_django({"DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}", "TESTING": "true"}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "plain-http 301",
        "spoofed-https 301",  # no trusted proxy in front: a client cannot claim HTTPS
        "hsts max-age=31536000; includeSubDomains; preload",
        "csrf True",
        "session 302 True True Lax",
    ]
