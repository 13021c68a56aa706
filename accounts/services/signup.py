"""Signing up. The API calls `account_sign_up`; the sign-up page is allauth's form, whose
adapter hands the new user to `account_created`, so both write the same records and send the
same verification email."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from accounts.services.emails import send_account_email
from accounts.services.verification import email_verification_send
from cryptovault.actor import Actor
from security.audit import audit_record


def account_created(*, actor: Actor, user: User) -> None:
    """What every new account gets, whichever interface made it: its unverified primary
    address and the verification email (email_verification_send), and the audit record."""
    audit_record("account.signed_up", actor=actor, user=user)
    email_verification_send(actor=actor, user=user)


def account_sign_up(*, actor: Actor, email: str, password: str, name: str) -> None:
    """A new unverified account and its verification email, or a notice to an existing owner.

    The caller answers the same either way, so the API never tells whether an address has an
    account. The password must already have passed Django's validators.
    """
    email = User.objects.normalize_email(email)
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, name=name)
                account_created(actor=actor, user=user)
            return
        except (IntegrityError, ValidationError):  # the same address signed up a moment ago
            existing = User.objects.filter(email=email).first()
            if existing is None:
                raise
    make_password(password)  # about as slow as creating the account: the timing tells nothing either
    send_account_email(
        to=existing.email,
        template="account_exists",
        context={"user": existing, "reset_url": actor.site_url + reverse("account_reset_password")},
    )
    audit_record("account.sign_up_existing_email", actor=actor, user=existing)
