"""Browser sessions and API tokens: list them, end them, end them all when credentials change."""

from __future__ import annotations

import time

from allauth.usersessions.models import UserSession
from django.db import transaction
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from cryptovault.access import visible_to
from cryptovault.actor import Actor
from security.audit import audit_record


@transaction.atomic
def session_revoke(*, actor: Actor, user: User, session_id: int) -> None:
    """End one of the user's sessions. Another user's id is simply not found (404 upstream)."""
    session = visible_to(UserSession.objects.all(), user).get(pk=session_id)
    session.end()
    audit_record("session.revoked", actor=actor, user=user, session_id=session_id)


@transaction.atomic
def sessions_revoke_others(*, actor: Actor, user: User) -> int:
    """End every session but the actor's own (when it is one of the user's); returns how many ended."""
    keep = actor.session_key_of(user) or ""
    ended = 0
    for session in visible_to(UserSession.objects.all(), user).exclude(session_key=keep):
        session.end()
        ended += 1
    audit_record("session.revoked_others", actor=actor, user=user, count=ended)
    return ended


def refresh_tokens_revoke_all(*, user: User) -> int:
    """Blacklist every outstanding JWT refresh token, so no integration can mint new access tokens."""
    outstanding = visible_to(OutstandingToken.objects.all(), user).exclude(blacklistedtoken__isnull=False)
    tokens = list(outstanding)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in tokens], ignore_conflicts=True)
    return len(tokens)


def refresh_token_revoked(*, actor: Actor, refresh: str) -> None:
    """Record a token client's sign-out once simplejwt's serializer has blacklisted `refresh`.

    The token is read without verifying it (it is blacklisted by now) only to name its owner in
    the audit log; an owner deleted since is recorded as unknown.
    """
    # simplejwt annotates `token` as a Token, but it takes (and its views pass) the encoded string.
    user_id = RefreshToken(refresh, verify=False).get(jwt_settings.USER_ID_CLAIM)  # type: ignore[arg-type]
    user = User.objects.filter(pk=user_id).first()
    audit_record("auth.token_revoked", actor=actor, user=user)


def auth_epoch_advance(*, user: User) -> None:
    """Access tokens issued until now stop working (accounts.authentication.JWTAuthentication).

    Set on `user` too: a caller that hands its client new tokens right after the change (the
    API's after_credentials_changed) issues them under the new epoch.
    """
    user.auth_epoch = max(time.time_ns() // 1000, user.auth_epoch + 1)
    User.objects.filter(pk=user.pk).update(auth_epoch=user.auth_epoch)


def credentials_changed(*, actor: Actor, user: User) -> None:
    """A new password or second factor: whoever held the old ones is signed out everywhere else,
    browser sessions, refresh tokens and access tokens alike."""
    sessions_revoke_others(actor=actor, user=user)
    refresh_tokens_revoke_all(user=user)
    auth_epoch_advance(user=user)
