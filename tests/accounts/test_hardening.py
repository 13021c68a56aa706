"""Holes a security review found, each closed and kept closed: what an attacker holding a
session, a password or a phone number could do before, and cannot now."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import EmailVerificationCode, TOTPDevice, User
from accounts.selectors import totp_pending
from accounts.services.second_factor import recovery_codes_regenerate, sms_phone_add, totp_begin
from accounts.services.your_data import account_delete
from cryptovault.actor import Actor
from security.audit import audit_record
from security.models import AuditEvent
from tests.accounts.helpers import browser_signed_in_a_while_ago, last_sms_code
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import unused_totp_code
from tests.helpers import PASSWORD, sign_in


@pytest.mark.django_db
def test_a_seed_left_pending_cannot_be_read_or_confirmed_without_a_fresh_second_factor(secured_owner):
    totp_begin(user=secured_owner)  # started by the owner, never finished
    browser = browser_signed_in_a_while_ago(secured_owner)  # someone at the same desk, ten minutes on
    answer = browser.get("/accounts/security/totp/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/step-up/")
    device = totp_pending(user=secured_owner)
    code = pyotp.TOTP(device.manual_key).now()
    browser.post("/accounts/security/totp/", {"code": code})
    assert TOTPDevice.objects.get(user=secured_owner, confirmed=True).pk != device.pk, "the owner's app stays"


@pytest.mark.django_db
def test_an_unfinished_authenticator_set_up_expires_after_fifteen_minutes(verified_owner):
    device = totp_begin(user=verified_owner)
    TOTPDevice.objects.filter(pk=device.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert totp_pending(user=verified_owner) is None


@pytest.mark.django_db
def test_allauths_email_management_page_is_not_offered(owner_client):
    assert owner_client.get("/accounts/email/").status_code == 404
    assert owner_client.post("/accounts/email/", {"email": "attacker@evil.test", "action_add": ""}).status_code == 404
    assert not EmailAddress.objects.filter(email="attacker@evil.test").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["¹²³⁴⁵⁶", "١٢٣٤٥٦", "12345\uff16"])
def test_codes_in_other_digit_scripts_are_refused_not_a_server_error(secured_owner, code):
    answer = APIClient().post(
        "/api/v1/auth/token/", {"email": secured_owner.email, "password": PASSWORD, "otp_code": code}, format="json"
    )
    assert answer.status_code in (400, 401), answer.content
    assert answer.json()["code"] in ("invalid", "invalid_code")


@pytest.mark.django_db
def test_an_api_key_cannot_be_made_to_expire_beyond_five_years(secured_owner):
    client = APIClient()
    sign_in(client, secured_owner.email, otp_code=unused_totp_code(secured_owner))
    answer = client.post(
        "/api/v1/auth/api-keys/",
        {"name": "Forever", "scopes": ["read"], "expires_at": "9999-12-31T23:59:59-08:00"},
        format="json",
    )
    assert answer.status_code == 400 and "expires_at" in answer.json()["errors"]
    assert client.get("/api/v1/auth/api-keys/").status_code == 200


@pytest.mark.django_db
def test_texts_stop_after_six_an_hour_per_account_whatever_the_client_address(verified_owner, caplog):
    for _ in range(6):
        sms_phone_add(actor=TEST_ACTOR, user=verified_owner, number="+447700900123")
    from accounts.errors import SMSLimitReached

    with pytest.raises(SMSLimitReached):
        sms_phone_add(actor=TEST_ACTOR, user=verified_owner, number="+447700900999")


@pytest.mark.django_db
def test_texts_to_one_number_stop_after_six_an_hour_whoever_asks(caplog):
    from accounts.errors import SMSLimitReached
    from tests.factories import UserFactory

    for _ in range(6):
        sms_phone_add(actor=TEST_ACTOR, user=UserFactory(), number="+447700900555")
    with pytest.raises(SMSLimitReached):
        sms_phone_add(actor=TEST_ACTOR, user=UserFactory(), number="+447700900555")


@pytest.mark.django_db
def test_a_code_texted_to_one_number_does_not_verify_another(verified_owner, caplog):
    from accounts.services.second_factor import sms_phone_confirm

    first = sms_phone_add(actor=TEST_ACTOR, user=verified_owner, number="+447700900123")
    code_for_first = last_sms_code(caplog)
    sms_phone_add(actor=TEST_ACTOR, user=verified_owner, number="+447700900456")
    from accounts.errors import InvalidCode

    with pytest.raises(InvalidCode):
        sms_phone_confirm(actor=TEST_ACTOR, user=verified_owner, challenge_id=first, code=code_for_first)


@pytest.mark.django_db
def test_password_guessing_behind_a_token_is_rate_limited(verified_owner):
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    sign_in(client, verified_owner.email)
    answers = [
        client.post(
            "/api/v1/auth/password/change/",
            {"old_password": f"guess-{n}", "new_password": "another-Long-pass-2026"},
            format="json",
        ).status_code
        for n in range(11)
    ]
    assert answers[-1] == 429 and 429 not in answers[:9]


@pytest.mark.django_db
def test_new_recovery_codes_keep_a_session_signed_in_with_one(secured_owner):
    browser = browser_signed_in_a_while_ago(secured_owner)
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import RecoveryCodeDevice

    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = RecoveryCodeDevice.objects.get(user=secured_owner).persistent_id
    session.save()
    assert browser.get("/api/v1/auth/profile/").status_code == 200
    recovery_codes_regenerate(actor=TEST_ACTOR, user=secured_owner)
    assert browser.get("/api/v1/auth/profile/").status_code == 200


@pytest.mark.django_db
def test_staff_acting_on_a_users_account_is_recorded_as_staff(owner, staff_user, rf):
    request = rf.post("/admin/", REMOTE_ADDR="10.0.0.9", HTTP_USER_AGENT="StaffBrowser")
    request.user = staff_user
    event = audit_record("api_key.revoked", actor=Actor.from_request(request), user=owner)
    assert event.user == owner and event.actor_email == staff_user.email
    exported = Client()
    exported.force_login(owner)
    rows = exported.get("/accounts/data/export/").json()["audit_log"]
    staff_row = next(row for row in rows if row["action"] == "api_key.revoked")
    assert staff_row["by"] == "staff" and staff_row["ip"] is None and staff_row["user_agent"] == ""


@pytest.mark.django_db
def test_a_deleted_account_leaves_its_email_nowhere(verified_owner):
    email = verified_owner.email
    EmailVerificationCode.objects.create(
        user=verified_owner, email=email, code_digest="0" * 64, expires_at=timezone.now()
    )
    audit_record("auth.sign_in_failed", actor=TEST_ACTOR, actor_email=email, outcome="failure")
    account_delete(actor=TEST_ACTOR, user=verified_owner, password=PASSWORD)
    assert not EmailVerificationCode.objects.filter(email=email).exists()
    assert not AuditEvent.objects.filter(actor_email=email).exists()
    assert not User.objects.filter(email=email).exists()
