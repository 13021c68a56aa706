"""Plain helpers the account tests import by name: codes read the way a phone reads them, a
phone number turned on, browsers and token clients in the states the second-factor rules care
about, an account locked out. Fixtures are in conftest.py; nothing here is collected."""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import TOTPDevice, User
from accounts.services.second_factor import sms_phone_add, sms_phone_confirm
from cryptovault.actor import SECOND_FACTOR_AT_SESSION_KEY
from tests.factories import TEST_ACTOR
from tests.helpers import with_access

SIX_DIGITS = re.compile(r"\b(\d{6})\b")
SMS_CODE = re.compile(r"code: (\d{6})")
TEN_MINUTES_AGO = 600
ATTACKER = "203.0.113.66"


def last_sms_code(caplog) -> str:
    """The code in the last text the development SMS backend wrote to the log."""
    texts = [record.getMessage() for record in caplog.records if record.name == "accounts.sms"]
    assert texts, "no text message was sent"
    return SMS_CODE.search(texts[-1]).group(1)


def turn_on_sms(user: User, caplog, number: str = "+447700900123") -> None:
    challenge_id = sms_phone_add(actor=TEST_ACTOR, user=user, number=number)
    sms_phone_confirm(actor=TEST_ACTOR, user=user, challenge_id=challenge_id, code=last_sms_code(caplog))


def signed_in_a_while_ago(user: User) -> APIClient:
    """A token client that gave its second factor at sign-in, ten minutes ago (no fresh proof now)."""
    refresh = RefreshToken.for_user(user)
    refresh["otp_at"] = int(time.time()) - TEN_MINUTES_AGO
    return with_access(APIClient(), str(refresh.access_token))


def browser_signed_in_a_while_ago(user: User) -> Client:
    """A browser session that passed the second factor ten minutes ago."""
    browser = Client()
    browser.force_login(user)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session[SECOND_FACTOR_AT_SESSION_KEY] = int(time.time()) - TEN_MINUTES_AGO
    session.save()
    return browser


def lock_out(user: User, guess_prefix: str = "wrong") -> None:
    """Wrong passwords from one address until django-axes locks the account there."""
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            "/accounts/login/", {"login": user.email, "password": f"{guess_prefix}-{attempt}"}, REMOTE_ADDR=ATTACKER
        )
