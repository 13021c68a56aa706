"""Shared by the test_api_* modules (imported by name): API clients signed in the ways
integrations sign in, users in the states the API cares about, codes computed the way a phone
computes them. No tests here."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tests.fakes.authenticator import turn_on_totp, verify_email_of
from tests.fakes.authenticator import unused_totp_code as next_totp_code

SIX_DIGITS = re.compile(r"\b(\d{6})\b")


def sign_in(client: APIClient, email: str, password: str = PASSWORD, **extra) -> dict:
    """Tokens from the API itself; the client then sends the access token."""
    answer = client.post("/api/v1/auth/token/", {"email": email, "password": password, **extra}, format="json")
    assert answer.status_code == 200, answer.json()
    tokens = answer.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return tokens


def with_access(client: APIClient, access: str) -> APIClient:
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def verified_owner(owner):
    verify_email_of(owner)
    return owner


@pytest.fixture
def secured_owner(verified_owner):
    """Verified email and an authenticator app: ready for sensitive actions."""
    verified_owner.recovery_codes = turn_on_totp(verified_owner)
    return verified_owner


@pytest.fixture
def owner_jwt(api_client, owner) -> APIClient:
    """The owner signed in with a JWT (no second factor on the account)."""
    sign_in(api_client, owner.email)
    return api_client


@pytest.fixture
def secured_jwt(api_client, secured_owner) -> APIClient:
    """The secured owner signed in with a JWT obtained with the second factor."""
    sign_in(api_client, secured_owner.email, otp_code=next_totp_code(secured_owner))
    return api_client
