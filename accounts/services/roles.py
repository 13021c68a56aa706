"""Roles as Django groups, so the admin and the API enforce them through permissions.

- trader: the default (a user in neither other group is a trader); no admin access.
- support: staff, may view accounts, sessions, lockouts, the audit log, exchange connections (never
  their keys), price alerts and trading (accounts, balances, ledger, orders, fills), change nothing.
- admin: staff with every permission.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.models import User
from cryptovault.actor import Actor
from cryptovault.errors import DomainError

TRADER, SUPPORT, ADMIN = "trader", "support", "admin"
ROLES = (TRADER, SUPPORT, ADMIN)

# What support may view. Models holding secrets (TOTP seeds, recovery and SMS codes, API key
# digests, JWTs) are left out entirely.
SUPPORT_VIEWABLE = [
    ("accounts", "user"),
    ("accounts", "apikey"),
    ("usersessions", "usersession"),
    ("axes", "accessattempt"),
    ("axes", "accessfailurelog"),
    ("axes", "accesslog"),
    ("security", "auditevent"),
    # Connections show owner, exchange, health and the key's last four characters; the sealed
    # credentials are on no admin page, so support may read them to answer "why is my exchange red".
    ("exchanges", "exchangeconnection"),
    ("trading", "pricealert"),
    # Trading: accounts, balances, the ledger, orders, fills and equity snapshots hold amounts and
    # ids, never keys, so support may read them to answer "where did my order go"; only the
    # admin role cancels orders or resets paper accounts (the change permission).
    ("trading", "tradingaccount"),
    ("trading", "balance"),
    ("trading", "ledgerentry"),
    ("trading", "order"),
    ("trading", "fill"),
    ("trading", "equitysnapshot"),
    # Security controls and what users were told: addresses, networks and amounts, never a secret,
    # so support can answer "why was my withdrawal refused" and "did the alert go out".
    ("trading", "withdrawal"),
    ("security", "withdrawaladdress"),
    ("security", "ipallowlistentry"),
    ("accounts", "notification"),
    ("accounts", "notificationdelivery"),
    ("analytics", "backtest"),
]


@transaction.atomic
def roles_ensure() -> dict[str, int]:
    """Create or refresh the three groups; returns each group's permission count."""
    trader, _ = Group.objects.get_or_create(name=TRADER)
    trader.permissions.clear()
    support, _ = Group.objects.get_or_create(name=SUPPORT)
    support.permissions.set(
        Permission.objects.filter(
            codename__in=[f"view_{model}" for _, model in SUPPORT_VIEWABLE],
            content_type__app_label__in={app for app, _ in SUPPORT_VIEWABLE},
        )
    )
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.set(Permission.objects.all())
    return {group.name: group.permissions.count() for group in (trader, support, admin)}


class UnknownRole(DomainError):
    code = "unknown_role"


@transaction.atomic
def role_assign(*, actor: Actor, user: User, role: str) -> User:
    """Make `user` a trader, support or admin: groups, staff flag and superuser follow the role."""
    from security.audit import audit_record

    if role not in ROLES:
        raise UnknownRole(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", field="role")
    if user.anonymised_at is not None:
        raise DomainError("A deleted account keeps no role.", field="role")
    if not Group.objects.filter(name=role).exists():
        roles_ensure()
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get(name=role))
    user.is_staff = role in (SUPPORT, ADMIN)
    if role != ADMIN:
        user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    audit_record("account.role_assigned", actor=actor, user=user, role=role)
    return user
