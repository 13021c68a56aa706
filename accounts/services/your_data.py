"""Your data: export everything we hold about you; delete (anonymise) the account."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.db import transaction
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
from accounts.services.api_keys import api_keys_revoke_all
from accounts.services.second_factor import second_factor_verify, two_factor_enabled
from accounts.services.sessions import refresh_tokens_revoke_all
from security.audit import audit_record
from security.models import AuditEvent


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def user_data_export(*, request, user: User) -> dict:
    """Everything about the user, no secret (no hashes, seeds, codes or keys), as plain JSON."""
    export = {
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
            for a in EmailAddress.objects.filter(user=user)
        ],
        "two_factor": {
            "authenticator_apps": [
                {"name": d.name, "confirmed": d.confirmed} for d in TOTPDevice.objects.filter(user=user)
            ],
            "phones": [{"number": d.number, "confirmed": d.confirmed} for d in SMSDevice.objects.filter(user=user)],
            "recovery_codes_remaining": sum(d.remaining for d in RecoveryCodeDevice.objects.filter(user=user)),
        },
        "sessions": [
            {
                "ip": s.ip,
                "user_agent": s.user_agent,
                "created_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
            }
            for s in UserSession.objects.filter(user=user)
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
            for k in ApiKey.objects.filter(user=user)
        ],
        "notification_preferences": [
            {"event_type": p.event_type, "channel": p.channel, "enabled": p.enabled}
            for p in NotificationPreference.objects.filter(user=user)
        ],
        "audit_log": [
            {
                "at": _iso(e.created_at),
                "action": e.action,
                "outcome": e.outcome,
                # A staff member's address and browser are theirs, not the user's.
                "ip": None if e.details.get("by_staff") else e.ip,
                "user_agent": "" if e.details.get("by_staff") else e.user_agent,
                "by": "staff" if e.details.get("by_staff") else "you",
                "details": {name: value for name, value in e.details.items() if name != "by_staff"},
            }
            for e in AuditEvent.objects.filter(user=user)
        ],
    }
    audit_record("account.data_exported", request=request, user=user)
    return export


def account_delete(*, request, user: User, password: str, otp_code: str = "", challenge_id: str = "") -> None:
    """Delete the account: checks the password (and a second factor when 2FA is on), then
    revokes every token, key and session and anonymises the row, which the audit log keeps."""
    if not user.check_password(password or ""):
        audit_record("account.delete_refused", request=request, user=user, outcome="failure")
        raise InvalidCredentials("The password is not right.", field="password")
    if two_factor_enabled(user):
        second_factor_verify(request=request, user=user, code=otp_code, challenge_id=challenge_id, purpose="step_up")
    with transaction.atomic():
        audit_record("account.deleted", request=request, user=user)
        api_keys_revoke_all(user=user)
        refresh_tokens_revoke_all(user=user)
        for session in UserSession.objects.filter(user=user):
            session.end()
        TOTPDevice.objects.filter(user=user).delete()
        SMSDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        EmailAddress.objects.filter(user=user).delete()
        NotificationPreference.objects.filter(user=user).delete()
        EmailVerificationCode.objects.filter(user=user).delete()
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
        AuditEvent.objects.filter(user=user).update(actor_email=user.email)
        # Failed sign-ins typed the address but have no user: anonymise those too.
        AuditEvent.objects.filter(user__isnull=True, actor_email=old_email).update(actor_email=user.email)
