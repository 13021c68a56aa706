"""How django-axes sees sign-ins and what a locked-out client is told.

A sign-in fails on a wrong password (django-axes counts it inside Django's authenticate()) or on
a wrong second-factor code once the password was right (counted here, `sign_in_code_failed`):
both add up toward the same lockout of that account for that client, on the page and the API.
Earlier failures are forgotten only when the whole sign-in succeeds.
"""

from __future__ import annotations

import math

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import UserManager
from cryptovault.api.errors import error_body
from cryptovault.clientip import client_ip
from cryptovault.ratelimits import RateLimitState, rate_limit_record


def username_for_axes(request: HttpRequest, credentials: dict | None) -> str:
    """The email typed, normalised the way accounts are stored, from any of our forms."""
    credentials = credentials or {}
    for field in ("email", "login", "username"):
        if credentials.get(field):
            return UserManager.normalize_email(str(credentials[field]))
    data = getattr(request, "POST", None) or {}
    return UserManager.normalize_email(str(data.get("login") or data.get("email") or ""))


def lockout_seconds() -> int:
    """The whole cool-off (AXES_COOLOFF_TIME)."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_seconds_left(request: HttpRequest, credentials: dict | None = None) -> int:
    """Seconds until this client's lock on the account ends: the cool-off counted from the last
    failure django-axes recorded for the account and this address (attempts refused during the lock
    are not recorded and do not restart it: AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off).
    The whole cool-off when no record is found (a lock by another handler)."""
    from axes.models import AccessAttempt

    whole = lockout_seconds()
    last = (
        AccessAttempt.objects.filter(username=username_for_axes(request, credentials), ip_address=client_ip(request))
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    if last is None:
        return whole
    left = (last + settings.AXES_COOLOFF_TIME - timezone.now()).total_seconds()
    return max(1, min(whole, math.ceil(left)))


def lockout_message(seconds: int | None = None) -> str:
    """What the locked-out client is told; `seconds`: the time left (the whole cool-off by default)."""
    minutes = math.ceil((lockout_seconds() if seconds is None else seconds) / 60)
    return (
        f"Too many failed sign-ins for this account from your network. Sign-in is locked for "
        f"{minutes} minute{'s' if minutes != 1 else ''}. If this was not you, reset your password once "
        f"the lock ends, or ask support to clear it."
    )


def sign_in_locked(request: HttpRequest, *, email: str) -> bool:
    """Is signing in to `email` locked for this client (wrong passwords and codes together)?"""
    return AxesProxyHandler.is_locked(request, {"username": email})


def sign_in_code_failed(request: HttpRequest, *, email: str) -> bool:
    """Count a wrong second-factor code at sign-in as django-axes counts a wrong password.

    True when this failure locked the account for this client: django-axes has then marked the
    request (its middleware answers with `lockout_response`) and sent `user_locked_out`.
    """
    AxesProxyHandler.user_login_failed(sender=sign_in_code_failed, credentials={"username": email}, request=request)
    return bool(getattr(request, "axes_locked_out", False))


def sign_in_succeeded(request: HttpRequest, *, email: str) -> None:
    """The whole sign-in (password and second factor) succeeded: earlier failures stop counting.

    A page sign-in gets this from django-axes on `user_logged_in`; a token sign-in has no session
    login, so the token endpoint calls it once the tokens are issued.
    """
    axes_reset(ip=client_ip(request), username=email)


def lockout_state(seconds_left: int | None = None) -> RateLimitState:
    """The lockout as a limit, for the X-RateLimit-* headers every refused request carries: the
    window is the whole cool-off, the reset the time left of it."""
    limit, seconds = settings.AXES_FAILURE_LIMIT, lockout_seconds()
    reset = seconds if seconds_left is None else seconds_left
    return RateLimitState(limit=limit, count=limit + 1, window_seconds=seconds, reset_seconds=reset)


def lockout_response(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """429 with Retry-After and the rate-limit headers: JSON on the API, an explanation page in the browser.

    django-axes calls it with (request, original_response, credentials), or (request, credentials)
    from its async middleware: the credentials are whichever argument is a dict.
    """
    response: HttpResponse
    given = [arg for arg in (*args, kwargs.get("credentials")) if isinstance(arg, dict)]
    credentials = given[0] if given else getattr(request, "axes_credentials", None)
    left = lockout_seconds_left(request, credentials)
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(detail=lockout_message(left), code="account_locked"), status=429)
    else:
        response = render(
            request,
            "error.html",
            {"status": 429, "title": "Sign-in locked", "message": lockout_message(left)},
            status=429,
        )
    # Kept on the request too, so ApiHeadersMiddleware writes the same state on API answers.
    state = rate_limit_record(request, [lockout_state(left)]) or lockout_state(left)
    for header, value in state.headers().items():
        response[header] = value
    response["Retry-After"] = str(state.reset_seconds)
    return response
