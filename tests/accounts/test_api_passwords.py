"""Forgotten, reset and changed passwords through the API.

The reset link is the one the page uses, so its two halves (uid and token) work here; a
link lives one hour and works once, and asking for one never tells whether an account exists.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from allauth.account.forms import EmailAwarePasswordResetTokenGenerator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from security.models import AuditEvent
from tests.helpers import PASSWORD, sign_in

RESET_LINK = re.compile(r"/accounts/password/reset/key/([0-9a-z]+)-([^/\s]+)/")
NEW_PASSWORD = "a-Fresh-passphrase-2026"


class MadeAnHourAgo(EmailAwarePasswordResetTokenGenerator):
    """Tokens as this project's generator made them just over PASSWORD_RESET_TIMEOUT ago."""

    def _now(self):
        return datetime.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)


class MadeFiftyNineMinutesAgo(EmailAwarePasswordResetTokenGenerator):
    def _now(self):
        return datetime.now() - timedelta(minutes=59)


def forgot(client, email: str):
    return client.post("/api/v1/auth/password/forgot/", {"email": email}, format="json")


def reset_link_for(client, user) -> dict:
    forgot(client, user.email)
    uid, token = RESET_LINK.search(mail.outbox[-1].body).groups()
    return {"uid": uid, "token": token}


@pytest.mark.django_db
def test_forgot_answers_the_same_for_known_and_unknown_addresses(api_client, owner):
    known = forgot(api_client, owner.email)
    unknown = forgot(api_client, "nobody@example.com")
    assert (
        (known.status_code, known.json()["detail"])
        == (unknown.status_code, unknown.json()["detail"])
        == (
            200,
            known.json()["detail"],
        )
    )
    to_owner = [m for m in mail.outbox if m.to == [owner.email]]
    assert len(to_owner) == 1 and RESET_LINK.search(to_owner[0].body), "the owner gets a reset link"
    assert not any(RESET_LINK.search(m.body) for m in mail.outbox if m.to == ["nobody@example.com"])


@pytest.mark.django_db
def test_the_link_from_the_email_validates(api_client, owner):
    answer = api_client.post("/api/v1/auth/password/reset/validate/", reset_link_for(api_client, owner), format="json")
    assert answer.status_code == 200 and answer.json() == {"valid": True}


@pytest.mark.django_db
def test_a_link_lives_one_hour(api_client, owner):
    uid = user_pk_to_url_str(owner)
    fresh = {"uid": uid, "token": MadeFiftyNineMinutesAgo().make_token(owner)}
    stale = {"uid": uid, "token": MadeAnHourAgo().make_token(owner)}
    assert api_client.post("/api/v1/auth/password/reset/validate/", fresh, format="json").status_code == 200
    expired = api_client.post("/api/v1/auth/password/reset/validate/", stale, format="json")
    assert expired.status_code == 400
    assert "token" in expired.json()["errors"]
    refused = api_client.post("/api/v1/auth/password/reset/", {**stale, "password": NEW_PASSWORD}, format="json")
    assert refused.status_code == 400
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_made_up_uid_or_token_is_a_400_on_token(api_client, owner):
    for link in ({"uid": "zzzz", "token": "abc-def"}, {"uid": user_pk_to_url_str(owner), "token": "abc-def"}):
        answer = api_client.post("/api/v1/auth/password/reset/validate/", link, format="json")
        assert answer.status_code == 400 and "token" in answer.json()["errors"]


@pytest.mark.django_db
def test_resetting_sets_the_password_ends_every_session_and_token_and_the_link_works_once(api_client, owner):
    browser = Client()
    browser.force_login(owner)
    integration = APIClient()
    tokens = sign_in(integration, owner.email)
    link = reset_link_for(api_client, owner)

    answer = api_client.post("/api/v1/auth/password/reset/", {**link, "password": NEW_PASSWORD}, format="json")
    assert answer.status_code == 200
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="auth.password_reset", user=owner).exists()
    assert browser.get("/api/v1/me/").status_code == 401, "the browser session ended"
    refresh = integration.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refresh.status_code == 401, "the refresh token was blacklisted"

    used = api_client.post("/api/v1/auth/password/reset/validate/", link, format="json")
    assert used.status_code == 400, "a used link is dead"
    again = api_client.post("/api/v1/auth/password/reset/", {**link, "password": "another-Pass-2027"}, format="json")
    assert again.status_code == 400
    assert (
        APIClient()
        .post("/api/v1/auth/token/", {"email": owner.email, "password": NEW_PASSWORD}, format="json")
        .status_code
        == 200
    )


@pytest.mark.django_db
def test_a_weak_new_password_is_a_400_on_password_and_the_link_still_works(api_client, owner):
    link = reset_link_for(api_client, owner)
    answer = api_client.post("/api/v1/auth/password/reset/", {**link, "password": "password"}, format="json")
    assert answer.status_code == 400 and "password" in answer.json()["errors"]
    assert api_client.post("/api/v1/auth/password/reset/validate/", link, format="json").status_code == 200


@pytest.mark.django_db
def test_changing_the_password_needs_the_current_one(owner_api_client, owner):
    answer = owner_api_client.post(
        "/api/v1/auth/password/change/", {"old_password": "wrong", "new_password": NEW_PASSWORD}, format="json"
    )
    assert answer.status_code == 400 and "old_password" in answer.json()["errors"]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


@pytest.mark.django_db
def test_changing_the_password_keeps_this_browser_and_ends_the_others(owner_api_client, owner):
    other_browser = Client()
    other_browser.force_login(owner)
    answer = owner_api_client.post(
        "/api/v1/auth/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["tokens"] is None
    assert owner_api_client.get("/api/v1/me/").status_code == 200, "this browser stays signed in"
    assert other_browser.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
def test_a_token_client_changing_the_password_gets_new_tokens_and_its_old_refresh_dies(api_client, owner):
    old = sign_in(api_client, owner.email)
    answer = api_client.post(
        "/api/v1/auth/password/change/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert answer.status_code == 200
    new = answer.json()["tokens"]
    assert api_client.post("/api/v1/auth/token/refresh/", {"refresh": old["refresh"]}, format="json").status_code == 401
    assert api_client.post("/api/v1/auth/token/refresh/", {"refresh": new["refresh"]}, format="json").status_code == 200
    assert User.objects.get(pk=owner.pk).check_password(NEW_PASSWORD)
