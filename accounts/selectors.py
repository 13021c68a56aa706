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
from accounts.services.sessions import sessions_list
from accounts.user_agents import describe_user_agent


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


def session_rows(*, user: User, current_key: str | None) -> list[dict]:
    """The user's live sessions as the page and the API show them, the caller's marked `current`."""
    return [
        {
            "id": session.pk,
            "device": describe_user_agent(session.user_agent),
            "user_agent": session.user_agent,
            "ip": session.ip,
            "created_at": session.created_at,
            "last_seen_at": session.last_seen_at,
            "current": current_key is not None and session.session_key == current_key,
        }
        for session in sessions_list(user=user)
    ]
