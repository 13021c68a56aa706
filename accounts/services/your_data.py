"""Your data: export everything we hold about you; delete (anonymise) the account."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from accounts.errors import InvalidCredentials
from accounts.models import (
    ApiKey,
    EmailVerificationCode,
    NotificationPreference,
    RecoveryCodeDevice,
    SMSDevice,
    TOTPDevice,
    User,
)
from accounts.selectors import two_factor_enabled
from accounts.services.api_keys import api_keys_revoke_all
from accounts.services.second_factor import second_factor_verify
from accounts.services.sessions import refresh_tokens_revoke_all
from cryptovault.access import visible_to
from cryptovault.actor import Actor
from cryptovault.errors import NotPermitted
from security.audit import audit_record
from security.ip_allowlist import protected_action
from security.models import AuditEvent
from security.selectors import activity_rows, audit_events_for


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def user_data_export_filename(exported_at: datetime | None = None) -> str:
    """The one name the export file gets, from the page and the API alike."""
    return f"cryptovault-data-{(exported_at or timezone.now()):%Y-%m-%d}.json"


# Other apps hold data about a user too (exchange connections, price alerts). accounts does not
# import them: they answer these signals (connected in their AppConfig.ready).
# `data_export_parts.send(sender=None, user=...)`: each receiver returns {"section": [...]}, merged in.
data_export_parts = Signal()
# `account_deleting.send(sender=None, actor=..., user=...)`: inside the deletion's transaction, each
# receiver removes or ends what it holds for the user (revokes keys, cancels alerts).
account_deleting = Signal()


def user_data_export(*, actor: Actor, user: User) -> dict:
    """Everything about the user, no secret (no hashes, seeds, codes or keys), as plain JSON."""
    export: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "email": user.email,
            "name": user.name,
            "timezone": str(user.timezone),
            "phone": user.phone,
            "phone_verified_at": _iso(user.phone_verified_at),
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "roles": sorted(user.groups.values_list("name", flat=True)),
        },
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in visible_to(EmailAddress.objects.all(), user)
        ],
        "two_factor": {
            "authenticator_apps": [
                {"name": d.name, "confirmed": d.confirmed} for d in TOTPDevice.objects.visible_to(user)
            ],
            "phones": [{"number": d.number, "confirmed": d.confirmed} for d in SMSDevice.objects.visible_to(user)],
            "recovery_codes_remaining": sum(d.remaining for d in RecoveryCodeDevice.objects.visible_to(user)),
        },
        "sessions": [
            {
                "ip": s.ip,
                "user_agent": s.user_agent,
                "created_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
            }
            for s in visible_to(UserSession.objects.all(), user)
        ],
        "api_keys": [
            {
                "name": k.name,
                "prefix": k.prefix,
                "scopes": k.scopes,
                "allowed_ips": k.allowed_ips,
                "created_at": _iso(k.created_at),
                "expires_at": _iso(k.expires_at),
                "last_used_at": _iso(k.last_used_at),
                "last_used_ip": k.last_used_ip,
                "revoked_at": _iso(k.revoked_at),
            }
            for k in ApiKey.objects.visible_to(user)
        ],
        "notification_preferences": [
            {"event_type": p.event_type, "channel": p.channel, "enabled": p.enabled}
            for p in NotificationPreference.objects.visible_to(user)
        ],
        "audit_log": [
            {
                "at": _iso(row.at),
                "action": row.action,
                "outcome": row.outcome,
                "ip": row.ip,  # a staff member's address and browser are theirs: activity_row hides them
                "user_agent": row.user_agent,
                "by": row.by,
                "details": row.details,
            }
            for row in activity_rows(audit_events_for(user=user))
        ],
    }
    for _receiver, part in data_export_parts.send(sender=None, user=user):
        export.update(cast(dict[str, Any], part))  # each receiver returns {"section": [...]}
    audit_record("account.data_exported", actor=actor, user=user)
    return export


@protected_action("account.delete")
def account_delete(*, actor: Actor, user: User, password: str = "", otp_code: str = "", challenge_id: str = "") -> None:
    """Delete the account: revoke every token, key and session and anonymise the row, which
    the audit log keeps.

    The owner proves it with the password (and a second factor when 2FA is on); staff need the
    permission to delete users (the admin's action), and no one deletes their own account as staff.
    A protected action (`account.delete`): it cancels orders and revokes exchange connections and API
    keys, so the actor's IP allowlist is checked first, as for those actions one by one.
    """
    if actor.acts_for(user):
        if not user.check_password(password or ""):
            audit_record("account.delete_refused", actor=actor, user=user, outcome="failure")
            raise InvalidCredentials("The password is not right.", field="password")
        if two_factor_enabled(user):
            second_factor_verify(actor=actor, user=user, code=otp_code, challenge_id=challenge_id, purpose="step_up")
    elif not (
        actor.via in ("command", "system") or (actor.user is not None and actor.user.has_perm("accounts.delete_user"))
    ):
        raise NotPermitted("Only the account's owner or an administrator can delete it.")
    if user.anonymised_at is not None:
        return  # deleted already: nothing left to remove, nothing new to record
    with transaction.atomic():
        audit_record("account.deleted", actor=actor, user=user)
        account_deleting.send(sender=None, actor=actor, user=user)
        api_keys_revoke_all(user=user)
        refresh_tokens_revoke_all(user=user)
        for session in visible_to(UserSession.objects.all(), user):
            session.end()
        TOTPDevice.objects.visible_to(user).delete()
        SMSDevice.objects.visible_to(user).delete()
        RecoveryCodeDevice.objects.visible_to(user).delete()
        visible_to(EmailAddress.objects.all(), user).delete()
        NotificationPreference.objects.visible_to(user).delete()
        EmailVerificationCode.objects.visible_to(user).delete()
        user.groups.clear()
        old_email = user.email
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.name = ""
        user.phone = ""
        user.phone_verified_at = None
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.anonymised_at = timezone.now()
        user.set_unusable_password()
        user.save()
        # The one rewrite the append-only audit log allows (security.models.AuditEvent).
        AuditEvent.objects.visible_to(user).anonymise_actor_email(old_email=old_email, new_email=user.email)
        # Failed sign-ins typed the address but have no user: anonymise those too.
        AuditEvent.objects.filter(user__isnull=True).anonymise_actor_email(old_email=old_email, new_email=user.email)
