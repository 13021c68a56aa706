"""Fixtures shared by the whole suite: the three users, each signed in the ways people and
integrations sign in, a live ASGI server and a Celery worker.

Every test talks to real services: the test database (PostgreSQL in CI, SQLite
otherwise), Redis (the machine's in CI, the embedded one otherwise) for the cache,
the channel layer and the Celery broker.

The three users every app's tests share: `owner` owns the rows; `outsider` is another
signed-in user who must never reach them (404); `staff_user` is a superuser for staff-only
routes. Each signed in as a browser (`owner_client`, `outsider_client`, `staff_client`) and as
an integration (`owner_jwt`, `outsider_jwt`, `staff_jwt`: bearer tokens from
/api/v1/auth/token/). `verified_owner` and `secured_owner` (verified email, authenticator app
on, its recovery codes in `.recovery_codes`) are the owner ready for verified-only and sensitive
actions; `secured_jwt` is their token obtained with the second factor. `admin_browser` is an
admin by role (every permission, not a superuser) signed in to the admin site, for every app's
admin tests.

A new model's access tests are mostly entries, not code: each route that takes its id gets one
line in tests/access_matrix.py (the outsider's 404 for every method, the owner's success), each
list one line in tests/list_queries.py (its query count pinned for one row and many). What is
left to write is what the model does for its owner. Plain helpers (PASSWORD, sign_in,
with_access, text) are in tests/helpers.py, the /ws/events ones in tests/live_events.py;
fixtures stay in conftest.py files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services.roles import ADMIN, role_assign
from cryptovault.testing import AsgiTestServer, CeleryTestWorker
from exchanges.emulator import Emulator
from tests import secret_watch
from tests.factories import TEST_ACTOR, UserFactory
from tests.fakes.authenticator import back_to_the_present, turn_on_totp, unused_totp_code, verify_email_of
from tests.helpers import PASSWORD, admin_signed_in, sign_in


@pytest.fixture(scope="session", autouse=True)
def _emulator_for_the_session() -> Iterator[Emulator]:
    """Every test's exchanges are the loopback emulator (exchanges/emulator/), never a real host.

    Settings of this process and the environment of processes the suite starts (the Celery
    worker) point ccxt at it; tests/exchanges/conftest.py hands it out reset for each test.
    """
    with Emulator() as emulator:
        # The exchanges it does not speak get a closed loopback port: a refused connection, not the internet.
        urls = f"{emulator.api_urls_setting()},coinbase=http://127.0.0.1:9,kraken=http://127.0.0.1:9"
        settings.EXCHANGE_API_URLS = os.environ["EXCHANGE_API_URLS"] = urls
        yield emulator


# Keys the app is given in the exchanges tests: long enough for the secret watch to look for.
APP_BINANCE_KEYS = {"api_key": "cv-binance-key-7Hq2Lm9Xw4", "secret": "cv-binance-secret-Rt6Vb3Nk8Pz1"}
APP_KUCOIN_KEYS = {
    "api_key": "cv-kucoin-key-3Fj8Sd5Qa2",
    "secret": "cv-kucoin-secret-Wm4Ty7Gc9Lx0",
    "passphrase": "cv-kucoin-passphrase-Ue5Hn2",
}


@pytest.fixture
def exchange_emulator(_emulator_for_the_session: Emulator) -> Iterator[Emulator]:
    """The session's emulator, fresh for this test: no keys, no orders, no faults, the snapshot's prices.
    A test that stops it (the exchange is down) gets it restarted by the next."""
    emulator = _emulator_for_the_session
    emulator.start()  # again, if the previous test stopped it
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture
def emulated_exchanges(exchange_emulator: Emulator, settings) -> Emulator:
    """The app's ccxt clients (exchanges.client) reach the emulator (as everywhere in the suite)."""
    assert settings.EXCHANGE_API_URLS.startswith(exchange_emulator.api_urls_setting())
    return exchange_emulator


@pytest.fixture
def binance_keys(exchange_emulator: Emulator) -> dict[str, str]:
    """A Binance key issued on the emulator (10000 USDT, 0.5 BTC, unrestricted, can trade)."""
    exchange_emulator.add_key("binance", **APP_BINANCE_KEYS)
    secret_watch.watch(*APP_BINANCE_KEYS.values())
    return dict(APP_BINANCE_KEYS)


