"""Fixtures for the account tests beyond the suite-wide users and clients (tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.services.roles import ADMIN, SUPPORT, role_assign
from tests.factories import TEST_ACTOR, UserFactory


@pytest.fixture
def support(db) -> User:
    """A staff member with the support role: reads accounts, changes nothing."""
    return role_assign(actor=TEST_ACTOR, user=UserFactory(email="sam@example.com", name="Sam Support"), role=SUPPORT)


@pytest.fixture
def admin_browser(db) -> Client:
    """An admin (every permission) signed in to the admin site."""
    browser = Client()
    browser.force_login(
        role_assign(actor=TEST_ACTOR, user=UserFactory(email="ada@example.com", name="Ada Admin"), role=ADMIN)
    )
    return browser
