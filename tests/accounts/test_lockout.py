"""Lockout (django-axes): five wrong passwords lock that account for that client for an hour.

The lock is per account and client address, so a stranger cannot lock a user out from
everywhere, and it is told in words; support see it in the admin and can clear it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from security.models import AuditEvent
from tests.conftest import PASSWORD
from tests.helpers import admin_signed_in

ATTACKER = "203.0.113.66"
ELSEWHERE = "198.51.100.23"
BROWSER = "Mozilla/5.0 (LockoutTest)"
LOCKED_WORDS = "Too many failed sign-ins for this account from your network"


def sign_in(client: Client, email: str, password: str, *, address: str = ATTACKER, **headers):
    return client.post(
        "/accounts/login/",
        {"login": email, "password": password},
        REMOTE_ADDR=address,
        headers={"User-Agent": BROWSER, **headers},
    )


def fail_five_times(client: Client, email: str) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        answer = sign_in(client, email, f"wrong-password-{attempt}")
        if attempt < settings.AXES_FAILURE_LIMIT - 1:
            assert answer.status_code == 200, "a wrong password is a form error until the limit"


@pytest.fixture
def locked_out(client, owner):
    fail_five_times(client, owner.email)
    return owner


@pytest.mark.django_db
def test_after_five_wrong_passwords_even_the_right_one_is_refused_with_an_explanation(client, locked_out):
    answer = sign_in(client, locked_out.email, PASSWORD)
    assert answer.status_code == 429
    assert LOCKED_WORDS in answer.text and "60 minutes" in answer.text
    assert int(answer["Retry-After"]) == 3600
    assert "_auth_user_id" not in client.session, "not signed in"


@pytest.mark.django_db
def test_the_time_left_counts_down_from_the_last_failure_and_refused_attempts_do_not_restart_it(
    client, api_client, locked_out
):
    import time_machine

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        page = sign_in(client, locked_out.email, PASSWORD)
        api = api_client.post(
            "/api/v1/auth/token/",
            {"email": locked_out.email, "password": PASSWORD},
            format="json",
            REMOTE_ADDR=ATTACKER,
        )
    for answer in (page, api):
        assert answer.status_code == 429
        assert 2990 <= int(answer["Retry-After"]) <= 3000, answer["Retry-After"]
        assert answer["X-RateLimit-Reset"] == answer["Retry-After"]
    assert "50 minutes" in page.text
    with time_machine.travel(timezone.now() + timedelta(minutes=59, seconds=30)):
        last = sign_in(client, locked_out.email, PASSWORD)
    assert last.status_code == 429 and int(last["Retry-After"]) <= 30
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert sign_in(client, locked_out.email, PASSWORD).status_code == 302, "the lock ended on time"


@pytest.mark.django_db
def test_the_api_token_endpoint_is_locked_for_the_same_account_and_client(client, api_client, locked_out):
    answer = api_client.post(
        "/api/v1/auth/token/", {"email": locked_out.email, "password": PASSWORD}, format="json", REMOTE_ADDR=ATTACKER
    )
    assert answer.status_code == 429
    assert answer.json()["code"] == "account_locked"
    assert "access" not in answer.json()


@pytest.mark.django_db
def test_the_same_account_signs_in_from_another_address(client, locked_out):
    answer = sign_in(Client(), locked_out.email, PASSWORD, address=ELSEWHERE)
    assert answer.status_code == 302, "a stranger's guessing does not lock the owner out everywhere"


@pytest.mark.django_db
def test_a_made_up_x_forwarded_for_does_not_get_around_the_lock(client, locked_out):
    answer = sign_in(client, locked_out.email, PASSWORD, **{"X-Forwarded-For": ELSEWHERE})
    assert answer.status_code == 429


@pytest.mark.django_db
def test_the_lockout_is_audited_with_address_and_browser(client, locked_out):
    record = AuditEvent.objects.get(action="auth.locked_out")
    assert (record.actor_email, record.ip, record.user_agent, record.outcome) == (
        locked_out.email,
        ATTACKER,
        BROWSER,
        "failure",
    )
    assert record.request_id, "the record can be matched with the request's log lines"


@pytest.mark.django_db
def test_support_see_the_lock_in_the_admin_and_clearing_it_lets_the_user_sign_in(client, locked_out, staff_user):
    support = Client()
    admin_signed_in(support, staff_user)
    listing = support.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert locked_out.email in listing.text and ATTACKER in listing.text

    # Cleared with the user list's audited action (the attempts list itself is read-only).
    cleared = support.post(
        "/admin/accounts/user/",
        {"action": "clear_lockout", "_selected_action": [locked_out.pk]},
    )
    assert cleared.status_code == 302
    assert sign_in(client, locked_out.email, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_lock_ends_by_itself_after_the_cool_off_time(client, locked_out):
    AccessAttempt.objects.filter(username=locked_out.email).update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert sign_in(client, locked_out.email, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_four_wrong_passwords_then_the_right_one_signs_in_and_starts_counting_afresh(client, owner):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, owner.email, f"wrong-password-{attempt}")
    assert sign_in(client, owner.email, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username=owner.email).exists()
