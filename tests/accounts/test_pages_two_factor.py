"""Turning on two-factor authentication, signing in with it, and proving it again (step-up)."""

from __future__ import annotations

import re

import pyotp

from accounts.selectors import two_factor_enabled
from tests.accounts.helpers import last_sms_code, turn_on_sms
from tests.fakes.authenticator import unused_totp_code
from tests.helpers import PASSWORD

MANUAL_KEY = re.compile(rb'data-testid="totp-manual-key">([A-Z2-7]+)<')
RECOVERY_CODE = re.compile(rb'data-testid="recovery-code">([0-9A-F]{5}-[0-9A-F]{5})<')


def _start_totp(client, next_url: str = "") -> bytes:
    response = client.post("/accounts/security/totp/start/", {"next": next_url} if next_url else {})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content


def _sign_in(client, user):
    return client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})


# --- setting up -------------------------------------------------------------------------------
def test_the_security_page_says_two_factor_is_off_and_offers_to_set_it_up(client, verified_owner):
    client.force_login(verified_owner)
    page = client.get("/accounts/security/")
    assert b'data-testid="two-factor-state">Off' in page.content
    assert b"Set up an authenticator app" in page.content


def test_the_set_up_page_shows_a_qr_code_drawn_in_the_page_and_the_manual_key(client, verified_owner):
    client.force_login(verified_owner)
    content = _start_totp(client)
    assert MANUAL_KEY.search(content)
    assert b'<svg role="img"' in content
    assert b"QR code for your authenticator app" in content
    assert b'src="http' not in content, "the QR code is not fetched from anywhere"
    assert not two_factor_enabled(verified_owner), "nothing is on before a code matched"


def test_a_code_from_the_app_turns_two_factor_on_and_shows_ten_recovery_codes_once(client, verified_owner):
    client.force_login(verified_owner)
    key = MANUAL_KEY.search(_start_totp(client)).group(1).decode()
    response = client.post("/accounts/security/totp/", {"code": pyotp.TOTP(key).now()})
    assert response["Location"] == "/accounts/security/recovery-codes/"
    codes_page = client.get(response["Location"])
    codes = RECOVERY_CODE.findall(codes_page.content)
    assert len(set(codes)) == 10
    assert two_factor_enabled(verified_owner)
    again = client.get("/accounts/security/recovery-codes/")
    assert again.status_code == 302, "the codes are shown only once"
    assert b'data-testid="two-factor-state">On' in client.get("/accounts/security/").content


def test_a_wrong_code_leaves_two_factor_off_with_a_form_error(client, verified_owner):
    client.force_login(verified_owner)
    key = MANUAL_KEY.search(_start_totp(client)).group(1).decode()
    wrong = "000000" if pyotp.TOTP(key).now() != "000000" else "111111"
    response = client.post("/accounts/security/totp/", {"code": wrong})
    assert response.status_code == 200
    assert b"That code did not match" in response.content
    assert MANUAL_KEY.search(response.content), "the same key is still shown"
    assert not two_factor_enabled(verified_owner)


def test_the_set_up_page_without_a_started_set_up_leads_back_to_security(client, verified_owner):
    client.force_login(verified_owner)
    response = client.get("/accounts/security/totp/")
    assert response["Location"] == "/accounts/security/"


# --- signing in -------------------------------------------------------------------------------
def test_signing_in_with_two_factor_on_asks_for_a_code_before_any_session(client, secured_owner):
    response = _sign_in(client, secured_owner)
    assert response["Location"] == "/accounts/2fa/"
    assert client.get("/").status_code == 302, "not signed in yet"
    page = client.get("/accounts/2fa/")
    assert b"Two-factor authentication" in page.content
    response = client.post("/accounts/2fa/", {"otp_code": unused_totp_code(secured_owner)})
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_code_already_used_is_refused_on_the_next_sign_in(client, secured_owner):
    code = unused_totp_code(secured_owner)
    _sign_in(client, secured_owner)
    client.post("/accounts/2fa/", {"otp_code": code})
    client.post("/accounts/logout/")

    _sign_in(client, secured_owner)
    replay = client.post("/accounts/2fa/", {"otp_code": code})
    assert replay.status_code == 200
    assert b"That code is not valid" in replay.content
    assert client.get("/").status_code == 302


def test_a_recovery_code_signs_in_once(client, secured_owner):
    recovery = secured_owner.recovery_codes[0]
    _sign_in(client, secured_owner)
    assert client.post("/accounts/2fa/", {"otp_code": recovery})["Location"] == "/"
    client.post("/accounts/logout/")

    _sign_in(client, secured_owner)
    again = client.post("/accounts/2fa/", {"otp_code": recovery})
    assert b"That code is not valid" in again.content


def test_the_second_factor_page_without_a_password_first_goes_to_sign_in(client, db):
    assert client.get("/accounts/2fa/")["Location"] == "/accounts/login/"


