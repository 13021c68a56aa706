"""Accounts as support sees them through the API: state, never a secret, and only for staff
holding the view permission."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services.roles import ADMIN, role_assign
from tests.accounts.helpers import lock_out
from tests.factories import TEST_ACTOR, UserFactory
from tests.fakes.authenticator import turn_on_totp, verify_email_of
from tests.helpers import admin_signed_in


@pytest.fixture
def support_client(support) -> APIClient:
    """Signed in with the second factor staff endpoints demand (as the admin)."""
    return admin_signed_in(APIClient(), support)


@pytest.mark.django_db
def test_traders_cannot_list_accounts(owner_api_client):
    answer = owner_api_client.get("/api/v1/auth/users/")
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_support_sees_each_accounts_verification_two_factor_lockout_and_role(support_client, secured_owner, outsider):
    lock_out(outsider)
    answer = support_client.get("/api/v1/auth/users/")
    assert answer.status_code == 200
    rows = {row["email"]: row for row in answer.json()["results"]}
    assert rows[secured_owner.email] | {"id": 0, "date_joined": "", "last_login": None} == {
        "id": 0,
        "email": "owner@example.com",
        "name": "Olive Owner",
        "is_active": True,
        "is_staff": False,
        "date_joined": "",
        "last_login": None,
        "email_verified": True,
        "two_factor_enabled": True,
        "locked": False,
        "roles": [],
    }
    assert rows[outsider.email]["locked"] is True
    assert (rows[outsider.email]["email_verified"], rows[outsider.email]["two_factor_enabled"]) == (False, False)
    assert rows["sam@example.com"]["roles"] == ["support"]
    assert secured_owner.password not in answer.content.decode()


@pytest.mark.django_db
def test_support_reads_one_account_and_finds_accounts_by_email(support_client, owner, outsider):
    assert support_client.get(f"/api/v1/auth/users/{owner.pk}/").json()["email"] == owner.email
    found = support_client.get("/api/v1/auth/users/", {"search": "outsider"}).json()["results"]
    assert [row["email"] for row in found] == [outsider.email]
    assert support_client.get("/api/v1/auth/users/999999/").status_code == 404


@pytest.mark.django_db
def test_support_changes_nothing_through_the_api(support_client, owner):
    assert support_client.post("/api/v1/auth/users/", {"email": "x@example.com"}, format="json").status_code == 403
    assert support_client.patch(f"/api/v1/auth/users/{owner.pk}/", {"name": "X"}, format="json").status_code == 403
    assert support_client.delete(f"/api/v1/auth/users/{owner.pk}/").status_code == 403


@pytest.mark.django_db
def test_a_staff_member_without_the_view_permission_is_refused(owner_api_client, owner):
    owner.is_staff = True
    owner.save()
    assert owner_api_client.get("/api/v1/auth/users/").status_code == 403


@pytest.mark.django_db
def test_admins_read_accounts_too(api_client, owner):
    admin_signed_in(api_client, role_assign(actor=TEST_ACTOR, user=UserFactory(email="ada@example.com"), role=ADMIN))
    assert api_client.get(f"/api/v1/auth/users/{owner.pk}/").status_code == 200


@pytest.mark.django_db
def test_listing_accounts_costs_the_same_queries_for_few_or_many(support_client, owner):
    support_client.get("/api/v1/auth/users/")  # the session's first request also records the session
    with CaptureQueriesContext(connection) as few:
        support_client.get("/api/v1/auth/users/")
    for n in range(6):
        user = UserFactory()
        verify_email_of(user)
        if n % 2:
            turn_on_totp(user)
    with CaptureQueriesContext(connection) as many:
        assert len(support_client.get("/api/v1/auth/users/").json()["results"]) == 8
    assert len(many) == len(few)
