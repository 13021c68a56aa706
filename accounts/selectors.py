"""Users with their account state (verified, 2FA, locked out, roles) in one query.

The staff API and the admin changelist both list accounts with this state; computed as
subqueries here, they cost the same for one row or a page of fifty.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import SMSDevice, TOTPDevice, User


def lockout_attempts() -> QuerySet[AccessAttempt]:
    """django-axes attempts that lock their account+address right now."""
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    )


def users_with_account_state(queryset: QuerySet[User] | None = None) -> QuerySet[User]:
    """Annotates `has_verified_email`, `has_two_factor`, `is_locked_out`; prefetches `groups`."""
    queryset = User.objects.all() if queryset is None else queryset
    return queryset.annotate(
        has_verified_email=Exists(
            EmailAddress.objects.filter(user=OuterRef("pk"), email=OuterRef("email"), verified=True)
        ),
        has_two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        | Exists(SMSDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        is_locked_out=Exists(lockout_attempts().filter(username=OuterRef("email"))),
    ).prefetch_related("groups")
