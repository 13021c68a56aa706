"""Security alerts from accounts (issue 12): a new sign-in place or browser, a lockout, 2FA turned
off, a new password, a new API key. Each lands in the notification centre with its registered
priority (critical ones also go by email: tests/accounts/test_notifications.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models.notifications import Notification
from accounts.notification_events import NOTIFICATION_EVENTS
from accounts.services.passwords import password_change, password_reset
from accounts.services.second_factor import two_factor_disable
from tests.accounts.helpers import ATTACKER, lock_out
from tests.factories import TEST_ACTOR
from tests.helpers import PASSWORD, sign_in

HOME = "192.0.2.10"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
FIREFOX_NEXT = "Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Mobile Safari/537.36"
)


def alerts(user, event: str) -> list[Notification]:
    return list(Notification.objects.filter(user=user, event=event))


def assert_one_alert(user, event: str) -> Notification:
    (notification,) = alerts(user, event)
    assert notification.priority == NOTIFICATION_EVENTS[event].priority
    return notification


def page_sign_in(user, *, ip: str = HOME, agent: str = FIREFOX) -> None:
    answer = Client().post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}, REMOTE_ADDR=ip, HTTP_USER_AGENT=agent
    )
    assert answer.status_code == 302


@pytest.mark.django_db
def test_signing_in_again_from_a_known_place_and_browser_tells_nothing(owner):
    page_sign_in(owner)  # the first sign-in has nothing to compare with
    page_sign_in(owner)
    page_sign_in(owner, agent=FIREFOX_NEXT)  # a browser update is not a new device
    assert alerts(owner, "security.new_sign_in") == []


@pytest.mark.django_db
def test_a_sign_in_from_a_new_address_is_an_alert(owner):
    page_sign_in(owner)
    page_sign_in(owner, ip="203.0.113.200")
    alert = assert_one_alert(owner, "security.new_sign_in")
    assert "203.0.113.200" in alert.body and "Firefox on Linux" in alert.body


@pytest.mark.django_db
def test_a_sign_in_from_a_new_browser_is_an_alert(owner):
    page_sign_in(owner)
    page_sign_in(owner, agent=CHROME_ANDROID)
    alert = assert_one_alert(owner, "security.new_sign_in")
    assert "Chrome on Android" in alert.title


@pytest.mark.django_db
def test_a_token_sign_in_from_a_new_address_is_an_alert(owner):
    page_sign_in(owner)
    sign_in(APIClient(REMOTE_ADDR="198.51.100.99", HTTP_USER_AGENT=FIREFOX), owner.email)
    assert "198.51.100.99" in assert_one_alert(owner, "security.new_sign_in").body


@pytest.mark.django_db
def test_a_lockout_is_an_alert_once_however_many_attempts_follow(owner):
    lock_out(owner)
    for _ in range(3):
        refused = Client().post("/accounts/login/", {"login": owner.email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
        assert refused.status_code == 429
    assert_one_alert(owner, "security.locked_out")
    assert NOTIFICATION_EVENTS["security.locked_out"].priority == "critical"
    assert settings.AXES_FAILURE_LIMIT == 5


@pytest.mark.django_db
def test_turning_two_factor_off_is_an_alert(secured_owner):
    two_factor_disable(actor=TEST_ACTOR, user=secured_owner)
    assert_one_alert(secured_owner, "security.two_factor_disabled")


@pytest.mark.django_db
def test_a_changed_password_is_an_alert(owner):
    password_change(actor=TEST_ACTOR, user=owner, new_password="another-Long-pass-2026")
    assert_one_alert(owner, "security.password_changed")


@pytest.mark.django_db
def test_a_reset_password_is_an_alert(owner):
    password_reset(actor=TEST_ACTOR, user=owner, password="another-Long-pass-2026")
    assert_one_alert(owner, "security.password_changed")


@pytest.mark.django_db
def test_a_password_changed_on_the_page_is_an_alert(owner_client, owner):
    answer = owner_client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "another-Long-pass-2026", "password2": "another-Long-pass-2026"},
    )
    assert answer.status_code == 302
    assert_one_alert(owner, "security.password_changed")


@pytest.mark.django_db
def test_a_new_api_key_is_an_alert(secured_jwt, secured_owner):
    from tests.fakes.authenticator import unused_totp_code

    answer = secured_jwt.post(
        "/api/v1/auth/api-keys/",
        {"name": "Tax export", "scopes": ["read"], "otp_code": unused_totp_code(secured_owner)},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert "Tax export" in assert_one_alert(secured_owner, "security.api_key_created").title
