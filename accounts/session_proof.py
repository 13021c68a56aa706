"""Keeping a second-factor proof in a browser session: the page's and the session API's half.

Services check codes and return the device that accepted one; they never touch a session. An
interface holding a session stamps it here afterwards: django-otp's device id makes the session
`is_verified()` (the API's session authentication requires it once 2FA is on), and the time is
the step-up proof the gate reads through `Actor.second_factor_at`. Token clients carry the
proof in the JWT instead (`otp_at`), so nothing is stamped for them.
"""

from __future__ import annotations

import time

from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from cryptovault.actor import SECOND_FACTOR_AT_SESSION_KEY


def session_stamp_second_factor(request: HttpRequest, device: Device) -> None:
    """Record on the request's session that `device` proved the second factor just now."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SECOND_FACTOR_AT_SESSION_KEY] = int(time.time())
