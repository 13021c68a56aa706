"""Each account rule lives in one service or model, so the page, the API, the admin and a
command can never store or decide the same input differently."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, User
from security.models import AuditEvent
from tests.conftest import PASSWORD
from tests.fakes.authenticator import turn_on_totp, unused_totp_code, verify_email_of

pytestmark = pytest.mark.django_db


def secured(user: User) -> User:
    verify_email_of(user)
    turn_on_totp(user)
    return user


def page_for(user: User) -> Client:
    """The user's browser, stepped up with a code from their authenticator."""
    client = Client()
    client.force_login(user)
    assert client.post("/accounts/step-up/", {"otp_code": unused_totp_code(user)}).status_code == 302
    return client


def api_for(user: User) -> APIClient:
    """The user's integration, signed in with a JWT that carries the second factor."""
    client = APIClient()
    tokens = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": PASSWORD, "otp_code": unused_totp_code(user)},
        format="json",
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def stored(key: ApiKey) -> tuple:
    return key.name, key.scopes, key.allowed_ips, key.expires_at


def test_the_same_api_key_input_is_stored_the_same_through_the_page_and_the_api(owner, outsider):
    """The allowlist entry 10.0.0.5/24 means the network 10.0.0.0/24, and a single address is kept
    as the address, whichever way the key was made; the expiry is the end of the chosen day."""
    day = timezone.now().date() + timedelta(days=30)
    networks = ["10.0.0.5/24", "203.0.113.7/32", "10.0.0.9/24"]
    page = page_for(secured(owner))
    answer = page.post(
        "/accounts/api-keys/new/",
        {"name": " Tax script ", "scopes": ["trade", "read"], "allowed_ips": "\n".join(networks), "expires_at": day},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]

    secured(outsider)  # the same time zone (UTC) as the owner
    end_of_day = datetime.combine(day, time.max, tzinfo=zoneinfo.ZoneInfo("UTC"))
    answer = api_for(outsider).post(
        "/api/v1/auth/api-keys/",
        {"name": " Tax script ", "scopes": ["trade", "read"], "allowed_ips": networks, "expires_at": end_of_day},
        format="json",
    )
    assert answer.status_code == 201, answer.json()

    from_page = ApiKey.objects.get(user=owner)
    from_api = ApiKey.objects.get(user=outsider)
    assert stored(from_page) == stored(from_api)
    assert from_page.allowed_ips == ["10.0.0.0/24", "203.0.113.7"]
    assert from_page.name == "Tax script" and from_page.scopes == ["read", "trade"]


def test_an_expiry_too_far_ahead_is_refused_with_the_same_words_on_the_page_and_the_api(owner, outsider):
    too_far = timezone.now().date() + timedelta(days=6 * 365)
    page = page_for(secured(owner)).post(
        "/accounts/api-keys/new/", {"name": "Far", "scopes": ["read"], "expires_at": too_far}
    )
    secured(outsider)
    api = api_for(outsider).post(
        "/api/v1/auth/api-keys/",
        {"name": "Far", "scopes": ["read"], "expires_at": f"{too_far.isoformat()}T12:00:00Z"},
        format="json",
    )
    assert page.status_code == 200 and api.status_code == 400
    message = api.json()["errors"]["expires_at"][0]
    assert "at most five years" in message
    assert message.encode() in page.content
    assert not ApiKey.objects.exists()


@override_settings(REQUIRE_2FA_FOR_SENSITIVE_ACTIONS=False)
def test_turning_off_two_factor_when_it_is_already_off_is_refused_alike_and_changes_nothing(owner):
    verify_email_of(owner)
    other_browser = Client()
    other_browser.force_login(owner)

    page = Client()
    page.force_login(owner)
    answer = page.post("/accounts/security/disable/", follow=True)
    assert b"Two-factor authentication is already off." in answer.content

    api = APIClient()
    api.force_login(owner)
    refused = api.post("/api/v1/auth/2fa/disable/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "two_factor_off"

    assert not AuditEvent.objects.filter(action="2fa.disabled").exists(), "nothing was turned off"
    assert other_browser.get("/accounts/security/").status_code == 200, "the other session is still signed in"


def test_signing_up_on_the_page_and_through_the_api_writes_the_same_records(
    client, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {
                "name": "Pia",
                "email": "pia@example.com",
                "password1": "a-Long-pass-2026",
                "password2": "a-Long-pass-2026",
            },
        )
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            "/api/v1/auth/signup/",
            {"name": "Ali Api", "email": "ali@example.com", "password": "a-Long-pass-2026"},
            format="json",
        )

    def records(email: str, *, via: str) -> list[tuple]:
        events = AuditEvent.objects.filter(user__email=email).exclude(action="auth.signed_in").order_by("id")
        assert {event.via for event in events} == {via}
        return [(event.action, event.outcome, event.details) for event in events]

    assert records("pia@example.com", via="page") == records("ali@example.com", via="api")
    assert records("ali@example.com", via="api") == [
        ("account.signed_up", "success", {}),
        ("email.verification_sent", "success", {}),
    ]
    assert [message.to for message in mail.outbox] == [["pia@example.com"], ["ali@example.com"]]