@pytest.fixture
def kucoin_keys(exchange_emulator: Emulator) -> dict[str, str]:
    """A KuCoin key with its passphrase issued on the emulator (10000 USDT, 0.5 BTC)."""
    exchange_emulator.add_key("kucoin", **APP_KUCOIN_KEYS)
    secret_watch.watch(*APP_KUCOIN_KEYS.values())
    return dict(APP_KUCOIN_KEYS)


@pytest.fixture(autouse=True)
def _no_secret_leaks(monkeypatch):
    """Fails a test in which a watched exchange secret reached a log, a response or an email."""
    recording = secret_watch.start(monkeypatch)
    yield
    leaks = secret_watch.finish(recording)
    assert not leaks, f"secrets leaked: {leaks}"


def pytest_terminal_summary(terminalreporter):
    totals = secret_watch.TOTALS
    terminalreporter.write_line(
        f"secret watch: {totals.tests} tests, {totals.responses} responses, {totals.log_records} log records and "
        f"{totals.emails} emails scanned for exchange secrets"
    )


@pytest.fixture(autouse=True)
def _clock_back_after_the_test() -> Iterator[None]:
    """`unused_totp_code` moves the clock on to the next code instead of sleeping: real time again after."""
    yield
    back_to_the_present()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached values must not leak from one test to the next."""
    cache.clear()
    yield


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com", name="Olive Owner", password=PASSWORD)


@pytest.fixture
def outsider(db):
    return UserFactory(email="outsider@example.com", name="Oscar Outsider", password=PASSWORD)


@pytest.fixture
def staff_user(db):
    return UserFactory(
        email="staff@example.com", name="Stella Staff", password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(outsider) -> Client:
    """The outsider's browser, signed in: a client of its own, beside `owner_client`."""
    client = Client()
    client.force_login(outsider)
    return client


@pytest.fixture
def staff_client(staff_user) -> Client:
    """The superuser's browser, signed in with the second factor the admin demands (2FA turned on)."""
    return admin_signed_in(Client(), staff_user)


@pytest.fixture
def admin_browser(db) -> Client:
    """An admin by role (every permission, not a superuser), signed in to the admin site."""
    admin = role_assign(actor=TEST_ACTOR, user=UserFactory(email="ada@example.com", name="Ada Admin"), role=ADMIN)
    return admin_signed_in(Client(), admin)


@pytest.fixture
def verified_owner(owner: User) -> User:
    verify_email_of(owner)
    return owner


@pytest.fixture
def secured_owner(verified_owner: User) -> User:
    """Verified email and an authenticator app: ready for sensitive actions."""
    verified_owner.recovery_codes = turn_on_totp(verified_owner)
    return verified_owner


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def owner_api_client(api_client, owner):
    api_client.force_login(owner)
    return api_client


@pytest.fixture
def owner_jwt(api_client, owner) -> APIClient:
    """The owner signed in with a JWT (no second factor on the account)."""
    sign_in(api_client, owner.email)
    return api_client


@pytest.fixture
def secured_jwt(api_client, secured_owner) -> APIClient:
    """The secured owner signed in with a JWT obtained with the second factor."""
    sign_in(api_client, secured_owner.email, otp_code=unused_totp_code(secured_owner))
    return api_client


@pytest.fixture
def outsider_jwt(outsider) -> APIClient:
    """The outsider signed in with a JWT: a client of its own, beside `owner_jwt`."""
    client = APIClient()
    sign_in(client, outsider.email)
    return client


@pytest.fixture
def staff_jwt(staff_user) -> APIClient:
    """The superuser signed in with a JWT and a code: staff endpoints need 2FA, as the admin."""
    turn_on_totp(staff_user)
    client = APIClient()
    sign_in(client, staff_user.email, otp_code=unused_totp_code(staff_user))
    return client


@pytest.fixture
def asgi_server(transactional_db):
    server = AsgiTestServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, _emulator_for_the_session):
    """A worker on the test database: tests whose tasks read rows need `transactional_db`."""
    worker = CeleryTestWorker(include=("tests.celery_tasks",)).start()
    yield worker
    worker.stop()
