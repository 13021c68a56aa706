"""The Sessions page: where am I signed in, and signing those places out."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client

from cryptovault.user_agents import describe_user_agent
from tests.conftest import PASSWORD

FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def _signed_in_client(user, user_agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    client.get("/")  # a request with the session records it
    return client


def test_the_page_lists_this_session_with_its_device_and_address(owner):
    client = _signed_in_client(owner, CHROME_ON_LINUX)
    page = client.get("/accounts/sessions/")
    assert page.status_code == 200
    assert b"Chrome on Linux" in page.content
    assert b"127.0.0.1" in page.content
    assert page.content.count(b'data-testid="this-session"') == 1


def test_another_session_is_listed_and_can_be_signed_out(owner):
    laptop = _signed_in_client(owner, CHROME_ON_LINUX)
    _signed_in_client(owner, FIREFOX_ON_WINDOWS)
    page = laptop.get("/accounts/sessions/")
    assert b"Firefox on Windows" in page.content
    other = UserSession.objects.get(user=owner, user_agent=FIREFOX_ON_WINDOWS)
    response = laptop.post(f"/accounts/sessions/{other.pk}/revoke/", follow=True)
    assert b"That session is signed out" in response.content
    assert b"Firefox on Windows" not in response.content


def test_signing_out_all_other_sessions_keeps_this_one(owner):
    laptop = _signed_in_client(owner, CHROME_ON_LINUX)
    phone = _signed_in_client(owner, FIREFOX_ON_WINDOWS)
    response = laptop.post("/accounts/sessions/revoke-others/", follow=True)
    assert b"Signed out 1 other session." in response.content
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302, "the other browser is signed out"


def test_another_users_session_cannot_be_revoked(owner, outsider):
    client = _signed_in_client(owner, CHROME_ON_LINUX)
    _signed_in_client(outsider, FIREFOX_ON_WINDOWS)
    theirs = UserSession.objects.get(user=outsider)
    assert client.post(f"/accounts/sessions/{theirs.pk}/revoke/").status_code == 404
    assert UserSession.objects.filter(pk=theirs.pk).exists()


def test_revoking_needs_a_post(owner):
    client = _signed_in_client(owner, CHROME_ON_LINUX)
    mine = UserSession.objects.get(user=owner)
    assert client.get(f"/accounts/sessions/{mine.pk}/revoke/").status_code == 405


def test_a_session_id_beyond_any_database_integer_is_simply_not_found(owner):
    client = _signed_in_client(owner, CHROME_ON_LINUX)
    assert client.post("/accounts/sessions/99999999999999999999999/revoke/").status_code == 404


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (CHROME_ON_LINUX, "Chrome on Linux"),
        (FIREFOX_ON_WINDOWS, "Firefox on Windows"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
    ],
)
def test_each_session_names_the_browser_and_system_a_person_recognises(user_agent, shown):
    assert describe_user_agent(user_agent) == shown
