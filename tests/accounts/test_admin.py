"""The admin over accounts, as staff use it: who is verified, has 2FA, is locked out; support
reads everything and changes nothing; no page ever shows a secret; traders never get in."""

from __future__ import annotations

import re

import pytest
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiKey, EmailVerificationCode, RecoveryCode, SMSChallenge, TOTPDevice, User
from accounts.services.api_keys import api_key_create
from accounts.services.roles import SUPPORT, role_assign
from accounts.services.second_factor import sms_phone_add
from accounts.services.verification import email_verification_send
from security.models import AuditEvent
from tests.accounts.helpers import ATTACKER, lock_out
from tests.factories import TEST_ACTOR, UserFactory
from tests.fakes.authenticator import turn_on_totp, unused_totp_code, verify_email_of
from tests.helpers import PASSWORD, admin_signed_in, sign_in

TYPED_BY_MISTAKE = "Almost-My-Real-Passw0rd"
ACCOUNT_APPS = {"accounts", "axes", "usersessions", "token_blacklist", "account", "security", "auth"}


@pytest.fixture
def support_browser(support) -> Client:
    browser = Client()
    admin_signed_in(browser, support)
    return browser


def emails_in_changelist(browser: Client, query: str = "") -> set[str]:
    page = browser.get(f"/admin/accounts/user/{query}")
    assert page.status_code == 200
    return {user.email for user in page.context["cl"].result_list}


