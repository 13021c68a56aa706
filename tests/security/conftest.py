"""Audit records written the way services write them, for the activity tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from cryptovault.actor import Actor
from security.audit import audit_record
from security.models import AuditEvent

CHROME_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"
HOME = "203.0.113.7"


@pytest.fixture
def record(db) -> Callable[..., AuditEvent]:
    """`record(user, action, ...)`: one audit record about `user`'s account, by `by` (the user
    themself unless given), optionally dated `at`."""
    request_ids = (f"req-{n:04d}" for n in itertools.count(1))

    def write(
        user,
        action: str = "auth.signed_in",
        *,
        by=None,
        via: str = "page",
        ip: str | None = HOME,
        user_agent: str = CHROME_ON_LINUX,
        outcome: str = "success",
        at: datetime | None = None,
        **details,
    ) -> AuditEvent:
        actor = Actor(user=by or user, via=via, ip=ip, user_agent=user_agent, request_id=next(request_ids))
        if at is None:
            return audit_record(action, actor=actor, user=user, outcome=outcome, **details)
        with time_machine.travel(at, tick=False):  # created_at is stamped on insert, and never changed after
            return audit_record(action, actor=actor, user=user, outcome=outcome, **details)

    return write


def _signed_in(client, user):
    """force_login is a sign-in, which the audit log records; the log is append-only, so that record
    is not written here: each activity test's log then holds only the records it wrote."""
    with mock.patch("accounts.signals.audit_record"):
        client.force_login(user)
    return client


@pytest.fixture
def signed_in(db) -> Callable[..., Client]:
    """`signed_in(user)`: a browser signed in as `user`."""
    return lambda user: _signed_in(Client(), user)


@pytest.fixture
def api_signed_in(db) -> Callable[..., APIClient]:
    """`api_signed_in(user)`: an API client with `user`'s session."""
    return lambda user: _signed_in(APIClient(), user)


@pytest.fixture
def owner_client(signed_in, owner) -> Client:
    return signed_in(owner)


@pytest.fixture
def owner_api_client(api_signed_in, owner) -> APIClient:
    return api_signed_in(owner)


@pytest.fixture
def owner_token_client(owner) -> APIClient:
    """The owner with a JWT access token: a request costs the user's row and nothing else."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(owner)}")
    return client


def fill(record, user, count: int) -> None:
    """`count` records of two kinds, from the website and the API, with details."""
    for n in range(count):
        record(user, "auth.signed_in" if n % 2 else "api_key.created", via="api" if n % 3 else "page", key_name=f"k{n}")


def queries_of(client, url: str) -> int:
    """How many queries answering `url` takes, a streamed answer read to its end."""
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(url)
        if answer.streaming:
            b"".join(answer.streaming_content)
    return len(queries)


def signed_in_page_cost(client: Client) -> int:
    """What any request of a signed-in browser costs before its view runs (session, user, allauth's
    session row and its updates), measured on a page that does not exist. A list's own queries
    are pinned on top of this, so a change to the middleware does not break every list's test."""
    client.get("/security/no-such-page/")  # the session's first request records it; later ones do not
    return queries_of(client, "/security/no-such-page/")
