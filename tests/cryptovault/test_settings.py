"""Production settings refuse to start when unsafe, and say which variable to fix."""

import os
import subprocess
import sys
from pathlib import Path

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
    # TESTING: the test set-up's own (cryptovault.pytest_plugin); these cases pass it when they want it.
    inherited = set(SAFE) | {"PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE", "TESTING", "EXCHANGE_API_URLS"}
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
        ({"EXCHANGE_API_URLS": "binance=http://127.0.0.1:9100/binance"}, "EXCHANGE_API_URLS sends exchange keys"),
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


def bare_environment(home: Path, **variables: str) -> dict[str, str]:
    """No configuration at all (and no .env), as on a newcomer's machine."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "cryptovault.settings",
        "ENV_FILE": "",
        "PYTHONDONTWRITEBYTECODE": "1",  # so that Python's own __pycache__ folders stay out of the count
        **variables,
    }


def run_bare(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


# Records, through Python's audit hooks, every folder created and every process started.
SIDE_EFFECTS_PROBE = """
import sys
side_effects = []
def record(event, args):
    if event in ("os.mkdir", "subprocess.Popen", "os.posix_spawn", "os.fork", "os.system", "os.exec", "os.spawn"):
        side_effects.append(f"{event} {args[0]}")
sys.addaudithook(record)
"""


def test_no_environment_at_all_means_sqlite_console_email_and_the_embedded_redis_default(tmp_path):
    code = SIDE_EFFECTS_PROBE + (
        "import django; django.setup(); from django.conf import settings\n"
        "print(settings.DATABASES['default']['ENGINE'], settings.EMBEDDED_REDIS, settings.REDIS_URL,"
        " settings.EMAIL_BACKEND, settings.TESTING)"
    )
    result = run_bare(bare_environment(tmp_path), code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",  # no REDIS_URL configured: runstack and the test set-up start the embedded Redis
        "redis://127.0.0.1:6379",  # anything else started by hand: a Redis on this machine, if any
        "cryptovault.mail.ConsoleEmailBackend",
        "False",
    ]


def test_importing_the_settings_starts_no_redis_server_and_creates_no_folder(tmp_path):
    static_root, media_root = tmp_path / "static", tmp_path / "media"
    env = bare_environment(tmp_path, STATIC_ROOT=str(static_root), MEDIA_ROOT=str(media_root))
    code = SIDE_EFFECTS_PROBE + "import django; django.setup()\nprint(side_effects)"
    result = run_bare(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", "no process started, no folder created (var/ included)"
    assert not static_root.exists() and not media_root.exists()


def test_nothing_in_the_settings_depends_on_running_under_pytest(tmp_path):
    env = bare_environment(tmp_path)
    del env["ENV_FILE"]  # the default, whatever a .env in the checkout holds (it is not read here)
    code = (
        "import pytest, environ\n"
        "environ.Env.read_env = classmethod(lambda cls, *args, **kwargs: None)\n"
        "from django.conf import settings\n"
        "print(settings.TESTING, settings.ENV_FILE == str(settings.BASE_DIR / '.env'))"
    )
    result = run_bare(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"], "only the environment decides"


def test_the_test_set_up_provides_an_embedded_redis_and_test_mode_when_nothing_is_configured(tmp_path):
    """What cryptovault.pytest_plugin does before pytest-django reads the settings.

    The run command does the same for `make run` (test_run_command.py drives it).
    """
    code = (
        "import os\nfrom cryptovault.pytest_plugin import prepare_test_environment\n"
        "prepare_test_environment()\n"
        "import django; django.setup(); from django.conf import settings; from django.core.cache import cache\n"
        "cache.set('probe', 'ok')\n"
        "print(settings.TESTING, repr(settings.ENV_FILE), settings.EMBEDDED_REDIS, cache.get('probe'),"
        " settings.REDIS_URL == os.environ['REDIS_URL'] != 'redis://127.0.0.1:6379')"
    )
    result = run_bare(bare_environment(tmp_path), code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "''", "False", "ok", "True"]


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
