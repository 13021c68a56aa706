"""Signing in with email and password (pages go through allauth, the API through here).

django-axes counts the failures (through Django's authenticate) and refuses a locked-out client
before the password is even checked; the lockout answer itself comes from accounts.lockout.
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib.auth import authenticate
from django.http import HttpRequest

from accounts.errors import InvalidCredentials
from accounts.lockout import lockout_message, lockout_seconds
from accounts.models import User
from accounts.services.second_factor import second_factor_verify, two_factor_enabled
from cryptovault.clientip import client_ip
from cryptovault.errors import DomainError
from security.audit import audit_record


class AccountLocked(DomainError):
    """django-axes locked this account for this client. AxesMiddleware answers the same 429
    (accounts.lockout) for pages; the API raises this so the view stops right there."""

    status_code = 429
    code = "account_locked"

    def __init__(self) -> None:
        super().__init__(lockout_message())
        self.headers = {"Retry-After": str(lockout_seconds())}


def password_check(*, request: HttpRequest, email: str, password: str) -> User:
    # axes marks the Django request (not DRF's wrapper), and its middleware reads it there.
    django_request = getattr(request, "_request", request)
    user = authenticate(django_request, email=email, password=password)
    if getattr(django_request, "axes_locked_out", False):
        raise AccountLocked()
    if user is None:
        raise InvalidCredentials(field="password")
    # A token sign-in is not a session login (no user_logged_in signal), so axes' reset on
    # success is done here: earlier failures no longer count toward a lockout.
    axes_reset(ip=client_ip(django_request), username=user.email)
    return user


def jwt_pair_for(*, request: HttpRequest, user: User, second_factor_used: bool) -> dict:
    """Access and refresh tokens; `otp_at` in the access token is the step-up proof."""
    import time

    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(user)
    if second_factor_used:
        refresh["otp_at"] = int(time.time())
    access = refresh.access_token
    audit_record("auth.token_issued", request=request, user=user, second_factor=second_factor_used)
    return {"access": str(access), "refresh": str(refresh)}


def jwt_sign_in(*, request: HttpRequest, user: User, otp_code: str, challenge_id: str | None) -> dict | None:
    """Tokens for a user whose password checked out, or None while a second factor is owed.

    With 2FA on, the password alone never yields tokens: the code is checked here (a wrong one
    raises) and the proof goes into the tokens as `otp_at`. None tells the caller to ask for the
    code. `request` must carry no session: the proof belongs in the token, not in a cookie.
    """
    second_factor_used = two_factor_enabled(user)
    if second_factor_used:
        if not otp_code:
            return None
        second_factor_verify(
            request=request,
            user=user,
            code=otp_code,
            challenge_id=challenge_id or None,
            purpose="login",
        )
    return jwt_pair_for(request=request, user=user, second_factor_used=second_factor_used)


def jwt_step_up_access(*, user: User) -> str:
    """An access token carrying `otp_at`, the proof accounts.gates accepts for a few minutes.

    A JWT client has no session to stamp after a step-up, so the proof travels in a new token.
    """
    import time

    from rest_framework_simplejwt.tokens import AccessToken

    access = AccessToken.for_user(user)
    access["otp_at"] = int(time.time())
    return str(access)


def lockout_clear(*, request: HttpRequest | None, user: User) -> int:
    """Let `user` sign in again from every locked address; returns how many attempts were cleared.

    Audited only when something was cleared, so the log shows who lifted a real lockout.
    """
    cleared = axes_reset(username=user.email)
    if cleared:
        audit_record("auth.lockout_cleared", request=request, account=user.email, attempts_cleared=cleared)
    return cleared
