"""How long a sign-in lasts: 30 minutes without activity, 12 hours however busy.

A forgotten browser on a shared computer must not stay signed in to a trading account.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.middleware import SIGNED_IN_AT_SESSION_KEY
from tests.conftest import PASSWORD


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def signed_in_client(client, owner):
    assert client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.mark.django_db
def test_twelve_hours_after_signing_in_the_next_request_signs_out_with_a_message(signed_in_client):
    session = signed_in_client.session
    assert session[SIGNED_IN_AT_SESSION_KEY] == pytest.approx(time.time(), abs=5), "signing in starts the clock"
    session[SIGNED_IN_AT_SESSION_KEY] = int(time.time()) - settings.SESSION_ABSOLUTE_TIMEOUT - 1
    session.save()

    answer = signed_in_client.get("/", follow=True)
    assert answer.status_code == 200
    assert not signed_in(signed_in_client)
    assert answer.redirect_chain and answer.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "Your session ended after 12 hours. Sign in again to continue." in answer.text


@pytest.mark.django_db
def test_a_busy_session_younger_than_twelve_hours_stays_signed_in(signed_in_client):
    session = signed_in_client.session
    session[SIGNED_IN_AT_SESSION_KEY] = int(time.time()) - settings.SESSION_ABSOLUTE_TIMEOUT + 60
    session.save()
    assert signed_in_client.get("/").status_code == 200
    assert signed_in(signed_in_client)


@pytest.mark.django_db
def test_activity_moves_the_end_of_the_session_thirty_minutes_ahead(signed_in_client):
    """The end is kept on the server; the cookie itself ends with the browser (ACCOUNT_SESSION_REMEMBER off).
    Activity is recorded at most once a minute (tests/accounts/test_hardening_sessions.py)."""
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    signed_in_client.get("/")
    first_end = Session.objects.get().expire_date
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        signed_in_client.get("/")
        second_end = Session.objects.get().expire_date
        assert second_end - timezone.now() == pytest.approx(timedelta(minutes=30), abs=timedelta(seconds=5))

    assert second_end > first_end
    assert signed_in_client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == "", "closing the browser ends it too"


@pytest.mark.django_db
def test_after_thirty_idle_minutes_the_session_is_gone(signed_in_client):
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    answer = signed_in_client.get("/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
