"""Personal API keys: created after a step-up, shown once, checked on every API request."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.codes import token_digest
from accounts.gates import require_sensitive_action
from accounts.models import ApiKey, User
from cryptovault.actor import Actor
from security.audit import audit_record
from security.ip_allowlist import protected_action

KEY_PREFIX = "cvk"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write "last used" at most once a minute per key


def _split(raw_key: str) -> tuple[str, str] | None:
    parts = (raw_key or "").strip().split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


@protected_action("api_key.create")
def api_key_create(
    *,
    actor: Actor,
    user: User,
    name: str,
    scopes: list[str],
    allowed_ips: list[str] | None = None,
    expires_at: datetime | date | None = None,
    otp_code: str = "",
    challenge_id: str = "",
) -> tuple[ApiKey, str]:
    """Returns the key row and the full key, which is never retrievable again.

    What a key may hold (known scopes, normalised networks, an expiry within five years) is the
    model's rule (`ApiKey.clean`), checked first so bad input is named field by field; then the
    sensitive-action gate (a verified email, 2FA on, a fresh proof or `otp_code`). An expiry given
    as a day means the end of that day in the user's time zone, from the page and the API alike.
    """
    if isinstance(expires_at, date) and not isinstance(expires_at, datetime):
        expires_at = _end_of_day(expires_at, user)
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        user=user,
        name=name,
        prefix=prefix,
        key_digest=token_digest(raw_key),
        scopes=list(scopes),
        allowed_ips=list(allowed_ips or []),
        expires_at=expires_at,
    )
    key.full_clean()
    require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)  # outside: a refusal is kept
    with transaction.atomic():
        key.save()
        audit_record("api_key.created", actor=actor, user=user, key_name=key.name, key_prefix=prefix, scopes=key.scopes)
        from accounts.notify import notify

        notify(user=user, event="security.api_key_created", context={"key_name": key.name})
    return key, raw_key


@transaction.atomic
def _end_of_day(day: date, user: User) -> datetime:
    return datetime.combine(day, time.max, tzinfo=zoneinfo.ZoneInfo(str(user.timezone or "UTC")))


@protected_action("api_key.revoke")  # outermost: the refusal's records outlive the transaction
@transaction.atomic
def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    """Revoke `key` (found through its owner's or staff's gate by the caller); audited once."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record("api_key.revoked", actor=actor, user=key.user, key_name=key.name, key_prefix=key.prefix)
    return key


def api_keys_revoke_all(*, user: User) -> int:
    return ApiKey.objects.visible_to(user).filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_authenticate(*, raw_key: str, ip: str) -> ApiKey | None:
    """The usable key matching `raw_key`, or None. Records when and from where it was used."""
    parts = _split(raw_key)
    if parts is None:
        return None
    key = ApiKey.objects.usable().select_related("user").filter(prefix=parts[0]).first()
    if key is None or not secrets.compare_digest(key.key_digest, token_digest(raw_key.strip())):
        return None
    if not key.user.is_active:
        return None
    if not key.allows_ip(ip):
        return key  # the caller refuses it, naming the address; not recorded as a use
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION or key.last_used_ip != ip:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip)
        key.last_used_at, key.last_used_ip = now, ip
    return key
