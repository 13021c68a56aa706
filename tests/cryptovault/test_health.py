from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client, override_settings

CLOSED_PORT_URL = "redis://127.0.0.1:1"  # nothing listens on port 1


def test_liveness_answers_without_touching_the_database(client):
    # No db fixture: pytest-django fails the test if the view touches the database.
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.head("/health").status_code == 200, "load balancers that probe with HEAD"


@pytest.mark.django_db
def test_readiness_reports_every_dependency_up(client):
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "channel_layer", "broker"}
    assert all(check["status"] == "ok" for check in body["checks"].values())


@pytest.mark.django_db(transaction=True)
def test_readiness_stays_ready_under_concurrent_probes():
    # Load balancers probe every web process from several threads at once; a healthy
    # stack must not flap to 503 (the channel layer check once did, under exactly this).
    def probe(_):
        try:
            response = Client().get("/health/ready")
            return response.status_code, response.json()["down"]
        finally:
            connections.close_all()  # the test client keeps a thread's connection open

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(probe, range(32)))
    if hasattr(connection, "close_pool"):  # PostgreSQL: the burst grew the pool; let the test DB go
        connection.close_pool()
    assert answers == [(200, [])] * 32


@pytest.mark.django_db
def test_readiness_answers_503_naming_redis_uses_when_redis_is_unreachable(client, settings):
    closed_cache = {"default": {**settings.CACHES["default"], "LOCATION": CLOSED_PORT_URL}}
    closed_layer = {"default": {**settings.CHANNEL_LAYERS["default"]}}
    closed_layer["default"]["CONFIG"] = {**closed_layer["default"]["CONFIG"], "hosts": [{"address": CLOSED_PORT_URL}]}
    with override_settings(CACHES=closed_cache, CHANNEL_LAYERS=closed_layer, CELERY_BROKER_URL=CLOSED_PORT_URL):
        response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "down"
    assert set(body["down"]) == {"cache", "channel_layer", "broker"}
    assert body["checks"]["database"]["status"] == "ok"
