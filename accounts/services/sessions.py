"""Browser sessions and API tokens: list them, end them, end them all when credentials change."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.http import HttpRequest
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from security.audit import audit_record


def current_session_key(request: HttpRequest | None) -> str | None:
    """The browser session making the request, or None when it carries none (the API strips it
    from token and API-key requests)."""
    session = getattr(request, "session", None) if request is not None else None
    return session.session_key if session is not None else None


def sessions_list(*, user: User) -> list[UserSession]:
    """The user's live browser sessions, most recently seen first (ended ones are purged)."""
    live = UserSession.objects.purge_and_list(user)
    return sorted(live, key=lambda session: session.last_seen_at, reverse=True)


def session_revoke(*, request: HttpRequest | None, user: User, session_id: int) -> None:
    """End one of the user's sessions. Another user's id is simply not found (404 upstream)."""
    session = UserSession.objects.get(pk=session_id, user=user)
    session.end()
    audit_record("session.revoked", request=request, user=user, session_id=session_id)


def sessions_revoke_others(*, request: HttpRequest | None, user: User) -> int:
    """End every session but the one making the request; returns how many ended."""
    current = current_session_key(request)
    ended = 0
    for session in UserSession.objects.filter(user=user).exclude(session_key=current or ""):
        session.end()
        ended += 1
    audit_record("session.revoked_others", request=request, user=user, count=ended)
    return ended


def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding JWT refresh token, so no integration can mint new access tokens."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    tokens = list(outstanding)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in tokens], ignore_conflicts=True)
    return len(tokens)


def refresh_token_revoked(*, request: HttpRequest | None, refresh: str) -> None:
    """Record a token client's sign-out once simplejwt's serializer has blacklisted `refresh`.

    The token is read without verifying it (it is blacklisted by now) only to name its owner in
    the audit log; an owner deleted since is recorded as unknown.
    """
    user_id = RefreshToken(refresh, verify=False).get(jwt_settings.USER_ID_CLAIM)
    user = User.objects.filter(pk=user_id).first()
    audit_record("auth.token_revoked", request=request, user=user)


def credentials_changed(*, request: HttpRequest | None, user: User) -> None:
    """A new password or second factor: whoever held the old ones is signed out everywhere else."""
    sessions_revoke_others(request=request, user=user)
    refresh_tokens_revoke_all(user=user)
