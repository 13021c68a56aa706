from __future__ import annotations

import contextlib
import ipaddress
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cryptovault.access import OwnedQuerySet


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


def _network(entry: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """What one allowlist entry means, or a ValidationError naming it."""
    text = str(entry).strip()
    if "%" in text:
        raise ValidationError(f"{text!r} is a scoped address, which no client address ever carries.")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise ValidationError(f"{entry!r} is not an IP address or network.") from exc
    if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped and network.prefixlen >= 96:
        network = ipaddress.ip_network(f"{network.network_address.ipv4_mapped}/{network.prefixlen - 96}")
    if network.prefixlen == 0:
        raise ValidationError(f"{text!r} allows every address: leave the list empty for that.")
    return network


def validate_ip_allowlist(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Give a list of addresses or networks.")
    distinct = {_network(entry) for entry in value}
    if len(distinct) > ApiKey.MAX_ALLOWED_IPS:
        raise ValidationError(f"At most {ApiKey.MAX_ALLOWED_IPS} addresses or networks.")


def normalise_ip_allowlist(value: list) -> list[str]:
    """Each entry as what it means: "10.0.0.5/24" is the network 10.0.0.0/24, "203.0.113.7/32"
    the address 203.0.113.7, "::ffff:203.0.113.7" too, "2001:DB8::1" is 2001:db8::1; duplicates dropped."""
    entries = []
    for entry in value:
        network = _network(entry)
        single = network.prefixlen == network.max_prefixlen
        entries.append(str(network.network_address) if single else str(network))
    return list(dict.fromkeys(entries))


class ApiKeyQuerySet(OwnedQuerySet):
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
    MAX_ALLOWED_IPS = 50

    def clean(self) -> None:
        """The one rule for what a key may hold, whichever interface created it."""
        super().clean()
        self.name = (self.name or "").strip()
        if isinstance(self.scopes, list):
            self.scopes = sorted(set(self.scopes))
        with contextlib.suppress(TypeError, ValidationError):  # the field's validator names the wrong entry
            self.allowed_ips = normalise_ip_allowlist(self.allowed_ips)
        if self.expires_at is not None:
            now = timezone.now()
            try:
                in_past = self.expires_at <= now
                too_late = self.expires_at > now + timedelta(days=self.MAX_LIFETIME_DAYS)
            except OverflowError:  # the last day of year 9999 west of UTC is past what datetime holds
                in_past, too_late = False, True
            if in_past:
                raise ValidationError({"expires_at": "The expiry must be in the future."})
            if too_late:
                raise ValidationError(
                    {"expires_at": "A key can live at most five years; leave it empty for no expiry."}
                )

    def allows_ip(self, ip: str) -> bool:
        if not self.allowed_ips:
            return True
        address = ipaddress.ip_address(ip)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:  # a dual-stack listener's view
            address = address.ipv4_mapped
        return any(address in ipaddress.ip_network(str(entry), strict=False) for entry in self.allowed_ips)
