"""Signing up and verifying the address through the API, without telling strangers which
addresses have accounts."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from security.models import AuditEvent
from tests.accounts.helpers import SIX_DIGITS
from tests.helpers import PASSWORD, sign_in

LINK_KEY = re.compile(r"/accounts/confirm-email/([^/\s]+)/")


def sign_up(client, django_capture_on_commit_callbacks, **fields):
    body = {"email": "nina@example.com", "password": PASSWORD, "name": "Nina New", **fields}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/api/v1/auth/signup/", body, format="json")


@pytest.mark.django_db
def test_signing_up_creates_an_unverified_account_and_emails_a_code_and_a_link(
    api_client, django_capture_on_commit_callbacks
):
    answer = sign_up(api_client, django_capture_on_commit_callbacks, email="Nina@Example.com")
    assert answer.status_code == 201
    user = User.objects.get(email="nina@example.com")
    assert user.name == "Nina New" and user.check_password(PASSWORD)
    assert EmailAddress.objects.filter(user=user, primary=True, verified=False).exists()
    (message,) = mail.outbox
    assert message.to == ["nina@example.com"]
    assert SIX_DIGITS.search(message.body) and LINK_KEY.search(message.body)
    assert AuditEvent.objects.get(action="account.signed_up").via == "api"


@pytest.mark.django_db
def test_an_address_that_already_has_an_account_gets_the_same_answer_and_its_owner_a_notice(
    api_client, owner, django_capture_on_commit_callbacks
):
    new = sign_up(api_client, django_capture_on_commit_callbacks, email="someone-new@example.com")
    taken = sign_up(
        api_client, django_capture_on_commit_callbacks, email="OWNER@example.com", password="x-Other-pass-9"
    )
    assert (taken.status_code, taken.json()["detail"]) == (new.status_code, new.json()["detail"])
    assert User.objects.filter(email="owner@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD), "the existing account is untouched"
    notice = mail.outbox[-1]
    assert notice.to == ["owner@example.com"]
    assert "/accounts/password/reset/" in notice.body, "the owner is pointed at the password reset"


@pytest.mark.django_db
def test_a_weak_password_is_a_400_with_the_reasons_under_password(api_client, django_capture_on_commit_callbacks):
    answer = sign_up(api_client, django_capture_on_commit_callbacks, password="12345")
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    reasons = " ".join(answer.json()["errors"]["password"])
    assert "too short" in reasons and "entirely numeric" in reasons
    assert not User.objects.filter(email="nina@example.com").exists()


@pytest.mark.django_db
def test_a_password_like_the_email_is_refused(api_client, django_capture_on_commit_callbacks):
    answer = sign_up(
        api_client, django_capture_on_commit_callbacks, email="ninasmith@example.com", password="ninasmith1"
    )
    assert answer.status_code == 400
    assert any("similar" in reason for reason in answer.json()["errors"]["password"])


@pytest.mark.django_db
def test_missing_fields_are_named(api_client):
    answer = api_client.post("/api/v1/auth/signup/", {}, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"email", "password", "name"}


@pytest.mark.django_db
def test_the_link_key_verifies_without_signing_in(api_client, django_capture_on_commit_callbacks):
    sign_up(api_client, django_capture_on_commit_callbacks)
    key = LINK_KEY.search(mail.outbox[0].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        answer = APIClient().post("/api/v1/auth/verify-email/", {"key": key}, format="json")
    assert answer.status_code == 200
    assert User.objects.get(email="nina@example.com").email_verified


@pytest.mark.django_db
def test_a_made_up_link_key_is_a_400_on_key(api_client):
    answer = api_client.post("/api/v1/auth/verify-email/", {"key": "made-up"}, format="json")
    assert answer.status_code == 400
    assert "key" in answer.json()["errors"]


@pytest.mark.django_db
def test_the_code_needs_the_account_signed_in(api_client):
    answer = api_client.post("/api/v1/auth/verify-email/", {"code": "123456"}, format="json")
    assert answer.status_code == 401


@pytest.mark.django_db
def test_a_wrong_code_is_a_400_on_code_and_resending_replaces_the_code(api_client, django_capture_on_commit_callbacks):
    sign_up(api_client, django_capture_on_commit_callbacks)
    first_code = SIX_DIGITS.search(mail.outbox[0].body).group(1)
    sign_in(api_client, "nina@example.com")
    wrong = "000000" if first_code != "000000" else "111111"
    answer = api_client.post("/api/v1/auth/verify-email/", {"code": wrong}, format="json")
    assert answer.status_code == 400 and "code" in answer.json()["errors"]

    with django_capture_on_commit_callbacks(execute=True):
        resent = api_client.post("/api/v1/auth/verify-email/resend/", format="json")
    assert resent.status_code == 200 and "nina@example.com" in resent.json()["detail"]
    second_code = SIX_DIGITS.search(mail.outbox[-1].body).group(1)
    if first_code != second_code:
        stale = api_client.post("/api/v1/auth/verify-email/", {"code": first_code}, format="json")
        assert stale.status_code == 400, "the earlier code stopped working"
    assert api_client.post("/api/v1/auth/verify-email/", {"code": second_code}, format="json").status_code == 200
    again = api_client.post("/api/v1/auth/verify-email/resend/", format="json")
    assert again.json()["detail"] == "Your email address is already verified."
