"""The API answers what its OpenAPI schema says, for every operation the schema lists.

Schemathesis generates requests from the served schema (valid and invalid input) and checks each
answer: its status is documented, its content type is, its body matches the documented schema,
and it is never a 500. Requests go in-process through the production WSGI handler, on the test
database, signed in with a JWT from POST /api/v1/auth/token/ (and without credentials where the
endpoint is open to anyone). Generation is derandomized and small, so the run is bounded and the
same every time; a new endpoint is covered the moment it is in the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.conftest import PASSWORD
from tests.fakes.authenticator import turn_on_totp, unused_totp_code, verify_email_of

# Per operation and per way of signing in: enough to reach each view's main branches
# (valid input, invalid input, unknown ids) while the whole run stays within seconds.
EXAMPLES_PER_OPERATION = 15

CONFORMANCE_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def wsgi_app(db) -> Iterator[WSGIHandler]:
    """The production WSGI handler, running in this thread inside the test's transaction.

    Django closes "old" database connections when a request starts and finishes; inside a test
    transaction that would close the test's own connection, so (as Django's test client does)
    those two receivers are disconnected while the test runs.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, settings) -> OpenApiSchema:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the Host the in-process client sends
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)


GENEROUS = "100000/m"


@pytest.fixture
def rate_limits_out_of_the_way(settings) -> None:
    """Generated requests all come from one address and one user, far beyond any limit.

    The limits are raised (the API budget and the per-endpoint groups, under either settings name),
    and their counters, which live in the cache's Redis, are cleared before every request. A 429
    would still be documented, so this only keeps the run reaching the views.
    """
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], GENEROUS),
    }
    for name in ("RATE_LIMITS", "ACCOUNTS_RATE_LIMITS"):
        limits = getattr(settings, name, None)
        if isinstance(limits, dict) and all(isinstance(rate, str) for rate in limits.values()):
            setattr(settings, name, dict.fromkeys(limits, GENEROUS))


def jwt_headers(schema: OpenApiSchema, email: str, **second_factor: str) -> dict[str, str]:
    """Sign in the way an integration does, through the same in-process app."""
    case = schema["/api/v1/auth/token/"]["POST"].Case(
        body={"email": email, "password": PASSWORD, **second_factor}, media_type="application/json"
    )
    answer = case.call()
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access']}"}


def open_to_anyone(operation) -> bool:
    """The operation's security requirements include the empty one: no credentials needed."""
    return {} in operation.definition.raw.get("security", [{}])


def conformance_failures(operation, *, headers: dict[str, str]) -> list[str]:
    """Run the generated cases of one operation; describe every answer that breaks the schema."""
    found: dict[tuple[str, ...], str] = {}
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        cache.clear()  # rate-limit counters: see rate_limits_out_of_the_way
        try:
            case.call_and_validate(headers=headers, checks=CONFORMANCE_CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (operation.label, failure.title, failure.message.splitlines()[0] if failure.message else "")
                found.setdefault(key, f"{operation.label}: {group.message}")

    run()
    return list(found.values())


def operations(schema: OpenApiSchema) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def all_failures(schema: OpenApiSchema, *, headers: dict[str, str], only_open: bool = False) -> str:
    listed = [operation for operation in operations(schema) if open_to_anyone(operation) or not only_open]
    assert len(listed) > (5 if only_open else 30), "every operation of the schema is exercised"
    failures = [failure for operation in listed for failure in conformance_failures(operation, headers=headers)]
    return f"{len(failures)} answers differ from the schema:\n\n" + "\n\n".join(failures) if failures else ""


def test_every_operation_answers_a_member_with_two_factor_on_as_its_schema_says(
    api_schema, owner, rate_limits_out_of_the_way
):
    """Sensitive actions reach their gates: wrong codes, missing step-ups, invalid keys."""
    verify_email_of(owner)
    turn_on_totp(owner)
    headers = jwt_headers(api_schema, owner.email, otp_code=unused_totp_code(owner))
    assert not (failures := all_failures(api_schema, headers=headers)), failures


def test_every_operation_answers_staff_as_its_schema_says(api_schema, staff_user, rate_limits_out_of_the_way):
    """Staff also reach the staff endpoints (accounts list and detail) past their permission, signed in
    with the second factor those demand (as the admin)."""
    turn_on_totp(staff_user)
    headers = jwt_headers(api_schema, staff_user.email, otp_code=unused_totp_code(staff_user))
    assert not (failures := all_failures(api_schema, headers=headers)), failures


def test_every_open_operation_answers_anonymous_clients_as_its_schema_says(api_schema, rate_limits_out_of_the_way):
    assert not (failures := all_failures(api_schema, headers={}, only_open=True)), failures


def test_a_wrong_password_is_a_documented_401(api_schema, owner):
    case = api_schema["/api/v1/auth/token/"]["POST"].Case(
        body={"email": owner.email, "password": "not-the-password"}, media_type="application/json"
    )
    response = case.call_and_validate(checks=CONFORMANCE_CHECKS)
    assert response.status_code == 401
    assert "methods" not in response.json(), "only a second-factor request names the methods"


def test_nested_field_errors_are_documented(api_schema, owner):
    headers = jwt_headers(api_schema, owner.email)
    too_long = "1" * 65
    case = api_schema["/api/v1/auth/api-keys/"]["POST"].Case(
        body={"name": "bot", "scopes": ["read"], "allowed_ips": ["10.0.0.1", too_long]}, media_type="application/json"
    )
    response = case.call_and_validate(headers=headers, checks=CONFORMANCE_CHECKS)
    assert response.status_code == 400
    assert set(response.json()["errors"]["allowed_ips"]) == {"1"}, "the message names the entry at fault"

    case = api_schema["/api/v1/auth/notification-preferences/"]["PUT"].Case(
        body={"preferences": {"security": {"email": "sometimes"}}}, media_type="application/json"
    )
    response = case.call_and_validate(headers=headers, checks=CONFORMANCE_CHECKS)
    assert response.status_code == 400
    assert response.json()["errors"]["preferences"]["security"]["email"]


def test_a_throttled_sign_in_is_a_documented_429(api_schema):
    operation = api_schema["/api/v1/auth/token/"]["POST"]
    for attempt in range(200):
        case = operation.Case(
            body={"email": f"nobody{attempt}@example.com", "password": "wrong"}, media_type="application/json"
        )
        response = case.call_and_validate(checks=CONFORMANCE_CHECKS)
        if response.status_code == 429:
            break
    assert response.status_code == 429, "sign-in attempts from one address are limited"
    assert response.headers.get("retry-after"), "the client is told when to try again"
