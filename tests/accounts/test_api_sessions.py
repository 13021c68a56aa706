"""Where the account is signed in, through the API: each browser with its device, address
and last activity; ending one, or all the others; never another account's."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client

from tests.helpers import PASSWORD

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Version/18.1 Safari/604.1"


def browser_signed_in(user, *, user_agent: str, address: str) -> Client:
    browser = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    answer = browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert answer.status_code == 302, answer.content
    return browser


def signed_in(browser: Client) -> bool:
    return browser.get("/api/v1/me/").status_code == 200


@pytest.fixture
def laptop(owner):
    return browser_signed_in(owner, user_agent=FIREFOX, address="198.51.100.10")


@pytest.fixture
def phone(owner):
    return browser_signed_in(owner, user_agent=SAFARI, address="203.0.113.20")


@pytest.mark.django_db
def test_the_list_shows_each_browser_with_its_device_and_address_and_which_one_is_asking(laptop, phone):
    answer = laptop.get("/api/v1/auth/sessions/")
    assert answer.status_code == 200
    rows = {row["device"]: row for row in answer.json()}
    assert set(rows) == {"Firefox on Linux", "Safari on iOS"}
    assert rows["Firefox on Linux"]["ip"] == "198.51.100.10" and rows["Firefox on Linux"]["current"] is True
    assert rows["Safari on iOS"]["ip"] == "203.0.113.20" and rows["Safari on iOS"]["current"] is False
    assert all(row["created_at"] and row["last_seen_at"] for row in rows.values())
    assert "session_key" not in answer.content.decode()


@pytest.mark.django_db
def test_ending_another_of_my_sessions_signs_that_browser_out(laptop, phone, owner):
    phone_session = UserSession.objects.get(user=owner, user_agent=SAFARI)
    assert laptop.delete(f"/api/v1/auth/sessions/{phone_session.pk}/").status_code == 204
    assert not signed_in(phone)
    assert signed_in(laptop)


@pytest.mark.django_db
def test_ending_the_session_making_the_request_signs_it_out_cleanly(laptop, owner):
    own = UserSession.objects.get(user=owner, user_agent=FIREFOX)
    assert laptop.delete(f"/api/v1/auth/sessions/{own.pk}/").status_code == 204
    assert not signed_in(laptop)


@pytest.mark.django_db
def test_another_accounts_session_is_not_found_and_stays_signed_in(laptop, outsider):
    theirs = browser_signed_in(outsider, user_agent=SAFARI, address="192.0.2.8")
    their_session = UserSession.objects.get(user=outsider)
    assert laptop.delete(f"/api/v1/auth/sessions/{their_session.pk}/").status_code == 404
    assert signed_in(theirs)
    assert [row["device"] for row in laptop.get("/api/v1/auth/sessions/").json()] == ["Firefox on Linux"]


@pytest.mark.django_db
def test_signing_out_everywhere_else_keeps_this_browser(laptop, phone, owner):
    third = browser_signed_in(owner, user_agent=FIREFOX, address="192.0.2.99")
    answer = laptop.post("/api/v1/auth/sessions/revoke-others/")
    assert answer.status_code == 200 and answer.json()["ended"] == 2
    assert signed_in(laptop)
    assert not signed_in(phone) and not signed_in(third)


@pytest.mark.django_db
def test_a_token_client_sees_the_browsers_none_of_them_current(owner_jwt, laptop):
    rows = owner_jwt.get("/api/v1/auth/sessions/").json()
    assert [(row["device"], row["current"]) for row in rows] == [("Firefox on Linux", False)]
