"""Shared by the test_pages_* modules (imported by name): users in the states the account
pages care about, and codes computed the way a phone would compute them. No tests here."""

from __future__ import annotations

import re

import pytest

from accounts.services.second_factor import sms_phone_add, sms_phone_confirm
from tests.fakes.authenticator import turn_on_totp, verify_email_of

SMS_CODE = re.compile(r"code: (\d{6})")


def last_sms_code(caplog) -> str:
    """The code in the last text the development SMS backend wrote to the log."""
    texts = [record.getMessage() for record in caplog.records if record.name == "accounts.sms"]
    assert texts, "no text message was sent"
    return SMS_CODE.search(texts[-1]).group(1)


def turn_on_sms(user, caplog, number: str = "+447700900123") -> None:
    challenge_id = sms_phone_add(request=None, user=user, number=number)
    sms_phone_confirm(request=None, user=user, challenge_id=challenge_id, code=last_sms_code(caplog))


@pytest.fixture
def verified_owner(owner):
    verify_email_of(owner)
    return owner


@pytest.fixture
def totp_owner(verified_owner):
    verified_owner.recovery_codes = turn_on_totp(verified_owner)
    return verified_owner
