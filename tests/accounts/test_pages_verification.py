"""Signing up and verifying the email address, as the person doing it sees it."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User
from tests.conftest import PASSWORD

CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"http://testserver(/accounts/confirm-email/[^/\s]+/)")


@pytest.fixture
def signed_up(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {"name": "Nina New", "email": "nina@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302, response.content
    return User.objects.get(email="nina@example.com")


def _verification_email():
    (message,) = mail.outbox
    return message, CODE.search(message.body).group(1), LINK.search(message.body).group(1)


def test_signing_up_sends_one_email_with_a_code_and_a_link_in_text_and_html(signed_up):
    message, code, link = _verification_email()
    assert message.to == ["nina@example.com"]
    assert "Verify your email address" in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert code in html and link in html
    assert "/accounts/verify/" in message.body
    assert not signed_up.email_verified


def test_the_new_user_is_signed_in_and_the_verify_page_says_not_verified_yet(client, signed_up):
    page = client.get("/accounts/verify/")
    assert page.status_code == 200
    assert b"Not verified yet" in page.content
    assert b"nina@example.com" in page.content


def test_typing_the_code_verifies_the_address_and_a_welcome_email_follows(
    client, signed_up, django_capture_on_commit_callbacks
):
    _, code, _ = _verification_email()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/verify/", {"code": code})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_up.email_verified
    welcome = mail.outbox[-1]
    assert "Welcome" in welcome.subject
    assert welcome.alternatives[0][1] == "text/html"
    assert b"Verified" in client.get("/accounts/verify/").content


def test_a_wrong_code_shows_a_form_error_and_leaves_the_address_unverified(client, signed_up):
    _, code, _ = _verification_email()
    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/accounts/verify/", {"code": wrong})
    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert b'class="errorlist' in response.content
    assert not signed_up.email_verified


def test_letters_instead_of_a_code_are_a_form_error_not_a_crash(client, signed_up):
    response = client.post("/accounts/verify/", {"code": ""})
    assert response.status_code == 200
    assert b"This field is required" in response.content


def test_following_the_link_and_confirming_verifies_the_address(client, signed_up, django_capture_on_commit_callbacks):
    _, _, link = _verification_email()
    page = client.get(link)
    assert page.status_code == 200
    assert b"Confirm your email address" in page.content
    assert b'class="site-header"' in page.content, "the confirm page uses the site layout"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)
    assert signed_up.email_verified
    assert "Welcome" in mail.outbox[-1].subject


def test_a_broken_link_says_so_and_offers_a_new_code(client, signed_up):
    page = client.get("/accounts/confirm-email/not-a-real-key/")
    assert b"invalid or has expired" in page.content
    assert b"/accounts/verify/" in page.content


def test_resending_replaces_the_code_and_the_old_one_stops_working(
    client, signed_up, django_capture_on_commit_callbacks
):
    _, old_code, _ = _verification_email()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/verify/resend/", follow=True)
    assert b"We sent a new code" in response.content
    assert len(mail.outbox) == 2
    new_code = CODE.search(mail.outbox[-1].body).group(1)
    if new_code != old_code:
        assert b"errorlist" in client.post("/accounts/verify/", {"code": old_code}).content
    client.post("/accounts/verify/", {"code": new_code})
    assert signed_up.email_verified


def test_after_verifying_the_user_goes_back_to_the_page_that_sent_them(client, signed_up):
    _, code, _ = _verification_email()
    response = client.post("/accounts/verify/", {"code": code, "next": "/accounts/api-keys/new/"})
    assert response["Location"] == "/accounts/api-keys/new/"


def test_a_next_pointing_at_another_site_is_ignored(client, signed_up):
    _, code, _ = _verification_email()
    response = client.post("/accounts/verify/?next=https://evil.example/", {"code": code})
    assert response["Location"] == "/"


def test_resending_is_limited_to_three_a_minute(client, signed_up):
    statuses = [client.post("/accounts/verify/resend/").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]


def test_asking_for_a_new_code_once_verified_says_there_is_nothing_to_do(
    client, signed_up, django_capture_on_commit_callbacks
):
    _, code, _ = _verification_email()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/verify/", {"code": code})
    sent = len(mail.outbox)
    response = client.post("/accounts/verify/resend/", follow=True)
    assert b"already verified" in response.content
    assert len(mail.outbox) == sent