# --- adding users (staff type emails in any case) -------------------------------------------------
@pytest.mark.django_db
def test_staff_adding_an_existing_email_in_another_case_get_a_form_error(client, staff_user, owner):
    admin_signed_in(client, staff_user)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "Owner@Example.COM",
            "name": "Twin",
            "usable_password": "true",
            "password1": "a-Long-pass-2026",
            "password2": "a-Long-pass-2026",
        },
    )
    assert response.status_code == 200, "the form is shown again, not a redirect and not a 500"
    assert "User with this Email address already exists." in response.text
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1
    assert Client().post("/accounts/login/", {"login": "OWNER@example.com", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_an_email_staff_type_in_capitals_is_stored_lower_case_and_signs_in(client, staff_user):
    admin_signed_in(client, staff_user)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Trader@Example.com",
            "name": "New",
            "usable_password": "true",
            "password1": "a-Long-pass-2026",
            "password2": "a-Long-pass-2026",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(name="New").email == "new.trader@example.com"
    signed_in = Client().post("/accounts/login/", {"login": "NEW.TRADER@example.com", "password": "a-Long-pass-2026"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"


# --- the user list ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_user_list_shows_and_filters_verification_two_factor_lockout_and_roles(
    admin_browser, secured_owner, outsider, support
):
    lock_out(outsider)
    page = admin_browser.get("/admin/accounts/user/")
    for header in ("Email verified", "2FA", "Locked out", "Roles"):
        assert header in page.text
    rows = {user.email: user for user in page.context["cl"].result_list}
    owner_row, outsider_row = rows[secured_owner.email], rows[outsider.email]
    assert (owner_row.has_verified_email, owner_row.has_two_factor, owner_row.is_locked_out) == (True, True, False)
    assert (outsider_row.has_verified_email, outsider_row.has_two_factor, outsider_row.is_locked_out) == (
        False,
        False,
        True,
    )
    assert "support" in page.text
    assert emails_in_changelist(admin_browser, "?verified=yes") == {secured_owner.email}
    # The admin herself uses a second factor, as the admin demands (cryptovault.admin_gate).
    assert emails_in_changelist(admin_browser, "?two_factor=yes") == {secured_owner.email, "ada@example.com"}
    assert emails_in_changelist(admin_browser, "?locked=yes") == {outsider.email}
    assert emails_in_changelist(admin_browser, "?is_staff__exact=1") == {support.email, "ada@example.com"}
    assert emails_in_changelist(admin_browser, "?q=outsider") == {outsider.email}


@pytest.mark.django_db
def test_the_user_list_costs_the_same_queries_for_a_few_users_or_many(admin_browser, owner):
    admin_browser.get("/admin/accounts/user/")
    with CaptureQueriesContext(connection) as few:
        admin_browser.get("/admin/accounts/user/")
    for n in range(8):
        user = role_assign(actor=TEST_ACTOR, user=UserFactory(), role=SUPPORT if n % 3 == 0 else "trader")
        verify_email_of(user)
        if n % 2:
            turn_on_totp(user)
    with CaptureQueriesContext(connection) as many:
        page = admin_browser.get("/admin/accounts/user/")
    assert len(page.context["cl"].result_list) == 10
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_user_page_shows_profile_and_security_state_with_a_link_to_the_sign_in_attempts(admin_browser, outsider):
    lock_out(outsider)
    page = admin_browser.get(f"/admin/accounts/user/{outsider.pk}/change/")
    assert page.status_code == 200
    assert "Locked out from" in page.text and ATTACKER in page.text
    assert "/admin/axes/accessattempt/?q=outsider%40example.com" in page.text
    assert "Time zone" in page.text or "Timezone" in page.text
    attempts = admin_browser.get("/admin/axes/accessattempt/?q=outsider%40example.com")
    assert attempts.status_code == 200 and ATTACKER in attempts.text


@pytest.mark.django_db
def test_clearing_a_lockout_lets_the_user_sign_in_again_and_is_audited(admin_browser, outsider):
    lock_out(outsider)
    assert (
        Client()
        .post("/accounts/login/", {"login": outsider.email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
        .status_code
        == 429
    )
    answer = admin_browser.post(
        "/admin/accounts/user/", {"action": "clear_lockout", "_selected_action": [outsider.pk]}, follow=True
    )
    assert "Cleared the login lockout of 1 user(s)." in answer.text
    assert not AccessAttempt.objects.filter(username=outsider.email).exists()
    signed_in = Client().post("/accounts/login/", {"login": outsider.email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER)
    assert signed_in.status_code == 302
    record = AuditEvent.objects.get(action="auth.lockout_cleared")
    assert record.actor_email == "ada@example.com" and record.details["account"] == outsider.email


# --- support: read-only ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_support_reads_the_user_list_and_pages_but_cannot_change_or_clear(support_browser, outsider):
    lock_out(outsider)
    listing = support_browser.get("/admin/accounts/user/")
    assert listing.status_code == 200 and outsider.email in listing.text
    assert "clear_lockout" not in listing.text, "support is not offered the action"
    page = support_browser.get(f"/admin/accounts/user/{outsider.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.text, "read-only: no save button"
    assert "Locked out from" in page.text
    changed = support_browser.post(
        f"/admin/accounts/user/{outsider.pk}/change/", {"email": outsider.email, "name": "X"}
    )
    assert changed.status_code == 403
    cleared = support_browser.post(
        "/admin/accounts/user/", {"action": "clear_lockout", "_selected_action": [outsider.pk]}
    )
    assert AccessAttempt.objects.filter(username=outsider.email).exists(), cleared.status_code
    assert support_browser.get(f"/admin/accounts/user/{outsider.pk}/password/").status_code == 403
    assert support_browser.get("/admin/accounts/user/add/").status_code == 403
    outsider.refresh_from_db()
    assert outsider.name == "Oscar Outsider"
    assert support_browser.get("/admin/axes/accessattempt/").status_code == 200, "support sees lockouts"
    assert support_browser.get("/admin/security/auditevent/").status_code == 200, "and the audit log"


@pytest.mark.django_db
def test_support_sees_api_keys_but_cannot_revoke_them(support_browser, owner):
    key, _ = api_key_create(actor=TEST_ACTOR, user=owner, name="Script", scopes=["read"])
    listing = support_browser.get("/admin/accounts/apikey/")
    assert listing.status_code == 200 and "Script" in listing.text
    assert 'value="revoke"' not in listing.text, "support is not offered the action"
    support_browser.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.django_db
def test_support_cannot_see_second_factor_devices(support_browser, secured_owner):
    assert support_browser.get("/admin/accounts/totpdevice/").status_code == 403


@pytest.mark.django_db
def test_a_trader_cannot_open_the_admin(owner_client):
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/apikey/"):
        answer = owner_client.get(path)
        assert answer.status_code in (302, 403), path
        if answer.status_code == 302:
            assert answer["Location"].startswith(("/admin/login/", "/accounts/login/")), path
            assert "Site administration" not in owner_client.get(answer["Location"]).text


@pytest.mark.django_db
def test_a_trader_who_opens_the_admin_is_told_no_instead_of_going_round_in_circles(owner_client):
    answer = owner_client.get("/admin/", follow=True)
    assert answer.status_code == 403


# --- API keys --------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_admin_revokes_an_api_key_and_it_stops_working(admin_browser, owner):
    key, raw = api_key_create(actor=TEST_ACTOR, user=owner, name="Leaked script", scopes=["read"])
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {raw}").status_code == 200
    answer = admin_browser.post(
        "/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert "Revoked 1 API key(s)." in answer.text
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {raw}").status_code == 401
    assert AuditEvent.objects.filter(action="api_key.revoked", user=owner).exists()


# --- no secret anywhere ----------------------------------------------------------------------------------
@pytest.fixture
def every_secret(secured_owner, outsider):
    """An account with every kind of secret we keep, and the secrets themselves."""
    owner = secured_owner
    _, raw_key = api_key_create(actor=TEST_ACTOR, user=owner, name="Script", scopes=["read"])
    sms_phone_add(actor=TEST_ACTOR, user=owner, number="+447700900123")
    email_verification_send(actor=TEST_ACTOR, user=outsider)
    integration = APIClient()
    tokens = sign_in(integration, owner.email, otp_code=unused_totp_code(owner))
    first = sign_in(APIClient(), outsider.email)
    APIClient().post("/api/v1/auth/logout/", {"refresh": first["refresh"]}, format="json")
    browser = Client()
    browser.post("/accounts/login/", {"login": outsider.email, "password": PASSWORD})
    lock_out(owner, guess_prefix=TYPED_BY_MISTAKE)
    owner.refresh_from_db()
    device = TOTPDevice.objects.get(user=owner)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_totpdevice WHERE id = %s", [device.pk])
        (stored_key,) = cursor.fetchone()
    secrets = {
        "password hash": owner.password,
        "password digest": owner.password.rsplit("$", 1)[-1],
        "TOTP seed": device.key,
        "TOTP manual key": device.manual_key,
        "TOTP seed as stored": stored_key,
        "API key": raw_key,
        "API key digest": ApiKey.objects.get(user=owner).key_digest,
        "access token": tokens["access"],
        "refresh token": tokens["refresh"],
        "blacklisted refresh token": first["refresh"],
        "typed password": TYPED_BY_MISTAKE,
    }
    secrets |= {f"recovery code {n}": code for n, code in enumerate(owner.recovery_codes)}
    secrets |= {
        f"recovery digest {n}": d for n, d in enumerate(RecoveryCode.objects.values_list("code_digest", flat=True))
    }
    for n, challenge in enumerate(SMSChallenge.objects.all()):
        secrets |= {
            f"sms code digest {n}": challenge.code_digest,
            f"sms challenge digest {n}": challenge.challenge_digest,
        }
    for n, code in enumerate(EmailVerificationCode.objects.all()):
        secrets[f"email code digest {n}"] = code.code_digest
    for n, session in enumerate(UserSession.objects.all()):
        secrets[f"session key {n}"] = session.session_key
    return secrets


def admin_pages(browser: Client) -> dict[str, str]:
    """Every account-related changelist and the change page of its first row, as `browser` sees them."""
    pages = {}
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        if meta.app_label not in ACCOUNT_APPS:
            continue
        listing = browser.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if listing.status_code == 403:
            continue
        assert listing.status_code == 200, (meta.label, listing.status_code)
        pages[f"{meta.label} list"] = listing.content.decode()
        first = model_admin.get_queryset(listing.wsgi_request).first()
        if first is not None:
            change = browser.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
            assert change.status_code == 200, (meta.label, change.status_code)
            pages[f"{meta.label} page"] = change.content.decode()
    pages["index"] = browser.get("/admin/").content.decode()
    return pages


def leaks(pages: dict[str, str], secrets: dict[str, str]) -> list[tuple[str, str]]:
    return [(page, name) for page, html in pages.items() for name, secret in secrets.items() if secret in html]


@pytest.mark.django_db
def test_no_admin_page_shows_a_secret_to_an_admin(admin_browser, every_secret):
    pages = admin_pages(admin_browser)
    assert {
        "accounts.User page",
        "accounts.ApiKey page",
        "accounts.TOTPDevice page",
        "token_blacklist.OutstandingToken page",
    } <= set(pages)
    assert "axes.AccessAttempt page" in pages and "usersessions.UserSession page" in pages
    assert leaks(pages, every_secret) == []


@pytest.mark.django_db
def test_no_admin_page_shows_a_secret_to_support(support_browser, every_secret):
    pages = admin_pages(support_browser)
    assert {"accounts.User page", "accounts.ApiKey page", "axes.AccessAttempt page", "security.AuditEvent page"} <= set(
        pages
    )
    assert not any(re.match(r"accounts\.(TOTP|SMS|RecoveryCode)", page) for page in pages)
    assert "token_blacklist.OutstandingToken list" not in pages
    assert leaks(pages, every_secret) == []