def test_a_texted_code_signs_in_and_is_bound_to_that_sign_in(client, verified_owner, caplog):
    turn_on_sms(verified_owner, caplog)
    _sign_in(client, verified_owner)
    page = client.get("/accounts/2fa/")
    assert b"Text me a code at +44" in page.content
    client.post("/accounts/2fa/", {"send_sms": "1"})
    code = last_sms_code(caplog)
    assert client.post("/accounts/2fa/", {"otp_code": code})["Location"] == "/"


def test_a_texted_code_does_not_work_for_another_sign_in(client, verified_owner, caplog):
    from django.test import Client

    turn_on_sms(verified_owner, caplog)
    _sign_in(client, verified_owner)
    client.post("/accounts/2fa/", {"send_sms": "1"})
    other = Client()
    _sign_in(other, verified_owner)
    refused = other.post("/accounts/2fa/", {"otp_code": last_sms_code(caplog)})
    assert b"That code is not valid" in refused.content


def test_the_code_form_is_rate_limited_like_sign_in(client, secured_owner):
    _sign_in(client, secured_owner)
    statuses = [client.post("/accounts/2fa/", {"otp_code": "000000"}).status_code for _ in range(10)]
    assert statuses[-1] == 429


# --- step-up and changing factors -------------------------------------------------------------
def test_turning_two_factor_off_asks_for_a_fresh_code_first_then_turns_it_off(client, secured_owner):
    client.force_login(secured_owner)
    response = client.get("/accounts/security/disable/")
    assert response["Location"] == "/accounts/step-up/?next=%2Faccounts%2Fsecurity%2Fdisable%2F"
    step_up = client.post(response["Location"], {"otp_code": unused_totp_code(secured_owner)})
    assert step_up["Location"] == "/accounts/security/disable/"
    assert b"Turn off two-factor authentication?" in client.get("/accounts/security/disable/").content
    client.post("/accounts/security/disable/")
    assert not two_factor_enabled(secured_owner)


def test_a_wrong_step_up_code_is_a_form_error(client, secured_owner):
    client.force_login(secured_owner)
    response = client.post("/accounts/step-up/?next=/accounts/security/disable/", {"otp_code": "12"})
    assert response.status_code == 200
    assert b"That code is not valid" in response.content


def test_new_recovery_codes_need_a_step_up_and_replace_the_old_ones(client, secured_owner):
    client.force_login(secured_owner)
    assert client.get("/accounts/security/recovery-codes/regenerate/")["Location"].startswith("/accounts/step-up/")
    client.post("/accounts/step-up/", {"otp_code": unused_totp_code(secured_owner)})
    response = client.post("/accounts/security/recovery-codes/regenerate/")
    codes = RECOVERY_CODE.findall(client.get(response["Location"]).content)
    assert len(codes) == 10
    assert secured_owner.recovery_codes[0].encode() not in codes


def test_adding_a_phone_with_two_factor_off_needs_no_step_up_and_turns_it_on(client, verified_owner, caplog):
    client.force_login(verified_owner)
    assert client.get("/accounts/security/phone/").status_code == 200
    bad = client.post("/accounts/security/phone/", {"number": "07700 900123"})
    assert b"international form" in bad.content
    response = client.post("/accounts/security/phone/", {"number": "+447700900123", "next": "/accounts/api-keys/"})
    assert response["Location"] == "/accounts/security/phone/confirm/?next=%2Faccounts%2Fapi-keys%2F"
    wrong = client.post(response["Location"], {"code": "000000" if last_sms_code(caplog) != "000000" else "1"})
    assert b"wrong or has expired" in wrong.content
    done = client.post(response["Location"], {"code": last_sms_code(caplog)})
    assert done["Location"].startswith("/accounts/security/recovery-codes/")
    page = client.get(done["Location"])
    assert len(RECOVERY_CODE.findall(page.content)) == 10
    assert b'href="/accounts/api-keys/"' in page.content, "then back to where the user was going"
    assert two_factor_enabled(verified_owner)
    verified_owner.refresh_from_db()
    assert verified_owner.phone == "+447700900123"


def test_changing_the_phone_with_two_factor_on_needs_a_step_up(client, secured_owner):
    client.force_login(secured_owner)
    assert client.get("/accounts/security/phone/")["Location"].startswith("/accounts/step-up/")


def test_replacing_the_authenticator_with_two_factor_on_needs_a_step_up(client, secured_owner):
    client.force_login(secured_owner)
    response = client.post("/accounts/security/totp/start/")
    assert response["Location"] == "/accounts/step-up/?next=%2Faccounts%2Fsecurity%2F"


def test_the_step_up_page_offers_a_texted_code_to_a_user_with_a_phone(client, verified_owner, caplog):
    turn_on_sms(verified_owner, caplog)
    client.force_login(verified_owner)
    client.post("/accounts/step-up/", {"send_sms": "1", "next": "/accounts/security/disable/"})
    response = client.post(
        "/accounts/step-up/", {"otp_code": last_sms_code(caplog), "next": "/accounts/security/disable/"}
    )
    assert response["Location"] == "/accounts/security/disable/"
