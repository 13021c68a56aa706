"""Session lifetime and activity.

- Idle: the session record expires SESSION_IDLE_TIMEOUT after the last recorded activity.
- Absolute: this ends a session SESSION_ABSOLUTE_TIMEOUT after sign-in, however busy.
- Activity is recorded at most once a minute (ACTIVITY_RECORD_SECONDS): the session is saved
  (which moves its end 30 minutes ahead) and the sessions list's "last seen" (allauth's
  UserSession) is updated in the same request. Every other signed-in request writes nothing: no
  session save (SESSION_SAVE_EVERY_REQUEST is off) and no per-request tracking
  (USERSESSIONS_TRACK_ACTIVITY is off; this takes its place).
"""

from __future__ import annotations

import time

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils import timezone

from accounts.durations import session_absolute_lifetime
from cryptovault.clientip import client_ip

SIGNED_IN_AT_SESSION_KEY = "cv_signed_in_at"
LAST_SEEN_SESSION_KEY = "cv_seen_at"
ACTIVITY_RECORD_SECONDS = 60


def session_activity_record(request) -> None:
    """Mark the session seen now: it is saved with a new end, and its "last seen" row follows."""
    session = request.session
    session[LAST_SEEN_SESSION_KEY] = int(time.time())
    if not session.session_key:
        return
    user_agent = request.META.get("HTTP_USER_AGENT", "")[: UserSession._meta.get_field("user_agent").max_length]
    updated = UserSession.objects.filter(session_key=session.session_key, user_id=request.user.pk).update(
        last_seen_at=timezone.now(), ip=client_ip(request), user_agent=user_agent
    )
    if not updated:
        UserSession.objects.create_from_request(request)


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            signed_in_at = request.session.get(SIGNED_IN_AT_SESSION_KEY)
            if signed_in_at is None:
                request.session[SIGNED_IN_AT_SESSION_KEY] = int(now)
            elif now - signed_in_at > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(
                    request, f"Your session ended after {session_absolute_lifetime()}. Sign in again to continue."
                )
                return self.get_response(request)
            seen_at = request.session.get(LAST_SEEN_SESSION_KEY)
            if seen_at is None or now - seen_at >= ACTIVITY_RECORD_SECONDS:
                session_activity_record(request)
        return self.get_response(request)