def test_the_data_export_has_one_file_name_on_the_page_and_the_api(owner_client, owner):
    page = owner_client.get("/accounts/data/export/")
    api = APIClient()
    api.force_login(owner)
    answer = api.get("/api/v1/auth/export/")
    assert page["Content-Disposition"] == answer["Content-Disposition"]
    assert f"cryptovault-data-{timezone.now():%Y-%m-%d}.json" in page["Content-Disposition"]


def test_a_command_calls_the_same_service_and_is_recorded_as_a_command(owner):
    call_command("roles_sync", "--assign", owner.email, "support", verbosity=0)
    record = AuditEvent.objects.get(action="account.role_assigned")
    assert record.user == owner and record.via == "command" and record.request_id.startswith("cmd-roles_sync-")
    assert record.ip is None


def test_no_service_takes_the_request_or_touches_a_session():
    """The services are HTTP-free: an interface builds the actor and keeps any session state."""
    from pathlib import Path

    from django.conf import settings

    offenders = []
    for path in sorted(Path(settings.BASE_DIR).glob("*/services/*.py")) + sorted(
        Path(settings.BASE_DIR).glob("*/services.py")
    ):
        text = path.read_text()
        # `_request` as a name of its own (DRF's wrapped request), not the end of `withdrawal_request`.
        for needle in (
            r"request\.session",
            r"\brequest=",
            r"(?<!\w)_request\b",
            "SessionlessRequest",
            "service_request",
        ):
            if re.search(needle, text):
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}: {needle}")
    assert offenders == []


def test_expiry_dates_are_checked_the_same_for_every_interface(owner):
    """The far end of the calendar west of UTC overflows datetime: refused on the field, never a 500."""
    owner.timezone = "America/Los_Angeles"
    owner.save()
    page = page_for(secured(owner)).post(
        "/accounts/api-keys/new/", {"name": "Y9999", "scopes": ["read"], "expires_at": date(9999, 12, 31)}
    )
    assert page.status_code == 200 and b"at most five years" in page.content


def test_an_expiry_day_means_the_end_of_that_day_in_the_users_zone_on_the_page_and_the_api(owner, outsider):
    day = timezone.now().date() + timedelta(days=30)
    for user in (owner, outsider):
        user.timezone = "Pacific/Kiritimati"  # UTC+14: the end of the day is mid-morning in UTC
        user.save()
    page = page_for(secured(owner)).post(
        "/accounts/api-keys/new/", {"name": "Day", "scopes": ["read"], "expires_at": day}
    )
    secured(outsider)
    api = api_for(outsider).post(
        "/api/v1/auth/api-keys/", {"name": "Day", "scopes": ["read"], "expires_at": day.isoformat()}, format="json"
    )
    assert page.status_code == 302 and api.status_code == 201, api.json()
    from_page, from_api = ApiKey.objects.get(user=owner), ApiKey.objects.get(user=outsider)
    assert from_page.expires_at == from_api.expires_at
    end_of_day = datetime.combine(day, time.max, tzinfo=zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    assert from_api.expires_at == end_of_day


@pytest.mark.parametrize(
    ("entry", "refused_because"),
    [
        ("fe80::1%eth0", "scoped address"),
        ("0.0.0.0/0", "allows every address"),
        ("1.2.3.4/0", "allows every address"),
        ("::/0", "allows every address"),
        ("1.2.3.4/33", "not an IP address or network"),
    ],
)
def test_an_allowlist_entry_that_cannot_mean_what_it_says_is_refused(owner, entry, refused_because):
    secured(owner)
    answer = api_for(owner).post(
        "/api/v1/auth/api-keys/", {"name": "Odd", "scopes": ["read"], "allowed_ips": [entry]}, format="json"
    )
    assert answer.status_code == 400
    assert refused_because in answer.json()["errors"]["allowed_ips"][0]


def test_an_ipv4_address_written_as_ipv6_is_kept_as_ipv4_and_duplicates_do_not_count(owner):
    secured(owner)
    answer = api_for(owner).post(
        "/api/v1/auth/api-keys/",
        {"name": "Mapped", "scopes": ["read"], "allowed_ips": ["::ffff:203.0.113.7", *["10.0.0.1"] * 60]},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["allowed_ips"] == ["203.0.113.7", "10.0.0.1"]
