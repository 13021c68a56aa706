"""Roles as Django groups, so the admin and the API enforce them through permissions.

- trader: the default (a user in neither other group is a trader); no admin access.
- support: staff, may view accounts, sessions, lockouts and the audit log, change nothing.
- admin: staff with every permission.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.models import User

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


@transaction.atomic
def role_assign(*, user: User, role: str, request=None) -> User:
    from security.audit import audit_record

    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if not Group.objects.filter(name=role).exists():
        roles_ensure()
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get(name=role))
    user.is_staff = role in (SUPPORT, ADMIN)
    if role != ADMIN:
        user.is_superuser = False
    user.save(update_fields=["is_staff", "is_superuser"])
    audit_record("account.role_assigned", request=request, user=user, role=role)
    return user
