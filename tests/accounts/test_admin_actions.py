"""Staff change accounts only through audited actions that call the services: a role, a
deletion (anonymising), never by editing the row or deleting it outright."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from security.models import AuditEvent

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/accounts/user/"


def act(browser: Client, action: str, *users: User, **extra: str):
    chosen = {"action": action, "_selected_action": [user.pk for user in users], **extra}
    return browser.post(CHANGELIST, chosen, follow=True)


def test_the_user_page_edits_nothing_directly(admin_browser, owner):
    page = admin_browser.get(f"{CHANGELIST}{owner.pk}/change/")
    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content and b'name="email"' not in page.content
    assert b'name="groups"' not in page.content and b'name="is_staff"' not in page.content
    admin_browser.post(f"{CHANGELIST}{owner.pk}/change/", {"email": "evil@example.com", "is_superuser": "on"})
    owner.refresh_from_db()
    assert owner.email == "owner@example.com" and not owner.is_superuser and not owner.is_staff


def test_a_role_is_given_by_an_audited_action(admin_browser, owner):
    answer = act(admin_browser, "make_support", owner)
    assert b"1 user(s) are now support" in answer.content
    owner.refresh_from_db()
    assert owner.is_staff and [group.name for group in owner.groups.all()] == ["support"]
    record = AuditEvent.objects.get(action="account.role_assigned", user=owner)
    assert record.actor_email == "ada@example.com" and record.via == "admin" and record.details["by_staff"]


def test_deleting_an_account_asks_first_naming_it(admin_browser, owner):
    answer = act(admin_browser, "delete_accounts", owner)
    assert b"Delete these accounts?" in answer.content and owner.email.encode() in answer.content
    owner.refresh_from_db()
    assert owner.is_active and owner.anonymised_at is None, "nothing happens until the admin confirms"


def test_deleting_an_account_anonymises_it_and_is_audited(admin_browser, owner):
    answer = act(admin_browser, "delete_accounts", owner, confirmed="yes")
    assert b"Deleted (anonymised) 1 account(s)" in answer.content
    owner.refresh_from_db()
    assert owner.email == f"deleted-{owner.pk}@deleted.invalid" and not owner.is_active
    assert owner.anonymised_at is not None and not owner.has_usable_password()
    record = AuditEvent.objects.get(action="account.deleted", user=owner)
    assert record.actor_email == "ada@example.com" and record.via == "admin"


def test_accounts_are_never_hard_deleted_from_the_admin(admin_browser, owner):
    assert "delete_selected" not in admin_browser.get(CHANGELIST).content.decode()
    assert admin_browser.get(f"{CHANGELIST}{owner.pk}/delete/").status_code == 403
    admin_browser.post(f"{CHANGELIST}{owner.pk}/delete/", {"post": "yes"})
    assert User.objects.filter(pk=owner.pk).exists()


def test_staff_never_choose_a_users_password(admin_browser, owner):
    assert admin_browser.get(f"{CHANGELIST}{owner.pk}/password/").status_code == 403


def test_an_admin_cannot_change_their_own_role_from_the_list(admin_browser):
    ada = User.objects.get(email="ada@example.com")
    answer = act(admin_browser, "make_trader", ada)
    assert b"Another admin changes your own role." in answer.content
    ada.refresh_from_db()
    assert ada.is_staff and [group.name for group in ada.groups.all()] == ["admin"]


def test_the_user_page_offers_no_save_button(admin_browser, owner):
    page = admin_browser.get(f"{CHANGELIST}{owner.pk}/change/").content
    assert b'name="_save"' not in page and b'name="_continue"' not in page
