"""Which passwords the sign-up page accepts: long passphrases yes, breached or common ones no.

The breached-password check asks a loopback Have I Been Pwned; only a 5-character hash
prefix may leave the server, and if the service is down sign-up still works.
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client, override_settings

from accounts.models import User
from tests.fakes.http import closed_port_url
from tests.fakes.pwned import FakePwnedPasswords, sha1_hex

BREACHED = "Summer-Holidays-2019!"
UNBREACHED = "plinth-ochre-vellum-42"


def sign_up(client, password: str, *, email: str = "newcomer@example.com"):
    return client.post(
        "/accounts/signup/",
        {"name": "Nina Newcomer", "email": email, "password1": password, "password2": password},
    )


def signed_up(email: str = "newcomer@example.com") -> bool:
    return User.objects.filter(email=email).exists()


@pytest.fixture
def pwned():
    with FakePwnedPasswords({BREACHED: 1204}) as fake, override_settings(PWNED_PASSWORDS_URL=fake.range_url):
        yield fake


@pytest.mark.django_db
def test_a_password_seen_in_a_breach_is_refused_with_a_reason(client, pwned):
    answer = sign_up(client, BREACHED)
    assert answer.status_code == 200, "the form is shown again"
    assert "This password has appeared in a data breach and is not safe to use." in answer.text
    assert not signed_up()


@pytest.mark.django_db
def test_a_password_never_seen_in_a_breach_signs_up(client, pwned):
    assert sign_up(client, UNBREACHED).status_code == 302
    assert signed_up()
    assert pwned.paths, "the service was asked"


@pytest.mark.django_db
def test_only_a_five_character_hash_prefix_leaves_the_server(client, pwned):
    sign_up(client, UNBREACHED)
    sign_up(Client(), BREACHED, email="second@example.com")

    assert set(pwned.paths) == {f"/range/{sha1_hex(UNBREACHED)[:5]}", f"/range/{sha1_hex(BREACHED)[:5]}"}
    seen = repr(pwned.requests)
    for password in (UNBREACHED, BREACHED):
        assert password not in seen and sha1_hex(password)[5:] not in seen


@pytest.mark.django_db
def test_when_the_breach_service_is_down_sign_up_still_works_and_the_skip_is_logged(client, caplog):
    with override_settings(PWNED_PASSWORDS_URL=closed_port_url() + "/range/"), caplog.at_level(logging.WARNING):
        answer = sign_up(client, UNBREACHED)
    assert answer.status_code == 302
    assert signed_up()
    assert "Breached-password check skipped" in caplog.text, "operators can see the check did not run"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "accepted", "reason"),
    [
        pytest.param(("granite-lantern-" * 8)[:128], True, "", id="128 characters"),
        pytest.param(("granite-lantern-" * 9)[:129], False, "at most 128 characters", id="129 characters"),
        pytest.param("password123", False, "This password is too common.", id="a common password"),
        pytest.param("lantern", False, "at least 10 characters", id="too short"),
    ],
)
def test_password_rules_on_the_sign_up_page(client, password, accepted, reason):
    answer = sign_up(client, password)
    assert signed_up() is accepted
    if accepted:
        assert answer.status_code == 302
    else:
        assert answer.status_code == 200 and reason in answer.text
