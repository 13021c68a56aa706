"""Audit records for what Django, allauth and django-axes do on their own."""

from __future__ import annotations

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.lockout import username_for_axes
from accounts.middleware import LAST_SEEN_SESSION_KEY, SIGNED_IN_AT_SESSION_KEY
from accounts.models import User
from accounts.services.auth import lockout_alert, sign_in_alert_if_new
from cryptovault.actor import Actor
from security.audit import audit_record


@receiver(user_logged_in, dispatch_uid="accounts_audit_login")
def _signed_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_SESSION_KEY] = int(time.time())
        request.session[LAST_SEEN_SESSION_KEY] = int(time.time())  # allauth records the session row now
    actor = Actor.from_request_or_system(request).signed_in_as(user)
    if request is not None:
        sign_in_alert_if_new(actor=actor, user=user)
    audit_record("auth.signed_in", actor=actor, user=user)


@receiver(user_logged_out, dispatch_uid="accounts_audit_logout")
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record("auth.signed_out", actor=Actor.from_request_or_system(request).signed_in_as(user), user=user)


def _account_typed(email: str) -> User | None:
    """The account a failed sign-in was aimed at, so its owner sees it in their security activity."""
    return User.objects.filter(email=email).first() if email else None


@receiver(user_login_failed, dispatch_uid="accounts_audit_login_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    email = username_for_axes(request, credentials)
    audit_record(
        "auth.sign_in_failed",
        actor=Actor.from_request_or_system(request),
        user=_account_typed(email),
        actor_email=email,
        outcome="failure",
        by_someone=True,  # whoever typed the address: not known to be the owner
    )


@receiver(user_locked_out, dispatch_uid="accounts_audit_locked_out")
def _locked_out(sender, request, username, ip_address, **kwargs):
    email = username or ""
    account = _account_typed(email)
    audit_record(
        "auth.locked_out",
        actor=Actor.from_request_or_system(request),
        user=account,
        actor_email=email,
        outcome="failure",
        ip_seen=ip_address,
        by_someone=True,
    )
    if account is not None:
        lockout_alert(user=account, ip=ip_address or "")
