"""The profile, notification choices, the data export and deleting the account, through the API."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import TOTPDevice, User
from accounts.services.api_keys import api_key_create
from security.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import unused_totp_code
from tests.helpers import PASSWORD, sign_in


@pytest.mark.django_db
def test_the_profile_shows_name_time_zone_phone_and_security_state(owner_jwt, owner):
    assert owner_jwt.get("/api/v1/auth/profile/").json() == {
        "email": owner.email,
        "name": "Olive Owner",
        "timezone": "UTC",
        "phone": "",
        "phone_verified_at": None,
        "email_verified": False,
        "two_factor": {"enabled": False, "totp": False, "sms": None, "recovery_codes_remaining": 0},
    }


@pytest.mark.django_db
def test_changing_name_and_time_zone_is_saved_and_audited(owner_jwt, owner):
    answer = owner_jwt.patch("/api/v1/auth/profile/", {"name": "Olive O.", "timezone": "Europe/Berlin"}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["name"], answer.json()["timezone"]) == ("Olive O.", "Europe/Berlin")
    owner.refresh_from_db()
    assert (owner.name, str(owner.timezone)) == ("Olive O.", "Europe/Berlin")
    assert AuditEvent.objects.get(action="profile.updated").details == {"fields": ["name", "timezone"]}


@pytest.mark.django_db
def test_an_unknown_time_zone_is_a_400_on_timezone(owner_jwt, owner):
    answer = owner_jwt.patch("/api/v1/auth/profile/", {"timezone": "Mars/Olympus_Mons"}, format="json")
    assert answer.status_code == 400
    assert "not a time zone" in answer.json()["errors"]["timezone"][0]
    owner.refresh_from_db()
    assert str(owner.timezone) == "UTC"


@pytest.mark.django_db
def test_the_phone_and_email_cannot_be_set_through_the_profile(owner_jwt, owner):
    answer = owner_jwt.patch(
        "/api/v1/auth/profile/", {"phone": "+447700900999", "email": "new@example.com"}, format="json"
    )
    assert answer.status_code == 200
    owner.refresh_from_db()
    assert (owner.phone, owner.email) == ("", "owner@example.com")


@pytest.mark.django_db
def test_notification_preferences_start_from_defaults_and_change_one_at_a_time(owner_jwt):
    defaults = owner_jwt.get("/api/v1/auth/notification-preferences/").json()["preferences"]
    assert defaults["security"] == {"in_app": True, "email": True, "sms": False}
    changed = owner_jwt.put(
        "/api/v1/auth/notification-preferences/", {"preferences": {"security": {"sms": True}}}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["preferences"]["security"] == {"in_app": True, "email": True, "sms": True}
    assert changed.json()["preferences"]["account"] == defaults["account"]


@pytest.mark.django_db
def test_an_unknown_event_type_is_a_400_on_preferences(owner_jwt):
    answer = owner_jwt.put(
        "/api/v1/auth/notification-preferences/", {"preferences": {"parties": {"email": True}}}, format="json"
    )
    assert answer.status_code == 400 and "preferences" in answer.json()["errors"]


@pytest.mark.django_db
def test_the_export_is_a_json_download_of_my_data_without_secrets(secured_jwt, secured_owner):
    _, raw_key = api_key_create(actor=TEST_ACTOR, user=secured_owner, name="Script", scopes=["read"])
    answer = secured_jwt.get("/api/v1/auth/export/")
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith('attachment; filename="cryptovault-data-')
    data = answer.json()
    assert data["profile"]["email"] == secured_owner.email
    assert data["api_keys"][0]["name"] == "Script"
    assert data["two_factor"]["recovery_codes_remaining"] == 10
    text = answer.content.decode()
    secrets = [
        raw_key,
        secured_owner.password,
        TOTPDevice.objects.get(user=secured_owner).key,
        TOTPDevice.objects.get(user=secured_owner).manual_key,
        *secured_owner.recovery_codes,
    ]
    assert not [secret for secret in secrets if secret in text]


@pytest.mark.django_db
def test_deleting_with_a_wrong_password_is_a_401_on_password_and_nothing_happens(owner_jwt, owner):
    answer = owner_jwt.post("/api/v1/auth/delete-account/", {"password": "not-it"}, format="json")
    assert answer.status_code == 401 and "password" in answer.json()["errors"]
    owner.refresh_from_db()
    assert owner.is_active and owner.email == "owner@example.com"


@pytest.mark.django_db
def test_deleting_anonymises_the_account_and_every_key_token_and_session_stops(api_client, verified_owner):
    owner = verified_owner
    _, raw_key = api_key_create(actor=TEST_ACTOR, user=owner, name="Script", scopes=["read"])
    tokens = sign_in(api_client, owner.email)
    browser = Client()
    browser.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})

    answer = api_client.post("/api/v1/auth/delete-account/", {"password": PASSWORD}, format="json")
    assert answer.status_code == 204

    owner.refresh_from_db()
    assert owner.anonymised_at and not owner.is_active
    assert owner.email == f"deleted-{owner.pk}@deleted.invalid" and owner.name == ""
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}").status_code == 401
    assert (
        APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json").status_code
        == 401
    )
    assert api_client.get("/api/v1/me/").status_code == 401, "the access token died with the account"
    assert browser.get("/api/v1/me/").status_code == 401
    again = APIClient().post("/api/v1/auth/token/", {"email": "owner@example.com", "password": PASSWORD}, format="json")
    assert again.status_code == 401
    assert AuditEvent.objects.filter(action="account.deleted", user=owner).exists(), "the audit log keeps it"


@pytest.mark.django_db
def test_deleting_with_two_factor_on_needs_a_code(secured_jwt, secured_owner):
    refused = secured_jwt.post("/api/v1/auth/delete-account/", {"password": PASSWORD}, format="json")
    assert refused.status_code == 400 and "otp_code" in refused.json()["errors"]
    assert User.objects.get(pk=secured_owner.pk).is_active
    done = secured_jwt.post(
        "/api/v1/auth/delete-account/",
        {"password": PASSWORD, "otp_code": unused_totp_code(secured_owner)},
        format="json",
    )
    assert done.status_code == 204


@pytest.mark.django_db
def test_a_browser_deleting_its_account_ends_up_signed_out(owner_api_client, owner):
    answer = owner_api_client.post("/api/v1/auth/delete-account/", {"password": PASSWORD}, format="json")
    assert answer.status_code == 204
    assert owner_api_client.get("/api/v1/me/").status_code == 401
