"""The rate-limit counters themselves: exact under a burst, honest about when they reset, cheap.

Everything runs against the real Redis of the test session (the cache's database), with real
HTTP requests where concurrency matters.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from cryptovault.ratelimits import group_limit

TIGHT_BUDGET = 5


@pytest.fixture
def tight_api_budget(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": f"{TIGHT_BUDGET}/min", "user": f"{TIGHT_BUDGET}/min"},
    }


def burst(url: str, requests: int) -> list[int]:
    """`requests` clients sending the same GET at the same instant, each on its own connection."""
    start = threading.Barrier(requests)
    statuses: list[int] = []

    def one_client() -> None:
        start.wait()
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the live server, http
                statuses.append(answer.status)
        except urllib.error.HTTPError as refused:
            statuses.append(refused.code)

    clients = [threading.Thread(target=one_client) for _ in range(requests)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=60)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_burst_gets_exactly_the_budget_through_and_no_more(live_server, tight_api_budget):
    statuses = burst(f"{live_server.url}/api/v1/", requests=4 * TIGHT_BUDGET)
    assert sorted(statuses) == [200] * TIGHT_BUDGET + [429] * (3 * TIGHT_BUDGET)


def reset_and_retry(answer) -> tuple[int, int | None]:
    retry_after = answer.get("Retry-After")
    return int(answer["X-RateLimit-Reset"]), int(retry_after) if retry_after is not None else None


@pytest.mark.django_db
def test_every_api_answer_says_when_the_budget_resets_and_a_refusal_says_the_same(api_client, tight_api_budget):
    answers = [api_client.get("/api/v1/") for _ in range(TIGHT_BUDGET + 1)]
    resets = [int(answer["X-RateLimit-Reset"]) for answer in answers]
    assert all(1 <= reset <= 60 for reset in resets), resets
    assert resets == sorted(resets, reverse=True), "the window end does not move while the client is counted"
    refused = answers[-1]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == int(refused["X-RateLimit-Reset"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/accounts/password/reset/", id="page"),
        pytest.param("/api/v1/auth/password/forgot/", id="API"),
    ],
)
def test_a_rate_limited_endpoint_says_when_the_window_resets_on_every_answer_and_on_the_refusal(client, path):
    answers = [client.post(path, {}, content_type="application/json") for _ in range(4)]  # forgot_password: 3/m
    assert [answer.status_code == 429 for answer in answers] == [False, False, False, True]
    for answer in answers:
        assert answer["X-RateLimit-Limit"] == "3" and answer["X-RateLimit-Policy"] == "3;w=60"
        assert 1 <= int(answer["X-RateLimit-Reset"]) <= 60
    assert int(answers[-1]["Retry-After"]) == int(answers[-1]["X-RateLimit-Reset"])


@pytest.mark.django_db
@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "forgot_password": "2/s"})
@pytest.mark.parametrize("path", ["/accounts/password/reset/", "/api/v1/auth/password/forgot/"], ids=["page", "API"])
def test_a_client_that_waits_the_reset_seconds_is_let_in_again(client, path):
    answers = [client.post(path, {}, content_type="application/json") for _ in range(3)]
    assert answers[-1].status_code == 429
    time.sleep(int(answers[-1]["X-RateLimit-Reset"]))
    assert client.post(path, {}, content_type="application/json").status_code != 429


def redis_round_trips(send: Callable[[int], object], attempts: int = 3) -> int:
    """The Redis round trips `send(n)` costs, counted on the server as the reads it processes.

    A client's pipeline arrives in one read, so `total_reads_processed` grows by one per round
    trip whatever the pipeline holds. The count is server-wide: another client of the same Redis
    (the suite's Celery worker polling its queue) can only add to it, so the fewest over a few
    tries is what the request costs. The observer's second INFO is itself one read.
    """
    observer = redis.Redis.from_url(settings.CACHE_URL)
    try:
        counts = []
        for attempt in range(attempts):
            before = int(observer.info("stats")["total_reads_processed"])
            send(attempt)
            counts.append(int(observer.info("stats")["total_reads_processed"]) - before - 1)
        return min(counts)
    finally:
        observer.close()


def counter(key: str) -> int:
    observer = redis.Redis.from_url(settings.CACHE_URL)
    try:
        return int(observer.get(key) or 0)
    finally:
        observer.close()


@pytest.mark.django_db
def test_an_anonymous_api_request_costs_one_redis_round_trip():
    APIClient(REMOTE_ADDR="192.0.2.1").get("/api/v1/")  # connections to Redis are open from here on

    def anonymous_request(n: int) -> None:
        assert APIClient(REMOTE_ADDR=f"192.0.2.{10 + n}").get("/api/v1/").status_code == 200

    assert redis_round_trips(anonymous_request) == 1


@pytest.mark.django_db
def test_the_api_budget_and_the_sign_in_limit_of_one_request_cost_one_redis_round_trip_together():
    APIClient(REMOTE_ADDR="192.0.2.1").post("/api/v1/auth/token/", {}, format="json")

    def empty_sign_in(n: int) -> None:
        answer = APIClient(REMOTE_ADDR=f"192.0.2.{10 + n}").post("/api/v1/auth/token/", {}, format="json")
        assert answer.status_code == 400, "an empty form: nothing but the limits touches Redis"

    assert redis_round_trips(empty_sign_in) == 1
    assert counter(group_limit("login", "192.0.2.10").key) == 1, "the sign-in limit was counted"
    assert counter("ratelimit:api:anon:60:ip:192.0.2.10") == 1, "and so was the anonymous API budget"


@pytest.mark.django_db
def test_a_signed_in_api_request_costs_one_redis_round_trip(owner):
    browser = APIClient()
    browser.force_login(owner)
    browser.get("/api/v1/me/")

    def signed_in_request(n: int) -> None:
        assert browser.get("/api/v1/me/").status_code == 200

    assert redis_round_trips(signed_in_request) == 1
    other_address = APIClient(REMOTE_ADDR="192.0.2.99")
    other_address.force_login(owner)
    other_address.get("/api/v1/me/")
    assert counter(f"ratelimit:api:user:60:user:{owner.pk}") == 5, "one budget per user, wherever they connect from"
