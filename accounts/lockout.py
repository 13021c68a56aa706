"""How django-axes sees sign-ins and what a locked-out client is told."""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render

from accounts.models import UserManager
from cryptovault.api.errors import error_body


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


def lockout_response(request: HttpRequest, credentials=None, *args, **kwargs):
    """429 with Retry-After: JSON on the API, an explanation page in the browser."""
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(detail=lockout_message(), code="account_locked"), status=429)
    else:
        response = render(
            request,
            "error.html",
            {"status": 429, "title": "Sign-in locked", "message": lockout_message()},
            status=429,
        )
    response["Retry-After"] = str(lockout_seconds())
    return response
