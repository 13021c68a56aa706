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
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = math.ceil(lockout_seconds() / 60)
    return (
        f"Too many failed sign-ins for this account from your network. Sign-in is locked for "
        f"{minutes} minutes. If this was not you, reset your password once the lock ends, "
        f"or ask support to clear it."
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


def lockout_state() -> RateLimitState:
    """The lockout as a limit, for the X-RateLimit-* headers every refused request carries."""
    limit, seconds = settings.AXES_FAILURE_LIMIT, lockout_seconds()
    return RateLimitState(limit=limit, count=limit + 1, window_seconds=seconds, reset_seconds=seconds)


def lockout_response(request: HttpRequest, credentials=None, *args, **kwargs) -> HttpResponse:
    """429 with Retry-After and the rate-limit headers: JSON on the API, an explanation page in the browser."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(detail=lockout_message(), code="account_locked"), status=429)
    else:
        response = render(
            request,
            "error.html",
            {"status": 429, "title": "Sign-in locked", "message": lockout_message()},
            status=429,
        )
    # Kept on the request too, so ApiHeadersMiddleware writes the same state on API answers.
    state = rate_limit_record(request, [lockout_state()]) or lockout_state()
    for header, value in state.headers().items():
        response[header] = value
    response["Retry-After"] = str(state.reset_seconds)
    return response
