"""SMS codes through the real twilio client to a loopback Twilio, and the development backend.

A code is bound to the challenge that sent it, lives ten minutes and works once; when Twilio
refuses, the user is told the text could not be sent and can simply try again.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.errors import InvalidCode, SMSUnavailable
from accounts.models import SMSChallenge, SMSDevice
from accounts.selectors import two_factor_enabled
from accounts.services.second_factor import second_factor_verify, sms_code_send, sms_phone_add, sms_phone_confirm
from tests.factories import TEST_ACTOR
from tests.fakes.http import closed_port_url
from tests.fakes.twilio import FROM_NUMBER, INVALID_TO_NUMBER, UNREACHABLE_CARRIER, FakeTwilio

PHONE = "+447700900123"


@pytest.fixture
def twilio():
    with FakeTwilio() as fake, override_settings(**fake.settings()):
        yield fake


def code_in(body: str) -> str:
    (code,) = re.findall(r"\b\d{6}\b", body)
    return code


def last_code(twilio: FakeTwilio) -> str:
    return code_in(twilio.messages[-1].body)


@pytest.fixture
def verified_phone(twilio, owner):
    challenge_id = sms_phone_add(actor=TEST_ACTOR, user=owner, number=PHONE)
    sms_phone_confirm(actor=TEST_ACTOR, user=owner, challenge_id=challenge_id, code=last_code(twilio))
    return owner


@pytest.mark.django_db
def test_adding_a_phone_texts_one_code_from_our_number_through_twilio(twilio, owner):
    sms_phone_add(actor=TEST_ACTOR, user=owner, number=PHONE)

    (message,) = twilio.messages
    assert (message.to, message.from_, message.account_sid) == (PHONE, FROM_NUMBER, twilio.account_sid)
    assert re.fullmatch(r"CryptoVault code: \d{6}\. It expires in 10 minutes\. Never share it\.", message.body)
    assert twilio.rejected_credentials == 0, "the client authenticated with the account SID and auth token"
    assert not two_factor_enabled(owner), "the phone counts only once the code comes back"


@pytest.mark.django_db
def test_typing_the_texted_code_verifies_the_phone_and_turns_two_factor_on(twilio, owner):
    challenge_id = sms_phone_add(actor=TEST_ACTOR, user=owner, number=PHONE)
    sms_phone_confirm(actor=TEST_ACTOR, user=owner, challenge_id=challenge_id, code=last_code(twilio))

    owner.refresh_from_db()
    assert owner.phone == PHONE and owner.phone_verified_at is not None
    assert two_factor_enabled(owner)


@pytest.mark.django_db
def test_a_code_texted_for_another_challenge_is_refused(twilio, verified_phone):
    first = sms_code_send(user=verified_phone, purpose="login")
    first_code = last_code(twilio)
    second = sms_code_send(user=verified_phone, purpose="login")

    with pytest.raises(InvalidCode):
        second_factor_verify(actor=TEST_ACTOR, user=verified_phone, code=first_code, challenge_id=second)
    assert second_factor_verify(actor=TEST_ACTOR, user=verified_phone, code=first_code, challenge_id=first)


@pytest.mark.django_db
def test_a_code_is_refused_once_its_ten_minutes_are_over(twilio, verified_phone):
    challenge_id = sms_code_send(user=verified_phone, purpose="login")
    challenge = SMSChallenge.objects.latest("id")
    assert challenge.expires_at - challenge.created_at == pytest.approx(timedelta(minutes=10), abs=timedelta(seconds=1))

    SMSChallenge.objects.filter(pk=challenge.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidCode):
        second_factor_verify(actor=TEST_ACTOR, user=verified_phone, code=last_code(twilio), challenge_id=challenge_id)


@pytest.mark.django_db
def test_a_code_works_only_once(twilio, verified_phone):
    challenge_id = sms_code_send(user=verified_phone, purpose="login")
    code = last_code(twilio)
    second_factor_verify(actor=TEST_ACTOR, user=verified_phone, code=code, challenge_id=challenge_id)
    with pytest.raises(InvalidCode):
        second_factor_verify(actor=TEST_ACTOR, user=verified_phone, code=code, challenge_id=challenge_id)


@pytest.mark.django_db
def test_a_phone_confirmation_code_cannot_be_used_to_sign_in(twilio, owner):
    """Codes are bound to what they were sent for, not just to the phone."""
    challenge_id = sms_phone_add(actor=TEST_ACTOR, user=owner, number=PHONE)
    code = last_code(twilio)
    with pytest.raises(InvalidCode):
        second_factor_verify(actor=TEST_ACTOR, user=owner, code=code, challenge_id=challenge_id, purpose="login")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "trouble",
    [
        pytest.param({"error": INVALID_TO_NUMBER}, id="Twilio refuses the number"),
        pytest.param({"error": UNREACHABLE_CARRIER}, id="Twilio is in trouble"),
        pytest.param({"settings": {"TWILIO_AUTH_TOKEN": "a-rotated-token"}}, id="our Twilio token is wrong"),
        pytest.param({"settings": {"TWILIO_API_BASE_URL": closed_port_url()}}, id="Twilio cannot be reached"),
    ],
)
def test_when_the_text_cannot_be_sent_the_user_is_told_and_can_simply_try_again(twilio, owner, trouble):
    twilio.fail_with(trouble.get("error"))
    with override_settings(**trouble.get("settings", {})), pytest.raises(SMSUnavailable) as refused:
        sms_phone_add(actor=TEST_ACTOR, user=owner, number=PHONE)
    assert refused.value.message == "The text message could not be sent. Try again in a minute."
    assert refused.value.status_code == 503
    assert not two_factor_enabled(owner)

    twilio.fail_with(None)
    challenge_id = sms_phone_add(actor=TEST_ACTOR, user=owner, number=PHONE)
    sms_phone_confirm(actor=TEST_ACTOR, user=owner, challenge_id=challenge_id, code=last_code(twilio))
    assert two_factor_enabled(owner)
    assert SMSDevice.objects.filter(user=owner).count() == 1, "the failed attempt left nothing behind"


@pytest.mark.django_db
def test_in_development_the_text_with_its_code_is_readable_in_the_log(owner):
    """Nothing is sent, so the developer must be able to read the code: the masking filter must not hide it."""
    console = logging.getHandlerByName("console")
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(console.formatter)
    for log_filter in console.filters:
        handler.addFilter(log_filter)
    sms_logger = logging.getLogger("accounts.sms")
    sms_logger.addHandler(handler)
    try:
        with override_settings(SMS_BACKEND="accounts.sms.LoggingSMSBackend"):
            challenge_id = sms_phone_add(actor=TEST_ACTOR, user=owner, number=PHONE)
    finally:
        sms_logger.removeHandler(handler)

    line = output.getvalue()
    assert PHONE in line and "not sent" in line
    sms_phone_confirm(actor=TEST_ACTOR, user=owner, challenge_id=challenge_id, code=code_in(line))
    assert two_factor_enabled(owner)
