"""Tokens for integrations, and lifting a lockout.

The password itself is checked where the request is (accounts.authentication.password_check):
django-axes counts failures by client address through Django's authenticate().
"""

from __future__ import annotations

import time

from axes.utils import reset as axes_reset
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from accounts.selectors import two_factor_enabled
from accounts.services.second_factor import second_factor_verify
from cryptovault.actor import Actor
from cryptovault.user_agents import describe_user_agent
from security.audit import audit_record
from security.models import AuditEvent

# The account's auth epoch when the token was issued (accounts.authentication refuses older ones).
AUTH_EPOCH_CLAIM = "ae"


def jwt_pair_for(*, actor: Actor, user: User, second_factor_used: bool) -> dict:
    """Access and refresh tokens; `otp_at` in the access token is the step-up proof."""
    refresh = RefreshToken.for_user(user)
    refresh[AUTH_EPOCH_CLAIM] = user.auth_epoch  # copied into every access token made from it
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
    sign_in_alert_if_new(actor=actor, user=user)
    return jwt_pair_for(actor=actor, user=user, second_factor_used=second_factor_used)


# Successful sign-ins in the audit log: a session on the sign-in page, tokens on the API.
SIGN_IN_ACTIONS = ("auth.signed_in", "auth.token_issued")
SIGN_INS_COMPARED = 500


def sign_in_alert_if_new(*, actor: Actor, user: User) -> None:
    """A security alert when `user` signs in from an IP address or a browser not seen before.

    Called before the sign-in itself is recorded; "seen" means one of the account's last
    successful sign-ins in the audit log came from it (the browser as the sessions list names
    it: "Firefox on Linux", so a browser update is not a new device). An account's very first
    sign-in has nothing to compare with and tells nothing.
    """
    from accounts.notify import notify

    past = list(
        AuditEvent.objects.visible_to(user)
        .filter(action__in=SIGN_IN_ACTIONS, outcome="success")
        .order_by("-created_at")
        .values_list("ip", "user_agent")[:SIGN_INS_COMPARED]
    )
    if not past:
        return
    browser = describe_user_agent(actor.user_agent)
    known_ips = {ip for ip, _ in past}
    known_browsers = {describe_user_agent(agent) for _, agent in past}
    if actor.ip in known_ips and browser in known_browsers:
        return
    notify(
        user=user, event="security.new_sign_in", context={"ip": actor.ip or "an unknown address", "browser": browser}
    )


def lockout_alert(*, user: User, ip: str) -> None:
    """Tell the owner their account was locked, once per lockout period: django-axes reports the
    lock again on every attempt refused while it lasts."""
    from accounts.models.notifications import Notification
    from accounts.notify import notify

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    if Notification.objects.visible_to(user).filter(event="security.locked_out", created_at__gte=since).exists():
        return
    notify(user=user, event="security.locked_out", context={"ip": ip})


def jwt_step_up_access(*, user: User) -> str:
    """An access token carrying `otp_at`, the proof accounts.gates accepts for a few minutes.

    A JWT client has no session to stamp after a step-up, so the proof travels in a new token.
    """
    access = AccessToken.for_user(user)
    access[AUTH_EPOCH_CLAIM] = user.auth_epoch
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
