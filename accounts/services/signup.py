"""Signing up through the API. The sign-up page is allauth's form, which ends in the same
verification email (AccountAdapter.send_confirmation_mail -> email_verification_send)."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts.models import User
from accounts.services.verification import email_verification_send
from security.audit import audit_record


def account_sign_up(*, request: HttpRequest, email: str, password: str, name: str) -> None:
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
                EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
                email_verification_send(request=request, user=user)
                audit_record("account.signed_up", request=request, user=user, via="api")
            return
        except (IntegrityError, ValidationError):  # the same address signed up a moment ago
            existing = User.objects.filter(email=email).first()
            if existing is None:
                raise
    make_password(password)  # about as slow as creating the account: the timing tells nothing either
    get_adapter(request).send_account_already_exists_mail(existing.email)
    audit_record("account.sign_up_existing_email", request=request, user=existing, via="api")
