"""The audit log: who did what, when, from where, for every sensitive action."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone

from cryptovault.access import OwnedQuerySet

# What `account_delete` makes of an address: the one rewrite the audit log allows (see AuditEvent).
ANONYMISED_EMAIL = re.compile(r"deleted-\d+@deleted\.invalid")


class AuditLogIsAppendOnly(Exception):
    """An audit record was about to be edited or deleted: a programming error, never a user's."""


def _refuse(what: str) -> NoReturn:
    raise AuditLogIsAppendOnly(f"The audit log is append-only: {what} is refused.")


class AuditEventQuerySet(OwnedQuerySet):
    """A user sees the records about their own account; staff see everyone's in the admin.

    `update()` and `delete()` refuse, as the model's `save()` of a stored row and `delete()` do;
    the database refuses too (a trigger on PostgreSQL, migration 0004). The one change allowed is
    `anonymise_actor_email`, for a deleted account.
    """

    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("updating records")

    def delete(self) -> NoReturn:
        _refuse("deleting records")

    def anonymise_actor_email(self, *, old_email: str, new_email: str) -> int:
        """When an account is deleted, its address leaves the records that named it (typed at a failed
        sign-in, or the owner's own); what happened, when and from where stays."""
        if not ANONYMISED_EMAIL.fullmatch(new_email):
            raise AuditLogIsAppendOnly(
                f"An audit record's address may only become an anonymised one, not {new_email!r}."
            )
        return super(AuditEventQuerySet, self.filter(actor_email=old_email)).update(actor_email=new_email)


class AuditEvent(models.Model):
    """One sensitive action. Written once, never edited or deleted; kept when the user is anonymised.

    Append-only at every level: `save()` of a stored row and `delete()` raise `AuditLogIsAppendOnly`,
    so do the queryset's `update()` and `delete()`, the admin offers no change or delete, and on
    PostgreSQL a trigger refuses UPDATE and DELETE even in raw SQL. Two changes are let through, both
    for a deleted account and both leaving the action, time, address and details as they were: the
    user link set to NULL (a user row deleted outright, `on_delete=SET_NULL`) and `actor_email`
    rewritten to the anonymised `deleted-<id>@deleted.invalid` (`account_delete`). TRUNCATE (a live
    restore from a backup, which puts the trail written since back) is not a row change.
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        help_text="Whose account the action concerns.",
    )
    actor_email = models.CharField(
        max_length=254, blank=True, help_text="Who acted (the user, or staff), as typed or as known then."
    )
    action = models.CharField(max_length=64, db_index=True)
    via = models.CharField(
        max_length=16,
        blank=True,
        db_index=True,
        help_text="Where it came from: page, api, admin, command, task, system.",
    )
    outcome = models.CharField(max_length=16, default="success", db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_email or '-'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("editing a record")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("deleting a record")


class IpAllowlistEntry(models.Model):
    """An address or range a user's protected actions may come from.

    An empty list allows every address; once it has an entry, orders, withdrawals, deposits, API
    keys and connection changes from anywhere else are refused (`security.ip_allowlist`).
    `network` is stored normalised (`203.0.113.0/24`, `2001:db8::/32`; one address is a /32 or /128).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ip_allowlist")
    network = models.CharField(max_length=64, help_text="An IPv4/IPv6 address or CIDR range, normalised.")
    label = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "IP allowlist entry"
        verbose_name_plural = "IP allowlist entries"
        constraints = [models.UniqueConstraint(fields=["user", "network"], name="ip_allowlist_unique_network")]

    def __str__(self) -> str:
        return self.network


class WithdrawalAddressQuerySet(OwnedQuerySet):
    def active(self) -> WithdrawalAddressQuerySet:
        return self.filter(removed_at__isnull=True)


class WithdrawalAddress(models.Model):
    """A whitelisted destination for withdrawals of one asset on one network.

    Usable from `usable_from` (added + WITHDRAWAL_ADDRESS_COOLDOWN_HOURS), so someone who steals a
    session cannot add an address and empty the account at once. Removing one keeps the row
    (`removed_at`) so past withdrawals still name where they went.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="withdrawal_addresses")
    asset = models.CharField(max_length=16)
    network = models.CharField(max_length=32, help_text="The chain, as `security.addresses.networks` names it.")
    address = models.CharField(max_length=128)
    memo = models.CharField(max_length=64, blank=True, help_text="Destination tag or memo, where the network has one.")
    label = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    usable_from = models.DateTimeField(help_text="The end of the cooldown: withdrawals may use it from then.")
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = WithdrawalAddressQuerySet.as_manager()

    class Meta:
        ordering = ["asset", "network", "label", "id"]
        verbose_name_plural = "withdrawal addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "asset", "network", "address", "memo"],
                condition=models.Q(removed_at__isnull=True),
                name="withdrawal_address_unique_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.asset} on {self.network})"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    def usable_at(self, at: datetime) -> bool:
        """Whether a withdrawal made at `at` may go here: not removed, and past its cooldown."""
        return self.removed_at is None and self.usable_from <= at

    @property
    def short_address(self) -> str:
        """`bc1qar0s…5mdq`: enough to recognise, short enough for a table cell."""
        return self.address if len(self.address) <= 16 else f"{self.address[:8]}…{self.address[-6:]}"
