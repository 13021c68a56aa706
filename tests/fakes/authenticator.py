"""The authenticator app on the user's phone: pyotp, fed the manual key the set-up page shows."""

from __future__ import annotations

import time

import pyotp
import time_machine

from accounts.models import TOTPDevice, User
from accounts.services.second_factor import totp_begin, totp_confirm
from tests.factories import TEST_ACTOR


class AuthenticatorApp:
    def __init__(self, device: TOTPDevice) -> None:
        self.totp = pyotp.TOTP(device.manual_key)

    def code(self, *, steps_from_now: int = 0) -> str:
        """The code the app shows now, or that many 30-second steps earlier (<0) or later (>0)."""
        return self.totp.at(time.time() + steps_from_now * self.totp.interval)


def authenticator_enabled(user: User, *, actor=TEST_ACTOR) -> tuple[TOTPDevice, AuthenticatorApp, list[str]]:
    """Set up an authenticator app the way the user does; returns the device, the app and the recovery codes."""
    device = totp_begin(user=user)
    app = AuthenticatorApp(device)
    recovery_codes = totp_confirm(actor=actor, user=user, code=app.code()).recovery_codes
    device.refresh_from_db()
    return device, app, recovery_codes


def unused_totp_code(user: User) -> str:
    """A code the user's app shows now (or one step either side), never one already accepted:
    the server refuses a replayed code, so tests that sign in twice need the next one.

    Once three codes in a row were used within one 30-second step, the next one comes only with
    the next step: the clock moves on to it (see `_wait_until`) rather than the test sleeping up
    to 30 s. The server still checks the code against its clock and still refuses a replay."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    now_step = int(time.time()) // 30
    step = max(now_step - 1, device.last_t + 1)
    if step > now_step + 1:
        _wait_until((step - 1) * 30)  # the moment `step` is the next step's code, as a sleep would
    return pyotp.TOTP(device.manual_key).at(step * 30)


_travels: list[time_machine.travel] = []


def _wait_until(moment: float) -> None:
    """`time.sleep(moment - time.time())` without the wait: the clock jumps to `moment` and ticks on,
    the process's clock, so the server's too (the test client and the test servers run in-process)."""
    if time_machine.traveller_stack:  # the test travels already: its clock moves on
        time_machine.traveller_stack[-1].shift(moment - time.time())
    else:
        travel = time_machine.travel(moment, tick=True)
        travel.start()
        _travels.append(travel)


def back_to_the_present() -> None:
    """End the travel `unused_totp_code` started; tests/conftest.py calls this after every test."""
    while _travels:
        _travels.pop().stop()


def turn_on_totp(user: User) -> list[str]:
    """2FA on with an authenticator app (the previous step's code, so "now" stays unused);
    returns the recovery codes."""
    device = totp_begin(user=user)
    code = pyotp.TOTP(device.manual_key).at(time.time() - 30)
    return totp_confirm(actor=TEST_ACTOR, user=user, code=code).recovery_codes


def verify_email_of(user: User) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
