"""Session lifetime: the cookie expires after SESSION_IDLE_TIMEOUT of inactivity (Django,
renewed per request); this ends a session SESSION_ABSOLUTE_TIMEOUT after sign-in, however busy."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

from accounts.durations import session_absolute_lifetime

SIGNED_IN_AT_SESSION_KEY = "cv_signed_in_at"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            signed_in_at = request.session.get(SIGNED_IN_AT_SESSION_KEY)
            if signed_in_at is None:
                request.session[SIGNED_IN_AT_SESSION_KEY] = int(time.time())
            elif time.time() - signed_in_at > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(
                    request, f"Your session ended after {session_absolute_lifetime()}. Sign in again to continue."
                )
        return self.get_response(request)
