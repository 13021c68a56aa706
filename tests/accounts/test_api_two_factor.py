"""Two-factor authentication through the API: turning it on, texted codes through a
loopback Twilio, and the fresh proof (step-up) that sensitive changes need."""

from __future__ import annotations

import pyotp
import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import ApiKey, RecoveryCodeDevice, TOTPDevice
from accounts.selectors import two_factor_enabled
from tests.accounts.helpers import SIX_DIGITS, browser_signed_in_a_while_ago, signed_in_a_while_ago
from tests.fakes.authenticator import turn_on_totp, unused_totp_code, verify_email_of
from tests.fakes.twilio import FakeTwilio
from tests.helpers import PASSWORD, sign_in, with_access

PHONE = "+447700900123"
NEW_KEY = {"name": "Tax report", "scopes": ["read"]}


@pytest.fixture
def twilio():
    with FakeTwilio() as fake, override_settings(**fake.settings()):
        yield fake


def texted_code(twilio: FakeTwilio) -> str:
    return SIX_DIGITS.search(twilio.messages[-1].body).group(1)


@pytest.mark.django_db
def test_creating_an_api_key_without_a_fresh_proof_is_refused_and_with_a_code_succeeds(secured_owner):
    client = signed_in_a_while_ago(secured_owner)
    refused = client.post("/api/v1/auth/api-keys/", NEW_KEY, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"
    assert not ApiKey.objects.exists()

    created = client.post(
        "/api/v1/auth/api-keys/", {**NEW_KEY, "otp_code": unused_totp_code(secured_owner)}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["key"].startswith(f"cvk_{created.json()['prefix']}_")


@pytest.mark.django_db
def test_a_token_client_steps_up_once_and_uses_the_new_access_token_for_the_sensitive_request(secured_owner):
    client = signed_in_a_while_ago(secured_owner)
    stepped_up = client.post("/api/v1/auth/2fa/step-up/", {"otp_code": unused_totp_code(secured_owner)}, format="json")
    assert stepped_up.status_code == 200 and stepped_up.json()["valid_for"] == 300
    assert client.post("/api/v1/auth/api-keys/", NEW_KEY, format="json").status_code == 403, (
        "the old token has no proof"
    )
    with_access(client, stepped_up.json()["access"])
    assert client.post("/api/v1/auth/api-keys/", NEW_KEY, format="json").status_code == 201


@pytest.mark.django_db
def test_a_browser_steps_up_and_its_session_carries_the_proof(secured_owner):
    browser = browser_signed_in_a_while_ago(secured_owner)
    assert browser.post("/api/v1/auth/api-keys/", NEW_KEY, content_type="application/json").status_code == 403
    stepped_up = browser.post(
        "/api/v1/auth/2fa/step-up/", {"otp_code": unused_totp_code(secured_owner)}, content_type="application/json"
    )
    assert stepped_up.status_code == 200 and stepped_up.json()["access"] is None
    assert browser.post("/api/v1/auth/api-keys/", NEW_KEY, content_type="application/json").status_code == 201


@pytest.mark.django_db
def test_a_wrong_step_up_code_is_a_400_on_otp_code(secured_owner):
    answer = signed_in_a_while_ago(secured_owner).post(
        "/api/v1/auth/2fa/step-up/", {"otp_code": "000000"}, format="json"
    )
    assert answer.status_code == 400 and "otp_code" in answer.json()["errors"]


@pytest.mark.django_db
def test_api_keys_need_a_verified_email_and_two_factor_on(api_client, owner):
    sign_in(api_client, owner.email)
    unverified = api_client.post("/api/v1/auth/api-keys/", NEW_KEY, format="json")
    assert unverified.status_code == 403 and unverified.json()["code"] == "email_not_verified"
    verify_email_of(owner)
    no_two_factor = api_client.post("/api/v1/auth/api-keys/", NEW_KEY, format="json")
    assert no_two_factor.status_code == 403 and no_two_factor.json()["code"] == "two_factor_required"


@pytest.mark.django_db
def test_stepping_up_without_two_factor_says_to_turn_it_on(owner_jwt):
    answer = owner_jwt.post("/api/v1/auth/2fa/step-up/", {"otp_code": "123456"}, format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "two_factor_required"


@pytest.mark.django_db
def test_a_wrong_first_code_leaves_two_factor_off(owner_jwt, owner):
    owner_jwt.post("/api/v1/auth/2fa/totp/", {}, format="json")
    answer = owner_jwt.post("/api/v1/auth/2fa/totp/confirm/", {"code": "000000"}, format="json")
    assert answer.status_code == 400 and "code" in answer.json()["errors"]
    assert not two_factor_enabled(owner)
    assert owner_jwt.get("/api/v1/auth/2fa/").json() == {
        "enabled": False,
        "totp": False,
        "sms": None,
        "recovery_codes_remaining": 0,
        "totp_pending": True,
    }


@pytest.mark.django_db
def test_new_recovery_codes_need_two_factor_on_and_a_fresh_proof_and_replace_the_old_ones(owner):
    client = signed_in_a_while_ago(owner)
    off = client.post("/api/v1/auth/2fa/recovery-codes/", {}, format="json")
    assert off.status_code == 403 and off.json()["code"] == "two_factor_required"

    old_codes = turn_on_totp(owner)
    # Adding a second factor ends the access tokens issued before it
    # (tests/accounts/test_hardening_second_factor.py): sign in again, a while ago.
    client = signed_in_a_while_ago(owner)
    stale = client.post("/api/v1/auth/2fa/recovery-codes/", {}, format="json")
    assert stale.status_code == 403 and stale.json()["code"] == "step_up_required"
    fresh = client.post("/api/v1/auth/2fa/recovery-codes/", {"otp_code": unused_totp_code(owner)}, format="json")
    assert fresh.status_code == 200
    new_codes = fresh.json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    by_old = {"email": owner.email, "password": PASSWORD, "otp_code": old_codes[0]}
    assert APIClient().post("/api/v1/auth/token/", by_old, format="json").status_code == 400, "old codes stop working"


@pytest.mark.django_db
def test_a_phone_texted_and_confirmed_turns_two_factor_on_and_signs_in_with_a_texted_code(twilio, owner_jwt, owner):
    added = owner_jwt.post("/api/v1/auth/2fa/phone/", {"number": "+44 7700 900123"}, format="json")
    assert added.status_code == 200
    assert twilio.messages[-1].to == PHONE
    confirmed = owner_jwt.post(
        "/api/v1/auth/2fa/phone/confirm/",
        {"challenge_id": added.json()["challenge_id"], "code": texted_code(twilio)},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.json()
    assert len(confirmed.json()["recovery_codes"]) == 10, "2FA just went on: the user sees recovery codes"
    assert confirmed.json()["tokens"]["access"], "the token client keeps working after the change"
    profile = with_access(owner_jwt, confirmed.json()["tokens"]["access"]).get("/api/v1/auth/profile/").json()
    assert profile["phone"] == PHONE and profile["phone_verified_at"]
    assert profile["two_factor"]["sms"] == "+44•••23"

    anonymous = APIClient()
    credentials = {"email": owner.email, "password": PASSWORD}
    asked = anonymous.post("/api/v1/auth/token/", credentials, format="json")
    assert asked.json()["methods"] == ["sms", "recovery_code"]
    texted = anonymous.post("/api/v1/auth/token/sms/", credentials, format="json")
    assert texted.status_code == 200
    signed_in = anonymous.post(
        "/api/v1/auth/token/",
        {**credentials, "otp_code": texted_code(twilio), "challenge_id": texted.json()["challenge_id"]},
        format="json",
    )
    assert signed_in.status_code == 200 and signed_in.json()["access"]


@pytest.mark.django_db
def test_a_texted_code_is_refused_without_its_challenge(twilio, owner_jwt, owner):
    owner_jwt.post("/api/v1/auth/2fa/phone/", {"number": PHONE}, format="json")
    wrong = owner_jwt.post(
        "/api/v1/auth/2fa/phone/confirm/", {"challenge_id": "made-up", "code": texted_code(twilio)}, format="json"
    )
    assert wrong.status_code == 400 and "code" in wrong.json()["errors"]
    assert not two_factor_enabled(owner)


@pytest.mark.django_db
def test_a_bad_phone_number_is_a_400_on_number(owner_jwt):
    answer = owner_jwt.post("/api/v1/auth/2fa/phone/", {"number": "07700 900123"}, format="json")
    assert answer.status_code == 400 and "number" in answer.json()["errors"]


@pytest.mark.django_db
def test_adding_a_phone_while_two_factor_is_on_needs_a_fresh_proof(twilio, secured_owner):
    client = signed_in_a_while_ago(secured_owner)
    refused = client.post("/api/v1/auth/2fa/phone/", {"number": PHONE}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"
    assert twilio.messages == [], "nothing was texted"
    allowed = client.post(
        "/api/v1/auth/2fa/phone/", {"number": PHONE, "otp_code": unused_totp_code(secured_owner)}, format="json"
    )
    assert allowed.status_code == 200 and len(twilio.messages) == 1


@pytest.mark.django_db
def test_a_texted_step_up_code_gives_the_proof(twilio, owner_jwt, owner):
    challenge = owner_jwt.post("/api/v1/auth/2fa/phone/", {"number": PHONE}, format="json").json()["challenge_id"]
    owner_jwt.post(
        "/api/v1/auth/2fa/phone/confirm/", {"challenge_id": challenge, "code": texted_code(twilio)}, format="json"
    )
    client = signed_in_a_while_ago(owner)
    sent = client.post("/api/v1/auth/2fa/sms/", {"purpose": "step_up"}, format="json")
    assert sent.status_code == 200
    stepped_up = client.post(
        "/api/v1/auth/2fa/step-up/",
        {"otp_code": texted_code(twilio), "challenge_id": sent.json()["challenge_id"]},
        format="json",
    )
    assert stepped_up.status_code == 200 and stepped_up.json()["access"]


@pytest.mark.django_db
def test_turning_two_factor_off_needs_a_fresh_proof_and_removes_every_factor(secured_owner):
    client = signed_in_a_while_ago(secured_owner)
    refused = client.post("/api/v1/auth/2fa/disable/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"
    done = client.post("/api/v1/auth/2fa/disable/", {"otp_code": unused_totp_code(secured_owner)}, format="json")
    assert done.status_code == 200
    assert not two_factor_enabled(secured_owner)
    assert not RecoveryCodeDevice.objects.filter(user=secured_owner).exists()
    again = with_access(client, done.json()["tokens"]["access"]).post("/api/v1/auth/2fa/disable/", {}, format="json")
    assert again.status_code == 400, "already off"
    signed_in = APIClient().post(
        "/api/v1/auth/token/", {"email": secured_owner.email, "password": PASSWORD}, format="json"
    )
    assert signed_in.status_code == 200, "the password alone signs in again"


@pytest.mark.django_db
def test_replacing_the_authenticator_app_while_on_needs_a_fresh_proof(secured_owner):
    client = signed_in_a_while_ago(secured_owner)
    refused = client.post("/api/v1/auth/2fa/totp/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"
    begun = client.post("/api/v1/auth/2fa/totp/", {"otp_code": unused_totp_code(secured_owner)}, format="json")
    assert begun.status_code == 200
    new_app = pyotp.parse_uri(begun.json()["provisioning_uri"])
    unproven = client.post("/api/v1/auth/2fa/totp/confirm/", {"code": new_app.now()}, format="json")
    assert unproven.status_code == 403 and unproven.json()["code"] == "step_up_required", (
        "a seed left pending cannot be confirmed later by whoever holds the token"
    )
    confirmed = client.post(
        "/api/v1/auth/2fa/totp/confirm/",
        {"code": new_app.now(), "otp_code": unused_totp_code(secured_owner)},
        format="json",
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["recovery_codes"] is None, "the existing recovery codes stay"
    assert TOTPDevice.objects.filter(user=secured_owner, confirmed=True).count() == 1
