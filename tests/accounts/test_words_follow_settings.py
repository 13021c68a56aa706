"""What the pages say about time comes from the settings that decide it, and a new user is
asked to verify their address where they land."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.durations import in_words
from tests.fakes.authenticator import verify_email_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (600, "10 minutes"),
        (60, "1 minute"),
        (3600, "1 hour"),
        (12 * 3600, "12 hours"),
        (90, "90 seconds"),
        (3 * 86400, "3 days"),
        (86400, "24 hours"),
    ],
)
def test_durations_read_as_people_say_them(seconds, words):
    assert in_words(seconds) == words


@override_settings(SESSION_IDLE_TIMEOUT=15 * 60, SESSION_ABSOLUTE_TIMEOUT=8 * 3600)
def test_the_sessions_page_states_the_configured_session_lifetimes(owner_client):
    page = owner_client.get("/accounts/sessions/").content.decode()
    assert "ends after 15 minutes without activity, or 8 hours after signing in" in page


@override_settings(SMS_CODE_VALID_SECONDS=5 * 60)
def test_the_text_message_and_the_page_state_the_configured_code_lifetime(owner_client, caplog):
    answer = owner_client.post("/accounts/security/phone/", {"number": "+447700900123"}, follow=True)
    page = answer.content.decode()
    assert "It works for 5 minutes" in page
    texts = [record.getMessage() for record in caplog.records if record.name == "accounts.sms"]
    assert "expires in 5 minutes" in texts[-1]


def test_the_api_description_states_the_configured_token_and_step_up_lifetimes():
    """Settings read the environment once at start-up, so this starts Django the way a deploy does."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SPECTACULAR_SETTINGS['DESCRIPTION'])"
    )
    env = {**os.environ, "JWT_ACCESS_MINUTES": "7", "SECOND_FACTOR_STEP_UP_SECONDS": "120", "ENV_FILE": ""}
    env["DJANGO_SETTINGS_MODULE"] = "cryptovault.settings"
    described = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert "an access token (7 minutes)" in described.stdout, described.stderr
    assert "within the last 2 minutes" in described.stdout


def test_a_new_unverified_user_is_asked_on_the_dashboard_to_verify(owner_client, owner):
    page = owner_client.get("/").content.decode()
    assert 'data-testid="verify-email-prompt"' in page and owner.email in page
    assert "/accounts/verify/" in page


def test_a_verified_user_is_not_nagged(owner_client, owner):
    verify_email_of(owner)
    assert 'data-testid="verify-email-prompt"' not in owner_client.get("/").content.decode()
