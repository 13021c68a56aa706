"""Issue 12 hardening: wrong second-factor codes count toward the lockout like wrong passwords,
an access token dies the moment a second factor is added or removed, and the lockout answer
carries the rate-limit headers every other limit sends."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.services.second_factor import sms_phone_add, sms_phone_confirm, two_factor_disable
from security.models import AuditEvent
from tests.accounts.helpers import ATTACKER, last_sms_code, lock_out
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import turn_on_totp, unused_totp_code
from tests.helpers import PASSWORD, sign_in

WRONG_CODE = "000000"
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Policy")


def page_password_step(browser: Client, email: str) -> None:
    answer = browser.post("/accounts/login/", {"login": email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert answer.status_code == 302 and answer["Location"] == "/accounts/2fa/"


def page_code(browser: Client, code: str):
    return browser.post("/accounts/2fa/", {"otp_code": code}, REMOTE_ADDR=ATTACKER)


def api_sign_in(email: str, code: str):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"email": email, "password": PASSWORD, "otp_code": code},
        format="json",
        REMOTE_ADDR=ATTACKER,
    )


# --- wrong codes lock out -------------------------------------------------------------------------
@pytest.mark.django_db
def test_wrong_codes_on_the_sign_in_page_lock_the_account_like_wrong_passwords(secured_owner):
    browser = Client()
    page_password_step(browser, secured_owner.email)
    answers = [page_code(browser, WRONG_CODE).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert answers[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1), "a wrong code is a form error until the limit"
    assert answers[-1] == 429
    right = page_code(browser, unused_totp_code(secured_owner))
    assert right.status_code == 429 and "Too many failed sign-ins" in right.text
    assert "_auth_user_id" not in browser.session, "the right code no longer signs in"
    again = Client().post(
        "/accounts/login/", {"login": secured_owner.email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER
    )
    assert again.status_code == 429, "nor does starting over with the password"
    assert AuditEvent.objects.filter(action="auth.locked_out", user=secured_owner).exists()


@pytest.mark.django_db
def test_wrong_codes_on_the_token_endpoint_lock_the_account(secured_owner):
    answers = [api_sign_in(secured_owner.email, WRONG_CODE) for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert [a.status_code for a in answers[:-1]] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    assert answers[-1].status_code == 429 and answers[-1].json()["code"] == "account_locked"
    right = api_sign_in(secured_owner.email, unused_totp_code(secured_owner))
    assert right.status_code == 429 and "access" not in right.json()


@pytest.mark.django_db
def test_wrong_codes_and_wrong_passwords_add_up(secured_owner):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        APIClient().post(
            "/api/v1/auth/token/",
            {"email": secured_owner.email, "password": f"wrong-{attempt}"},
            format="json",
            REMOTE_ADDR=ATTACKER,
        )
    assert api_sign_in(secured_owner.email, WRONG_CODE).status_code == 429


@pytest.mark.django_db
def test_a_right_code_after_a_few_wrong_ones_signs_in_and_counting_starts_afresh(secured_owner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        api_sign_in(secured_owner.email, WRONG_CODE)
    # A recovery code: django-otp's own delay after wrong codes holds the authenticator back a while.
    assert api_sign_in(secured_owner.email, secured_owner.recovery_codes[0]).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert api_sign_in(secured_owner.email, WRONG_CODE).status_code == 400


@pytest.mark.django_db
def test_the_owner_signs_in_from_elsewhere_while_a_code_guesser_is_locked_out(secured_owner):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_sign_in(secured_owner.email, WRONG_CODE)
    answer = APIClient().post(
        "/api/v1/auth/token/",
        {"email": secured_owner.email, "password": PASSWORD, "otp_code": secured_owner.recovery_codes[0]},
        format="json",
        REMOTE_ADDR="198.51.100.23",
    )
    assert answer.status_code == 200


# --- access tokens die with a second-factor change --------------------------------------------------
@pytest.mark.django_db
def test_an_access_token_dies_at_once_when_a_second_factor_is_added(verified_owner, api_client):
    sign_in(api_client, verified_owner.email)
    assert api_client.get("/api/v1/auth/profile/").status_code == 200
    turn_on_totp(verified_owner)  # e.g. from the owner's browser
    assert api_client.get("/api/v1/auth/profile/").status_code == 401


@pytest.mark.django_db
def test_an_access_token_dies_at_once_when_a_phone_is_added(secured_owner, secured_jwt, caplog):
    assert secured_jwt.get("/api/v1/auth/profile/").status_code == 200
    challenge = sms_phone_add(actor=TEST_ACTOR, user=secured_owner, number="+447700900123")
    sms_phone_confirm(actor=TEST_ACTOR, user=secured_owner, challenge_id=challenge, code=last_sms_code(caplog))
    assert secured_jwt.get("/api/v1/auth/profile/").status_code == 401


@pytest.mark.django_db
def test_an_access_token_dies_at_once_when_two_factor_is_turned_off(secured_owner, secured_jwt):
    assert secured_jwt.get("/api/v1/auth/profile/").status_code == 200
    two_factor_disable(actor=TEST_ACTOR, user=secured_owner)
    assert secured_jwt.get("/api/v1/auth/profile/").status_code == 401


@pytest.mark.django_db
def test_tokens_issued_after_the_change_work(verified_owner, api_client):
    turn_on_totp(verified_owner)
    sign_in(api_client, verified_owner.email, otp_code=unused_totp_code(verified_owner))
    assert api_client.get("/api/v1/auth/profile/").status_code == 200
    tokens = api_client.post(
        "/api/v1/auth/token/refresh/",
        {"refresh": sign_in(APIClient(), verified_owner.email, otp_code=unused_totp_code(verified_owner))["refresh"]},
        format="json",
    )
    assert tokens.status_code == 200
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}").get("/api/v1/auth/profile/").status_code
        == 200
    )


@pytest.mark.django_db
def test_checking_the_token_costs_no_extra_query(owner_jwt, django_assert_num_queries):
    owner_jwt.get("/api/v1/auth/profile/")
    with django_assert_num_queries(5):  # the user row (epoch included) and the profile's own four
        assert owner_jwt.get("/api/v1/auth/profile/").status_code == 200


# --- the lockout answer's headers --------------------------------------------------------------------
@pytest.mark.django_db
def test_the_lockout_page_answer_carries_the_rate_limit_headers(owner):
    lock_out(owner)
    answer = Client().post("/accounts/login/", {"login": owner.email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert answer.status_code == 429
    for header in (*RATE_LIMIT_HEADERS, "Retry-After"):
        assert header in answer, header
    assert answer["X-RateLimit-Remaining"] == "0"
    assert answer["X-RateLimit-Reset"] == answer["Retry-After"]


@pytest.mark.django_db
def test_the_lockout_api_answer_carries_the_rate_limit_headers(owner):
    lock_out(owner)
    answer = APIClient().post(
        "/api/v1/auth/token/", {"email": owner.email, "password": PASSWORD}, format="json", REMOTE_ADDR=ATTACKER
    )
    assert answer.status_code == 429
    for header in (*RATE_LIMIT_HEADERS, "Retry-After"):
        assert header in answer, header
    assert answer["X-RateLimit-Remaining"] == "0"
    assert answer["X-RateLimit-Reset"] == answer["Retry-After"]
