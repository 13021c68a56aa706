"""Second factors as the services use them: each code once, a little clock drift forgiven,
guessing slowed down, recovery codes for a lost phone, and step-up proof that goes stale."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.errors import InvalidCode
from accounts.models import TOTPDevice
from accounts.selectors import two_factor_enabled, two_factor_summary
from accounts.services.auth import jwt_pair_for
from accounts.services.second_factor import recovery_codes_regenerate, second_factor_verify, totp_begin, totp_confirm
from accounts.session_proof import session_stamp_second_factor
from cryptovault.actor import SECOND_FACTOR_AT_SESSION_KEY, Actor
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import AuthenticatorApp, authenticator_enabled


@pytest.fixture
def authenticator(owner):
    device, app, recovery_codes = authenticator_enabled(owner)
    return SimpleNamespace(user=owner, device=device, app=app, recovery_codes=recovery_codes)


def accepts(user, code: str, **kwargs) -> bool:
    try:
        second_factor_verify(actor=TEST_ACTOR, user=user, code=code, **kwargs)
    except InvalidCode:
        return False
    return True


def a_wrong_code(app: AuthenticatorApp) -> str:
    valid = {app.code(steps_from_now=step) for step in (-1, 0, 1)}
    return next(code for code in (f"{n:06d}" for n in range(10**6)) if code not in valid)


# --- authenticator app -------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("steps_from_now", "accepted"),
    [
        pytest.param(-1, True, id="30 s slow: accepted"),
        pytest.param(1, True, id="30 s fast: accepted"),
        pytest.param(-2, False, id="a minute slow: refused"),
        pytest.param(2, False, id="a minute fast: refused"),
    ],
)
def test_a_phone_clock_one_step_off_is_forgiven_but_not_two(owner, steps_from_now, accepted):
    app = AuthenticatorApp(totp_begin(user=owner))
    with contextlib.suppress(InvalidCode):
        totp_confirm(actor=TEST_ACTOR, user=owner, code=app.code(steps_from_now=steps_from_now))
    assert two_factor_enabled(owner) is accepted


@pytest.mark.django_db
def test_the_code_that_turned_the_app_on_cannot_be_replayed_to_sign_in(authenticator):
    assert not accepts(authenticator.user, authenticator.app.code())


@pytest.mark.django_db
def test_an_authenticator_code_signs_in_once_and_a_second_use_is_refused(authenticator):
    code = authenticator.app.code(steps_from_now=1)
    assert accepts(authenticator.user, code)
    assert not accepts(authenticator.user, code), "someone who saw the code over a shoulder cannot reuse it"


@pytest.mark.django_db
def test_after_repeated_wrong_codes_even_the_right_code_must_wait(authenticator):
    device, app = authenticator.device, authenticator.app
    for _ in range(4):
        assert not accepts(authenticator.user, a_wrong_code(app))
        # The guesser waited out each back-off (1, 2, 4 s): this is what it has grown to.
        TOTPDevice.objects.filter(pk=device.pk).update(
            throttling_failure_timestamp=timezone.now() - timedelta(minutes=1)
        )
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now())

    assert not accepts(authenticator.user, app.code(steps_from_now=1)), "refused during the 8 s back-off"

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(seconds=9))
    assert accepts(authenticator.user, app.code(steps_from_now=1)), "after the back-off the right code works"
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


# --- recovery codes ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_ten_recovery_codes_each_work_exactly_once(authenticator):
    codes = authenticator.recovery_codes
    assert len(set(codes)) == 10
    assert all(accepts(authenticator.user, code) for code in codes)
    assert not any(accepts(authenticator.user, code) for code in codes)
    assert two_factor_summary(authenticator.user)["recovery_codes_remaining"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(str.lower, id="in lower case"),
        pytest.param(lambda code: code.replace("-", ""), id="without the dash"),
        pytest.param(lambda code: f" {code.replace('-', ' ')} ", id="with a space for the dash"),
    ],
)
def test_a_recovery_code_works_however_it_is_typed(authenticator, typed):
    assert accepts(authenticator.user, typed(authenticator.recovery_codes[0]))


@pytest.mark.django_db
def test_new_recovery_codes_replace_the_old_ones(authenticator):
    old = authenticator.recovery_codes
    new = recovery_codes_regenerate(actor=TEST_ACTOR, user=authenticator.user)
    assert not set(old) & set(new)
    assert not accepts(authenticator.user, old[0]), "a printed-out old sheet is void"
    assert accepts(authenticator.user, new[0])


# --- step-up -----------------------------------------------------------------------------------
def step_up_is_fresh(request) -> bool:
    """What the sensitive-action gate asks of the request's actor."""
    return Actor.from_request(request).proved_second_factor_within(settings.SECOND_FACTOR_STEP_UP_SECONDS)


@pytest.fixture
def page_request(rf):
    request = rf.get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    return request


@pytest.mark.django_db
def test_a_second_factor_on_a_page_is_fresh_proof_for_five_minutes(authenticator, page_request):
    assert not step_up_is_fresh(page_request)
    device = second_factor_verify(
        actor=Actor.from_request(page_request),
        user=authenticator.user,
        code=authenticator.app.code(steps_from_now=1),
        purpose="step_up",
    )
    session_stamp_second_factor(page_request, device)  # what the step-up page does with the device
    assert step_up_is_fresh(page_request)

    page_request.session[SECOND_FACTOR_AT_SESSION_KEY] = int(time.time()) - settings.SECOND_FACTOR_STEP_UP_SECONDS - 1
    assert not step_up_is_fresh(page_request), "five minutes later a sensitive action asks again"


@pytest.mark.django_db
def test_an_api_access_token_got_with_a_second_factor_is_fresh_proof_for_five_minutes(authenticator, rf):
    request = rf.get("/")
    request.auth = AccessToken(
        jwt_pair_for(actor=TEST_ACTOR, user=authenticator.user, second_factor_used=True)["access"]
    )
    assert step_up_is_fresh(request)

    request.auth["otp_at"] = int(time.time()) - settings.SECOND_FACTOR_STEP_UP_SECONDS - 1
    assert not step_up_is_fresh(request)

    request.auth = AccessToken(
        jwt_pair_for(actor=TEST_ACTOR, user=authenticator.user, second_factor_used=False)["access"]
    )
    assert not step_up_is_fresh(request), "a password-only token never proves a second factor"
