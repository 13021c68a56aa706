"""Issue 12 hardening: a signed-in page costs at most three queries and writes nothing unless
something changed; the 30-minute idle limit and the sessions list ("last seen", kept to the
minute) still hold."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.helpers import PASSWORD, text

PAGE = "/accounts/profile/"
WRITES = ("UPDATE", "INSERT", "DELETE")


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def signed_in(client, owner, clock):
    answer = client.post(
        "/accounts/login/", {"login": owner.email, "password": PASSWORD}, HTTP_USER_AGENT="Firefox/140"
    )
    assert answer.status_code == 302
    return client


def is_signed_in(client) -> bool:
    answer = client.get(PAGE)
    return answer.status_code == 200


@pytest.mark.django_db
def test_a_signed_in_page_costs_at_most_three_queries(signed_in, clock, django_assert_max_num_queries):
    signed_in.get(PAGE)
    clock.shift(timedelta(seconds=20))
    with django_assert_max_num_queries(3):  # the session, the user, the page's own
        assert signed_in.get(PAGE).status_code == 200


@pytest.mark.django_db
def test_requests_within_a_minute_write_nothing(signed_in, clock):
    signed_in.get(PAGE)
    for _ in range(3):
        clock.shift(timedelta(seconds=15))
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get(PAGE).status_code == 200
        assert writes(queries.captured_queries) == []


@pytest.mark.django_db
def test_after_a_minute_the_next_request_records_last_seen_once(signed_in, owner, clock):
    signed_in.get(PAGE)
    clock.shift(timedelta(minutes=5))
    with CaptureQueriesContext(connection) as queries:
        signed_in.get(PAGE)
    assert 1 <= len(writes(queries.captured_queries)) <= 2, "the session's end and its last-seen time"
    (row,) = UserSession.objects.filter(user=owner)
    assert row.last_seen_at == pytest.approx(timezone.now(), abs=timedelta(seconds=1))
    listing = text(signed_in.get("/accounts/sessions/"))
    assert timezone.localtime(row.last_seen_at, owner.timezone).strftime("%H:%M") in listing


@pytest.mark.django_db
def test_thirty_idle_minutes_end_the_session(signed_in, clock):
    clock.shift(timedelta(seconds=40))
    assert is_signed_in(signed_in)
    clock.shift(timedelta(minutes=30, seconds=1))
    answer = signed_in.get(PAGE)
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_activity_keeps_the_session_alive_past_thirty_minutes(signed_in, clock):
    for _ in range(4):
        clock.shift(timedelta(minutes=10))
        assert is_signed_in(signed_in)
    clock.shift(timedelta(minutes=29))
    assert is_signed_in(signed_in)
