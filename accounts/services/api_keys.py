"""Personal API keys: created after a step-up, shown once, checked on every API request."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.codes import token_digest
from accounts.models import ApiKey, User
from security.audit import audit_record

KEY_PREFIX = "cvk"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write "last used" at most once a minute per key


def _split(raw_key: str) -> tuple[str, str] | None:
    parts = (raw_key or "").strip().split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


@transaction.atomic
def api_key_create(
    *,
    request,
    user: User,
    name: str,
    scopes: list[str],
    allowed_ips: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Returns the key row and the full key, which is never retrievable again."""
    prefix = secrets.token_hex(4)
    raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        user=user,
        name=name.strip(),
        prefix=prefix,
        key_digest=token_digest(raw_key),
        scopes=sorted(set(scopes)),
        allowed_ips=list(allowed_ips or []),
        expires_at=expires_at,
    )
    key.full_clean()
    key.save()
    audit_record("api_key.created", request=request, user=user, key_name=key.name, key_prefix=prefix, scopes=key.scopes)
    return key, raw_key


def api_key_revoke(*, request, user: User, key_id: int) -> ApiKey:
    key = ApiKey.objects.visible_to(user).get(pk=key_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record("api_key.revoked", request=request, user=user, key_name=key.name, key_prefix=key.prefix)
    return key


def api_keys_revoke_all(*, user: User) -> int:
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


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
