"""Audit records for what Django, allauth and django-axes do on their own."""

from __future__ import annotations

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.lockout import username_for_axes
from accounts.middleware import SIGNED_IN_AT_SESSION_KEY
from accounts.models import User
from cryptovault.actor import Actor
from security.audit import audit_record


@receiver(user_logged_in, dispatch_uid="accounts_audit_login")
def _signed_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_SESSION_KEY] = int(time.time())
    audit_record("auth.signed_in", actor=Actor.from_request_or_system(request).signed_in_as(user), user=user)


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
    audit_record(
        "auth.locked_out",
        actor=Actor.from_request_or_system(request),
        user=_account_typed(email),
        actor_email=email,
        outcome="failure",
        ip_seen=ip_address,
        by_someone=True,
    )
