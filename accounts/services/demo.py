"""Demo accounts for `seed_demo` (local use only)."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User
from accounts.services.roles import ADMIN, TRADER, role_assign
from cryptovault.actor import Actor


@transaction.atomic
def demo_user_ensure(
    *, actor: Actor, email: str, password: str, name: str, is_staff: bool = False
) -> tuple[User, bool]:
    """Create a demo account once; on later runs leave it (and its password) as the user left it."""
    user = User.objects.filter(email=User.objects.normalize_email(email)).first()
    if user is not None:
        return user, False
    if is_staff:
        user = User.objects.create_superuser(email=email, password=password, name=name)
    else:
        user = User.objects.create_user(email=email, password=password, name=name)
    _mark_email_verified(user)
    role_assign(actor=actor, user=user, role=ADMIN if is_staff else TRADER)
    return user, True


def _mark_email_verified(user: User) -> None:
    """Demo accounts skip the verification email: their addresses do not exist."""
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
