"""Setting a new password, from a reset link or from the signed-in account.

Both go through allauth's adapter, as the pages do: it ends the account's other sessions and
refresh tokens (whoever knew the old password is signed out) and the notification email tells
the owner, in case it was not them.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.signals import password_changed
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.models import User


def password_reset(*, request: HttpRequest, user: User, password: str) -> None:
    """A new password from a reset link (the caller has checked the link).

    Validated here because the reset link proves who the user is, not that the password is
    acceptable; a weak one is a 400 on `password`.
    """
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    adapter = get_adapter(request)
    adapter.set_password(user, password)
    adapter.send_notification_mail("account/email/password_reset", user)


def password_change(*, request: HttpRequest, user: User, new_password: str, keep_session: bool) -> None:
    """The signed-in user's new password (the caller has checked the current one and the new one).

    `keep_session` keeps this browser session signed in after the adapter ends the others, and
    lets allauth's session list follow the session's new key, as after the page's change. A token
    client has no session to keep: it gets a new token pair instead.
    """
    adapter = get_adapter(request)
    adapter.set_password(user, new_password)
    adapter.send_notification_mail("account/email/password_changed", user)
    if keep_session:
        update_session_auth_hash(request, user)
        password_changed.send(sender=User, request=request, user=user)
