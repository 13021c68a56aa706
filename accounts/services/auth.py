"""Tokens for integrations, and lifting a lockout.

The password itself is checked where the request is (accounts.authentication.password_check):
django-axes counts failures by client address through Django's authenticate().
"""

from __future__ import annotations

import time

from axes.utils import reset as axes_reset
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.selectors import two_factor_enabled
from accounts.services.second_factor import second_factor_verify
from cryptovault.actor import Actor
from security.audit import audit_record


def jwt_pair_for(*, actor: Actor, user: User, second_factor_used: bool) -> dict:
    """Access and refresh tokens; `otp_at` in the access token is the step-up proof."""
    refresh = RefreshToken.for_user(user)
    if second_factor_used:
        refresh["otp_at"] = int(time.time())
    access = refresh.access_token
    audit_record("auth.token_issued", actor=actor, user=user, second_factor=second_factor_used)
    return {"access": str(access), "refresh": str(refresh)}


def jwt_sign_in(*, actor: Actor, user: User, otp_code: str, challenge_id: str | None) -> dict | None:
    """Tokens for a user whose password checked out, or None while a second factor is owed.

    With 2FA on, the password alone never yields tokens: the code is checked here (a wrong one
    raises) and the proof goes into the tokens as `otp_at`. None tells the caller to ask for the
    code. The proof belongs in the token, never in a cookie session.
    """
    actor = actor.signed_in_as(user)
    second_factor_used = two_factor_enabled(user)
    if second_factor_used:
        if not otp_code:
            return None
        second_factor_verify(actor=actor, user=user, code=otp_code, challenge_id=challenge_id or None, purpose="login")
    return jwt_pair_for(actor=actor, user=user, second_factor_used=second_factor_used)


def jwt_step_up_access(*, user: User) -> str:
    """An access token carrying `otp_at`, the proof accounts.gates accepts for a few minutes.

    A JWT client has no session to stamp after a step-up, so the proof travels in a new token.
    """
    access = AccessToken.for_user(user)
    access["otp_at"] = int(time.time())
    return str(access)


def lockout_clear(*, actor: Actor, user: User) -> int:
    """Let `user` sign in again from every locked address; returns how many attempts were cleared.

    Audited only when something was cleared, so the log shows who lifted a real lockout.
    """
    cleared = axes_reset(username=user.email)
    if cleared:
        audit_record("auth.lockout_cleared", actor=actor, account=user.email, attempts_cleared=cleared)
    return cleared
