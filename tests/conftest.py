"""Fixtures shared by the whole suite: the three users, clients, a live ASGI server.

Every test talks to real services: the test database (PostgreSQL in CI, SQLite
otherwise), Redis (the machine's in CI, the embedded one otherwise) for the cache,
the channel layer and the Celery broker.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from cryptovault.testing import AsgiTestServer, CeleryTestWorker
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"


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
def api_client():
    return APIClient()


@pytest.fixture
def owner_api_client(api_client, owner):
    api_client.force_login(owner)
    return api_client


@pytest.fixture
def asgi_server(transactional_db):
    server = AsgiTestServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup):
    """A worker on the test database: tests whose tasks read rows need `transactional_db`."""
    worker = CeleryTestWorker(include=("tests.celery_tasks",)).start()
    yield worker
    worker.stop()
