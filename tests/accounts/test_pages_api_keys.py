"""The API keys page: the gate leads the user through what is missing, then the key shows once."""

from __future__ import annotations

import re

import pyotp

from accounts.models import ApiKey
from accounts.services.api_keys import api_key_create
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import unused_totp_code

NEW_KEY = re.compile(rb'data-testid="new-api-key">(cvk_[0-9a-f]{8}_[A-Za-z0-9_-]+)<')
MANUAL_KEY = re.compile(rb'data-testid="totp-manual-key">([A-Z2-7]+)<')


def _stepped_up(client, user):
    client.force_login(user)
    client.post("/accounts/step-up/", {"otp_code": unused_totp_code(user)})
    return client


def test_a_user_without_a_verified_email_is_sent_to_verify_it_first(client, owner):
    client.force_login(owner)
    response = client.get("/accounts/api-keys/new/")
    assert response["Location"] == "/accounts/verify/?next=%2Faccounts%2Fapi-keys%2Fnew%2F"


def test_a_user_without_two_factor_is_sent_to_set_it_up_and_then_brought_back(client, verified_owner):
    client.force_login(verified_owner)
    response = client.get("/accounts/api-keys/new/")
    assert response["Location"] == "/accounts/security/?next=%2Faccounts%2Fapi-keys%2Fnew%2F"
    security = client.get(response["Location"])
    assert b"Turn on two-factor authentication" in security.content

    start = client.post("/accounts/security/totp/start/", {"next": "/accounts/api-keys/new/"})
    setup = client.get(start["Location"])
    key = MANUAL_KEY.search(setup.content).group(1).decode()
    done = client.post(start["Location"], {"code": pyotp.TOTP(key).now(), "next": "/accounts/api-keys/new/"})
    codes = client.get(done["Location"])
    assert b'href="/accounts/api-keys/new/"' in codes.content
    assert client.get("/accounts/api-keys/new/").status_code == 200, "just set up counts as a fresh step-up"


def test_a_user_with_two_factor_but_no_recent_code_is_asked_for_one(client, secured_owner):
    client.force_login(secured_owner)
    response = client.get("/accounts/api-keys/new/")
    assert response["Location"] == "/accounts/step-up/?next=%2Faccounts%2Fapi-keys%2Fnew%2F"
    back = client.post(response["Location"], {"otp_code": unused_totp_code(secured_owner)})
    assert back["Location"] == "/accounts/api-keys/new/"
    assert client.get(back["Location"]).status_code == 200


def test_creating_a_key_shows_it_once_and_lists_it_without_the_secret(client, secured_owner):
    _stepped_up(client, secured_owner)
    response = client.post(
        "/accounts/api-keys/new/",
        {"name": "Tax script", "scopes": ["read"], "allowed_ips": "203.0.113.7\n198.51.100.0/24\n"},
    )
    assert response["Location"] == "/accounts/api-keys/"
    page = client.get("/accounts/api-keys/")
    raw_key = NEW_KEY.search(page.content).group(1)
    assert b"Tax script" in page.content and b"198.51.100.0/24" in page.content
    later = client.get("/accounts/api-keys/")
    assert raw_key not in later.content, "shown only once"
    assert raw_key[:13] in later.content, "the prefix names it"
    key = ApiKey.objects.get(user=secured_owner)
    assert key.scopes == ["read"]
    assert key.allowed_ips == ["203.0.113.7", "198.51.100.0/24"]


def test_bad_input_shows_form_errors(client, secured_owner):
    _stepped_up(client, secured_owner)
    response = client.post(
        "/accounts/api-keys/new/",
        {"name": "x", "scopes": ["read"], "allowed_ips": "not-an-address", "expires_at": "2001-01-01"},
    )
    assert response.status_code == 200
    assert b"The expiry must be in the future." in response.content
    response = client.post("/accounts/api-keys/new/", {"name": "x", "scopes": ["read"], "allowed_ips": "nope"})
    assert response.status_code == 200
    assert b"is not an IP address or network" in response.content
    response = client.post("/accounts/api-keys/new/", {"name": "x", "scopes": ["fly"]})
    assert b"Select a valid choice" in response.content
    assert not ApiKey.objects.exists()


def test_revoking_a_key_marks_it_revoked(client, secured_owner):
    key, _ = api_key_create(actor=TEST_ACTOR, user=secured_owner, name="Bot", scopes=["read", "trade"])
    client.force_login(secured_owner)
    response = client.post(f"/accounts/api-keys/{key.pk}/revoke/", follow=True)
    assert b"is revoked" in response.content
    assert b"Revoked" in response.content
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_another_users_key_cannot_be_revoked(client, owner, outsider):
    theirs, _ = api_key_create(actor=TEST_ACTOR, user=outsider, name="Theirs", scopes=["read"])
    client.force_login(owner)
    assert client.post(f"/accounts/api-keys/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert b"Theirs" not in client.get("/accounts/api-keys/").content


def test_the_list_costs_the_same_queries_for_one_key_or_many(client, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api_key_create(actor=TEST_ACTOR, user=owner, name="Key 0", scopes=["read"])
    client.force_login(owner)
    client.get("/accounts/api-keys/")
    with CaptureQueriesContext(connection) as one:
        client.get("/accounts/api-keys/")
    for n in range(1, 6):
        api_key_create(actor=TEST_ACTOR, user=owner, name=f"Key {n}", scopes=["read"])
    with CaptureQueriesContext(connection) as many:
        page = client.get("/accounts/api-keys/")
    assert page.content.count(b'data-testid="api-key-row"') == 6
    assert len(many) == len(one)


def test_a_key_id_beyond_any_database_integer_is_simply_not_found(client, owner):
    client.force_login(owner)
    assert client.post("/accounts/api-keys/99999999999999999999999/revoke/").status_code == 404
