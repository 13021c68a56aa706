"""Reads about accounts, for pages, the API, the admin and the services alike.

Each starts from the read gate (`visible_to`). Users with their account state (verified, 2FA,
locked out, roles) come in one query for the staff API and the admin changelist: computed as
subqueries, they cost the same for one row or a page of fifty.
"""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import (
    NotificationChannel,
    NotificationPreference,
    RecoveryCodeDevice,
    SMSDevice,
    TOTPDevice,
    User,
)
from accounts.notifications import EVENT_TYPES
from cryptovault.access import visible_to
from cryptovault.user_agents import describe_user_agent


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


def two_factor_enabled(user: User) -> bool:
    """On once an authenticator app or a verified phone is confirmed (recovery codes alone do not count)."""
    return (
        TOTPDevice.objects.visible_to(user).filter(confirmed=True).exists()
        or SMSDevice.objects.visible_to(user).filter(confirmed=True).exists()
    )


def two_factor_summary(user: User) -> dict:
    totp = TOTPDevice.objects.visible_to(user).filter(confirmed=True).first()
    sms = SMSDevice.objects.visible_to(user).filter(confirmed=True).first()
    recovery = RecoveryCodeDevice.objects.visible_to(user).filter(confirmed=True).first()
    return {
        "enabled": bool(totp or sms),
        "totp": bool(totp),
        "sms": sms.masked_number if sms else None,
        "recovery_codes_remaining": recovery.remaining if recovery else 0,
    }


def totp_pending(*, user: User) -> TOTPDevice | None:
    """The seed being set up, if it was started less than TOTPDevice.PENDING_MINUTES ago."""
    started_after = timezone.now() - timedelta(minutes=TOTPDevice.PENDING_MINUTES)
    pending = TOTPDevice.objects.visible_to(user).filter(confirmed=False, created_at__gt=started_after)
    return pending.order_by("-id").first()


def notification_preferences(*, user: User) -> dict[str, dict[str, bool]]:
    """{event_type: {channel: enabled}} for every known type and channel, defaults filled in."""
    stored = {(p.event_type, p.channel): p.enabled for p in NotificationPreference.objects.visible_to(user)}
    return {
        key: {
            channel: stored.get((key, channel), channel in event.default_channels)
            for channel in NotificationChannel.values
        }
        for key, event in EVENT_TYPES.items()
    }


def sessions_list(*, user: User) -> list[UserSession]:
    """The user's live browser sessions, most recently seen first; ended ones are purged.

    allauth's `purge_and_list` asks the session store three times per row; this reads the rows
    and their session records in two queries. A session is live while its record is unexpired
    and still carries this user and the current password hash (a password change ends it).
    """
    rows = list(visible_to(UserSession.objects.all(), user))
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        rows = UserSession.objects.purge_and_list(user)
    else:
        records = Session.objects.filter(
            session_key__in=[row.session_key for row in rows], expire_date__gt=timezone.now()
        )
        decoded = {record.session_key: record.get_decoded() for record in records}
        password_hash = user.get_session_auth_hash()

        def live(row: UserSession) -> bool:
            data = decoded.get(row.session_key, {})
            return (
                user.is_active
                and str(data.get(SESSION_KEY)) == str(user.pk)
                and constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), password_hash)
            )

        ended = [row.pk for row in rows if not live(row)]
        if ended:
            UserSession.objects.filter(pk__in=ended).delete()
        rows = [row for row in rows if row.pk not in ended]
    return sorted(rows, key=lambda session: session.last_seen_at, reverse=True)
