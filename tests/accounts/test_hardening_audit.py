"""Every auth action the issue lists writes an audit record, through real pages and endpoints:
sign-in success and failure, sign-out, lockout, 2FA on/off, a recovery code used, password
changed/reset, API key created/revoked, role changes."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.services.roles import SUPPORT, role_assign
from accounts.services.second_factor import two_factor_disable
from security.models import AuditEvent
from tests.accounts.helpers import ATTACKER, lock_out
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import turn_on_totp, unused_totp_code
from tests.helpers import PASSWORD, sign_in

NEW_PASSWORD = "another-Long-pass-2026"
RESET_LINK = re.compile(r"(/accounts/password/reset/key/[0-9a-z]+-[^/\s]+/)")


def recorded(action: str, user) -> AuditEvent:
    events = AuditEvent.objects.filter(action=action, user=user)
    assert events.exists(), f"no {action} record"
    return events.latest("created_at")


@pytest.mark.django_db
def test_page_sign_in_failure_success_and_sign_out_are_recorded(owner):
    browser = Client()
    browser.post("/accounts/login/", {"login": owner.email, "password": "wrong"})
    assert recorded("auth.sign_in_failed", owner).outcome == "failure"
    browser.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    recorded("auth.signed_in", owner)
    browser.post("/accounts/logout/")
    recorded("auth.signed_out", owner)


@pytest.mark.django_db
def test_token_sign_in_failure_success_and_sign_out_are_recorded(owner, api_client):
    APIClient().post("/api/v1/auth/token/", {"email": owner.email, "password": "wrong"}, format="json")
    recorded("auth.sign_in_failed", owner)
    tokens = sign_in(api_client, owner.email)
    recorded("auth.token_issued", owner)
    api_client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    recorded("auth.token_revoked", owner)


@pytest.mark.django_db
def test_a_lockout_by_wrong_passwords_or_codes_is_recorded(owner, secured_owner):
    lock_out(owner)
    assert recorded("auth.locked_out", owner).ip == ATTACKER


@pytest.mark.django_db
def test_two_factor_on_off_and_codes_at_sign_in_are_recorded(verified_owner):
    codes = turn_on_totp(verified_owner)
    recorded("2fa.totp_enabled", verified_owner)
    sign_in(APIClient(), verified_owner.email, otp_code=unused_totp_code(verified_owner))
    recorded("2fa.code_accepted", verified_owner)
    APIClient().post(
        "/api/v1/auth/token/",
        {"email": verified_owner.email, "password": PASSWORD, "otp_code": "000000"},
        format="json",
    )
    recorded("2fa.code_rejected", verified_owner)
    sign_in(APIClient(), verified_owner.email, otp_code=codes[0])
    assert recorded("2fa.recovery_code_used", verified_owner).details["recovery_left"] == 9
    two_factor_disable(actor=TEST_ACTOR, user=verified_owner)
    recorded("2fa.disabled", verified_owner)


@pytest.mark.django_db
def test_a_password_changed_on_the_page_is_recorded_as_changed(owner_client, owner):
    owner_client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    recorded("auth.password_changed", owner)
    assert not AuditEvent.objects.filter(action="auth.password_reset").exists()


@pytest.mark.django_db
def test_a_password_set_from_a_reset_link_is_recorded_as_reset(owner):
    browser = Client()
    browser.post("/accounts/password/reset/", {"email": owner.email})
    link = RESET_LINK.search(mail.outbox[-1].body).group(1)
    form = browser.get(link, follow=True)
    answer = browser.post(form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert answer.status_code == 302
    recorded("auth.password_reset", owner)
    assert not AuditEvent.objects.filter(action="auth.password_changed").exists()


@pytest.mark.django_db
def test_api_keys_created_and_revoked_are_recorded(secured_jwt, secured_owner):
    created = secured_jwt.post(
        "/api/v1/auth/api-keys/",
        {"name": "Tax export", "scopes": ["read"], "otp_code": unused_totp_code(secured_owner)},
        format="json",
    )
    assert created.status_code == 201
    recorded("api_key.created", secured_owner)
    revoked = secured_jwt.delete(f"/api/v1/auth/api-keys/{created.json()['id']}/")
    assert revoked.status_code in (200, 204), revoked.content
    recorded("api_key.revoked", secured_owner)


@pytest.mark.django_db
def test_role_changes_are_recorded(owner):
    role_assign(actor=TEST_ACTOR, user=owner, role=SUPPORT)
    assert recorded("account.role_assigned", owner).details["role"] == SUPPORT
