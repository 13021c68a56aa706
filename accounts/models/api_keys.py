from __future__ import annotations

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class ApiKeyScope(models.TextChoices):
    READ = "read", "Read"
    TRADE = "trade", "Trade"
    WITHDRAW = "withdraw", "Withdraw"


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one scope.")
    unknown = sorted(set(value) - set(ApiKeyScope.values))
    if unknown:
        raise ValidationError(f"Unknown scope: {', '.join(unknown)}.")


def validate_ip_allowlist(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Give a list of addresses or networks.")
    for entry in value:
        try:
            ipaddress.ip_network(str(entry), strict=False)
        except ValueError as exc:
            raise ValidationError(f"{entry!r} is not an IP address or network.") from exc


class ApiKeyQuerySet(models.QuerySet):
    def visible_to(self, user) -> ApiKeyQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def usable(self) -> ApiKeyQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """A personal API key for an integration: `cvk_<prefix>_<secret>`, shown once.

    The prefix finds the row; only the SHA-256 of the whole key is stored, so a database
    leak does not hand out working keys.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list, validators=[validate_scopes])
    allowed_ips = models.JSONField(default=list, blank=True, validators=[validate_ip_allowlist])
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (cvk_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    MAX_LIFETIME_DAYS = 5 * 365

    def clean(self) -> None:
        super().clean()
        if self.expires_at is not None:
            now = timezone.now()
            if self.expires_at <= now:
                raise ValidationError({"expires_at": "The expiry must be in the future."})
            if self.expires_at > now + timedelta(days=self.MAX_LIFETIME_DAYS):
                raise ValidationError(
                    {"expires_at": "A key can live at most five years; leave it empty for no expiry."}
                )

    def allows_ip(self, ip: str) -> bool:
        if not self.allowed_ips:
            return True
        address = ipaddress.ip_address(ip)
        return any(address in ipaddress.ip_network(str(entry), strict=False) for entry in self.allowed_ips)
