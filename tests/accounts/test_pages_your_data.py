"""Your data: the JSON export and deleting the account."""

from __future__ import annotations

import json

from allauth.usersessions.models import UserSession

from accounts.models import ApiKey, User
from accounts.services.api_keys import api_key_create
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import unused_totp_code
from tests.helpers import PASSWORD


def test_the_export_is_a_json_download_with_the_email_and_no_secret(owner_client, owner):
    api_key_create(actor=TEST_ACTOR, user=owner, name="Bot", scopes=["read"])
    response = owner_client.get("/accounts/data/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["profile"]["email"] == "owner@example.com"
    assert data["api_keys"][0]["name"] == "Bot"
    text = response.content.decode()
    assert "key_digest" not in text


def test_the_export_of_a_user_with_two_factor_holds_no_seed(client, secured_owner):
    from accounts.models import TOTPDevice

    client.force_login(secured_owner)
    text = client.get("/accounts/data/export/").content.decode()
    device = TOTPDevice.objects.get(user=secured_owner)
    assert device.manual_key not in text and device.key not in text
    assert all(code not in text for code in secured_owner.recovery_codes)


def test_deleting_the_account_anonymises_it_ends_everything_and_signs_out(client, owner):
    client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    client.get("/")
    key, _ = api_key_create(actor=TEST_ACTOR, user=owner, name="Bot", scopes=["read"])
    response = client.post("/accounts/data/", {"password": PASSWORD, "confirm": "on"})
    assert response["Location"] == "/accounts/goodbye/"
    goodbye = client.get("/accounts/goodbye/")
    assert b"Your account is deleted" in goodbye.content
    assert client.get("/").status_code == 302, "signed out"
    owner.refresh_from_db()
    assert owner.email.endswith("@deleted.invalid") and owner.name == "" and not owner.is_active
    assert not ApiKey.objects.get(pk=key.pk).is_active
    assert not UserSession.objects.filter(user=owner).exists()
    assert client.post("/accounts/login/", {"login": "owner@example.com", "password": PASSWORD}).status_code == 200


def test_a_wrong_password_keeps_the_account_and_says_why(owner_client, owner):
    response = owner_client.post("/accounts/data/", {"password": "not it", "confirm": "on"})
    assert response.status_code == 200
    assert b"The password is not right." in response.content
    assert User.objects.get(pk=owner.pk).is_active


def test_with_two_factor_on_deleting_needs_a_code_too(client, secured_owner):
    client.force_login(secured_owner)
    page = client.get("/accounts/data/")
    assert b'name="otp_code"' in page.content
    missing = client.post("/accounts/data/", {"password": PASSWORD, "confirm": "on"})
    assert b"This field is required" in missing.content
    wrong = client.post("/accounts/data/", {"password": PASSWORD, "confirm": "on", "otp_code": "000000x"})
    assert b"That code is not valid" in wrong.content
    assert User.objects.get(pk=secured_owner.pk).is_active
    done = client.post(
        "/accounts/data/", {"password": PASSWORD, "confirm": "on", "otp_code": unused_totp_code(secured_owner)}
    )
    assert done["Location"] == "/accounts/goodbye/"
    assert not User.objects.get(pk=secured_owner.pk).is_active
