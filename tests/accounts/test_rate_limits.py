"""Per-address limits on the account endpoints: a guessing script is slowed down, and told so.

A counter's window starts with the address's first counted request and the cache is emptied
before each test, so no test straddles a window's end: every address has its whole minute.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from cryptovault.ratelimits import group_limit

PROXY = "10.0.0.2"  # a load balancer of ours, when TRUSTED_PROXY_COUNT says there is one

SIGNED_IN = True  # the page is for a signed-in (not yet verified) user; anonymous visitors are sent to sign in


def limited(path: str, group: str, limit: int, signed_in: bool, *, id: str):
    return pytest.param((path, group, limit, signed_in), id=id)


PAGES = [
    limited("/accounts/signup/", "signup", 5, not SIGNED_IN, id="sign-up page"),
    limited("/accounts/login/", "login", 10, not SIGNED_IN, id="sign-in page"),
    limited("/accounts/password/reset/", "forgot_password", 3, not SIGNED_IN, id="forgot-password page"),
    limited(
        "/accounts/password/reset/key/1-set-password/", "reset_password", 5, not SIGNED_IN, id="reset-from-link page"
    ),
    limited("/accounts/confirm-email/some-key/", "verify_email", 10, not SIGNED_IN, id="email-confirmation link"),
    limited("/accounts/verify/", "verify_email", 10, SIGNED_IN, id="verify-email code page"),
    limited("/accounts/verify/resend/", "resend_verification", 3, SIGNED_IN, id="resend-verification page"),
]
API = [
    limited("/api/v1/auth/signup/", "signup", 5, not SIGNED_IN, id="API sign-up"),
    limited("/api/v1/auth/token/", "login", 10, not SIGNED_IN, id="API token"),
    limited("/api/v1/auth/token/sms/", "login", 10, not SIGNED_IN, id="API text-me-a-sign-in-code"),
    limited("/api/v1/auth/verify-email/", "verify_email", 10, SIGNED_IN, id="API verify-email"),
    limited("/api/v1/auth/verify-email/resend/", "resend_verification", 3, SIGNED_IN, id="API resend-verification"),
    limited("/api/v1/auth/password/forgot/", "forgot_password", 3, not SIGNED_IN, id="API forgot-password"),
    limited("/api/v1/auth/password/reset/", "reset_password", 5, not SIGNED_IN, id="API reset-password"),
    limited("/api/v1/auth/password/reset/validate/", "reset_password", 5, not SIGNED_IN, id="API reset-token check"),
]


def addresses_with_time_left(count: int) -> list[str]:
    """Client addresses that have not been counted yet: each has a whole window ahead of it."""
    return [f"198.51.100.{host}" for host in range(1, count + 1)]


def post(client, path: str, address: str, **headers):
    """A POST the way a script hammering the endpoint sends it (the body does not matter to the limit)."""
    if path.startswith("/api/"):
        return client.post(path, {}, content_type="application/json", REMOTE_ADDR=address, headers=headers)
    return client.post(path, {"email": "someone@example.com"}, REMOTE_ADDR=address, headers=headers)


@pytest.fixture(params=PAGES + API)
def endpoint(request, client, owner) -> SimpleNamespace:
    """One limited endpoint, with the client signed in if the endpoint is for signed-in users."""
    path, group, limit, signed_in = request.param
    assert settings.RATE_LIMITS[group] == f"{limit}/m"
    if signed_in:
        client.force_login(owner)
    return SimpleNamespace(path=path, limit=limit)


@pytest.mark.django_db
def test_one_address_over_the_limit_is_told_to_wait_with_429_and_rate_limit_headers(client, endpoint):
    path, limit = endpoint.path, endpoint.limit
    address, other_address = addresses_with_time_left(2)
    assert all(post(client, path, address).status_code != 429 for _ in range(limit))

    refused = post(client, path, address)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["X-RateLimit-Limit"] == str(limit)
    assert refused["X-RateLimit-Remaining"] == "0"
    assert refused["X-RateLimit-Policy"] == f"{limit};w=60"
    if path.startswith("/api/"):
        assert refused.json()["code"] == "rate_limited"
        assert refused.json()["request_id"] == refused["X-Request-ID"]
    else:
        assert "Too many attempts" in refused.text, "a page explains it in words"

    assert post(client, path, other_address).status_code != 429, "another client is not punished"


@pytest.mark.django_db
def test_every_answer_within_the_limit_says_how_many_attempts_remain(client, endpoint):
    (address,) = addresses_with_time_left(1)
    answers = [post(client, endpoint.path, address) for _ in range(endpoint.limit)]
    assert [answer.status_code for answer in answers if answer.status_code >= 500] == [], "never a server error"
    assert [answer.get("X-RateLimit-Remaining") for answer in answers] == [
        str(endpoint.limit - n) for n in range(1, endpoint.limit + 1)
    ]


@pytest.mark.django_db
def test_reading_the_sign_in_page_is_never_limited(client):
    (address,) = addresses_with_time_left(1)
    for _ in range(12):
        post(client, "/accounts/login/", address)
    assert client.get("/accounts/login/", REMOTE_ADDR=address).status_code == 200


@pytest.mark.django_db
def test_the_sign_in_page_and_the_api_token_endpoint_share_one_counter_per_address(client):
    (address,) = addresses_with_time_left(1)
    for attempt in range(10):
        answer = post(client, "/accounts/login/" if attempt % 2 else "/api/v1/auth/token/", address)
        assert answer.status_code != 429
    assert post(client, "/accounts/login/", address).status_code == 429
    assert post(client, "/api/v1/auth/token/", address).status_code == 429, "switching door does not help"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "connecting_from", "forwarded_for"),
    [
        pytest.param(0, "client", "198.18.0.{n}", id="no proxy: the whole header is the client's"),
        pytest.param(1, "proxy", "198.18.0.{n}, {client}", id="behind a proxy: the left-most entry is the client's"),
    ],
)
def test_writing_a_new_x_forwarded_for_each_time_does_not_get_a_fresh_counter(
    client, proxies, connecting_from, forwarded_for
):
    (address,) = addresses_with_time_left(1)
    remote_addr = address if connecting_from == "client" else PROXY
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        answers = [
            post(
                client,
                "/accounts/password/reset/",
                remote_addr,
                **{"X-Forwarded-For": forwarded_for.format(n=n, client=address)},
            )
            for n in range(4)
        ]
    assert [a.status_code == 429 for a in answers] == [False, False, False, True]


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_our_proxy_two_clients_are_counted_separately_by_the_address_the_proxy_saw(client):
    first, second = addresses_with_time_left(2)
    for _ in range(3):
        post(client, "/accounts/password/reset/", PROXY, **{"X-Forwarded-For": first})
    assert post(client, "/accounts/password/reset/", PROXY, **{"X-Forwarded-For": first}).status_code == 429
    assert post(client, "/accounts/password/reset/", PROXY, **{"X-Forwarded-For": second}).status_code != 429, (
        "one client's mistakes do not lock out everyone behind the same load balancer"
    )


@pytest.mark.django_db
def test_the_counter_lives_in_redis_so_every_web_process_enforces_the_same_limit(client):
    (address,) = addresses_with_time_left(1)
    for _ in range(4):
        post(client, "/accounts/password/reset/", address)

    key = group_limit("forgot_password", address).key
    other_process = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    try:
        assert int(other_process.get(key)) == 4, "a separate Redis connection reads the count"
    finally:
        other_process.close()
