"""Roles from the command line: `roles_sync` sets up trader, support and admin; `--assign`
gives someone a role, and the admin and the API follow it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client

from security.models import AuditEvent
from tests.helpers import admin_signed_in


def roles_sync(*args) -> str:
    out = StringIO()
    call_command("roles_sync", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_roles_sync_prints_each_role_with_its_permission_count_and_can_run_again():
    first = roles_sync()
    assert "trader: 0 permissions" in first
    support_count = Group.objects.get(name="support").permissions.count()
    assert f"support: {support_count} permissions" in first and support_count >= 7
    assert "admin: " in first and "Roles are up to date." in first
    assert roles_sync() == first, "running it again changes nothing"
    assert set(Group.objects.values_list("name", flat=True)) >= {"trader", "support", "admin"}


@pytest.mark.django_db
def test_support_may_only_view(db):
    roles_sync()
    codenames = set(Group.objects.get(name="support").permissions.values_list("codename", flat=True))
    assert "view_user" in codenames and "view_auditevent" in codenames
    assert all(codename.startswith("view_") for codename in codenames)
    assert "view_totpdevice" not in codenames, "no second-factor rows, not even their names"


@pytest.mark.django_db
def test_assigning_support_makes_a_view_only_staff_member_who_opens_the_admin(owner):
    out = roles_sync("--assign", "Owner@Example.com", "support")
    assert "owner@example.com is now support (staff, may use the admin)." in out
    owner.refresh_from_db()
    assert owner.is_staff and not owner.is_superuser
    assert list(owner.groups.values_list("name", flat=True)) == ["support"]
    assert AuditEvent.objects.filter(action="account.role_assigned", user=owner).exists()
    browser = Client()
    browser.force_login(owner)
    sent = browser.get("/admin/accounts/user/")  # staff need a second factor for the admin
    assert sent.status_code == 302 and sent["Location"].startswith("/accounts/security/")
    assert admin_signed_in(Client(), owner).get("/admin/accounts/user/").status_code == 200


@pytest.mark.django_db
def test_assigning_trader_takes_staff_and_the_other_role_away(owner):
    roles_sync("--assign", owner.email, "admin")
    roles_sync("--assign", owner.email, "trader")
    owner.refresh_from_db()
    assert not owner.is_staff and not owner.is_superuser
    assert list(owner.groups.values_list("name", flat=True)) == ["trader"]


@pytest.mark.django_db
def test_an_unknown_email_or_role_is_a_clear_error_and_changes_nothing(owner):
    with pytest.raises(CommandError, match=r"No user with the email .nobody@example\.com."):
        roles_sync("--assign", "nobody@example.com", "support")
    with pytest.raises(CommandError, match="Unknown role 'superhero': choose one of trader, support, admin"):
        roles_sync("--assign", owner.email, "superhero")
    owner.refresh_from_db()
    assert not owner.is_staff and not owner.groups.exists()
