"""An integration's whole life through the API: sign up, verify, sign in, turn on an
authenticator app, sign out, sign in again with the second factor."""

from __future__ import annotations

import pyotp
import pytest
from django.conf import settings
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import User
from security.models import AuditEvent
from tests.accounts.helpers import SIX_DIGITS
from tests.fakes.authenticator import unused_totp_code
from tests.helpers import PASSWORD, with_access

EMAIL = "ivy@example.com"


@pytest.mark.django_db
def test_sign_up_verify_sign_in_turn_on_totp_sign_out_and_back_in_with_the_code(django_capture_on_commit_callbacks):
    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        signed_up = client.post(
            "/api/v1/auth/signup/", {"email": EMAIL, "password": PASSWORD, "name": "Ivy Integrator"}, format="json"
        )
    assert signed_up.status_code == 201
    assert "Check your email" in signed_up.json()["detail"]
    (verification,) = mail.outbox
    code = SIX_DIGITS.search(verification.body).group(1)

    tokens = client.post("/api/v1/auth/token/", {"email": EMAIL, "password": PASSWORD}, format="json").json()
    with_access(client, tokens["access"])
    assert client.get("/api/v1/auth/profile/").json()["email_verified"] is False, "unverified users can sign in"
    with django_capture_on_commit_callbacks(execute=True):
        verified = client.post("/api/v1/auth/verify-email/", {"code": code}, format="json")
    assert verified.status_code == 200, verified.json()
    assert client.get("/api/v1/auth/profile/").json()["email_verified"] is True
    assert mail.outbox[-1].subject == "[CryptoVault] Welcome to CryptoVault", "a welcome email follows"

    begun = client.post("/api/v1/auth/2fa/totp/", {}, format="json").json()
    assert begun["qr_svg"].startswith("<svg") and begun["manual_key"] in begun["provisioning_uri"]
    confirmed = client.post(
        "/api/v1/auth/2fa/totp/confirm/", {"code": pyotp.parse_uri(begun["provisioning_uri"]).now()}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.json()
    recovery_codes = confirmed.json()["recovery_codes"]
    assert len(recovery_codes) == 10
    tokens = confirmed.json()["tokens"]  # turning 2FA on ended every token we held: these replace ours
    assert client.get("/api/v1/auth/2fa/").status_code == 401, "the access token from before is dead"
    with_access(client, tokens["access"])
    assert client.get("/api/v1/auth/2fa/").json()["enabled"] is True

    signed_out = client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert signed_out.status_code == 200
    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 401, "a signed-out refresh token is dead"

    anonymous = APIClient()
    asked = anonymous.post("/api/v1/auth/token/", {"email": EMAIL, "password": PASSWORD}, format="json")
    assert asked.status_code == 401
    assert asked.json()["code"] == "otp_required"
    assert asked.json()["methods"] == ["totp", "recovery_code"]
    assert "access" not in asked.json()

    user = User.objects.get(email=EMAIL)
    otp_code = unused_totp_code(user)
    signed_in = anonymous.post(
        "/api/v1/auth/token/", {"email": EMAIL, "password": PASSWORD, "otp_code": otp_code}, format="json"
    )
    assert signed_in.status_code == 200 and set(signed_in.json()) == {"access", "refresh"}
    assert settings.SESSION_COOKIE_NAME not in signed_in.cookies, "a token sign-in leaves no browser session behind"
    assert with_access(APIClient(), signed_in.json()["access"]).get("/api/v1/me/").json()["email"] == EMAIL

    replayed = anonymous.post(
        "/api/v1/auth/token/", {"email": EMAIL, "password": PASSWORD, "otp_code": otp_code}, format="json"
    )
    assert replayed.status_code == 400, "a code works once"
    assert replayed.json()["code"] == "invalid_code" and "otp_code" in replayed.json()["errors"]

    by_recovery = {"email": EMAIL, "password": PASSWORD, "otp_code": recovery_codes[0]}
    assert anonymous.post("/api/v1/auth/token/", by_recovery, format="json").status_code == 200
    assert anonymous.post("/api/v1/auth/token/", by_recovery, format="json").status_code == 400, "used up"
    remaining = with_access(APIClient(), signed_in.json()["access"]).get("/api/v1/auth/2fa/").json()
    assert remaining["recovery_codes_remaining"] == 9

    actions = set(AuditEvent.objects.filter(user=user).values_list("action", flat=True))
    assert {"account.signed_up", "email.verified", "2fa.totp_enabled", "auth.token_issued"} <= actions


@pytest.mark.django_db
def test_a_wrong_password_is_a_401_with_a_field_message_and_no_tokens(api_client, owner):
    answer = api_client.post("/api/v1/auth/token/", {"email": owner.email, "password": "not-it"}, format="json")
    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_credentials"
    assert "password" in answer.json()["errors"] and "access" not in answer.json()


@pytest.mark.django_db
def test_a_refresh_token_works_once_and_its_replacement_works_next(api_client, owner):
    tokens = api_client.post("/api/v1/auth/token/", {"email": owner.email, "password": PASSWORD}, format="json").json()
    first = api_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert first.status_code == 200 and {"access", "refresh"} <= set(first.json())
    again = api_client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401, "rotation: the used refresh token is blacklisted"
    following = api_client.post("/api/v1/auth/token/refresh/", {"refresh": first.json()["refresh"]}, format="json")
    assert following.status_code == 200


@pytest.mark.django_db
def test_signing_out_with_a_made_up_refresh_token_is_a_401_not_a_500(api_client):
    answer = api_client.post("/api/v1/auth/logout/", {"refresh": "not-a-token"}, format="json")
    assert answer.status_code == 401
    assert answer.json()["detail"] == "Token is invalid"
