"""Setting a new password: from a reset link, from the signed-in account, from allauth's pages.

Every new password comes through `password_set`, whichever interface took it: the account's
other sessions and refresh tokens end (whoever knew the old password is signed out) and the
change is recorded. Keeping the caller's own browser session signed in (Django's session
hash) is the page's and the API's business, since only they hold the session.
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.notify import notify
from accounts.services.sessions import credentials_changed
from cryptovault.actor import Actor
from security.audit import audit_record


@transaction.atomic
def password_set(*, actor: Actor, user: User, password: str, reset: bool = False) -> None:
    """Store the new password (already validated by the caller) and end the other sessions.

    `reset`: it came from a reset link (recorded as `auth.password_reset`), not from someone signed in.
    """
    user.set_password(password)
    user.save(update_fields=["password"])
    if reset:
        audit_record("auth.password_reset", actor=actor, user=user)
    else:
        audit_record("auth.password_changed", actor=actor, user=user)
    credentials_changed(actor=actor, user=user)
    notify(user=user, event="security.password_changed")


def password_reset(*, actor: Actor, user: User, password: str) -> None:
    """A new password from a reset link (the caller has checked the link).

    Validated here because the reset link proves who the user is, not that the password is
    acceptable; a weak one is a 400 on `password`.
    """
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    password_set(actor=actor, user=user, password=password, reset=True)


def password_change(*, actor: Actor, user: User, new_password: str) -> None:
    """The signed-in user's new password (the caller has checked the current one and the new one)."""
    password_set(actor=actor, user=user, password=new_password)
