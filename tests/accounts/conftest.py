"""Fixtures for the account tests beyond the suite-wide users and clients (tests/conftest.py)."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.services.roles import SUPPORT, role_assign
from tests.factories import TEST_ACTOR, UserFactory


@pytest.fixture
def support(db) -> User:
    """A staff member with the support role: reads accounts, changes nothing."""
    return role_assign(actor=TEST_ACTOR, user=UserFactory(email="sam@example.com", name="Sam Support"), role=SUPPORT)
