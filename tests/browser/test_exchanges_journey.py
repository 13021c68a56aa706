"""Connecting an exchange in a real browser, against the loopback exchange emulator: the four-step
wizard with good Binance keys, then from the card "test now", a status change arriving live,
rotating the keys and revoking the connection. No console error, no CSP violation, and no key
or secret in any page the browser was shown.

The live server is a thread of this process and the suite points every process's
EXCHANGE_API_URLS at the session's emulator (tests/conftest.py), so the server reaches it too.
"""

from __future__ import annotations

import re
import threading

import pytest
from django import db
from playwright.sync_api import expect

from cryptovault.actor import Actor
from exchanges.models import ExchangeConnection, Status
from exchanges.services.health import connection_check
from tests.browser.conftest import ARTIFACTS
from tests.fakes.authenticator import unused_totp_code
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


NEW_KEYS = {"api_key": "cv-binance-key-rotated-Jd4Ke", "secret": "cv-binance-secret-rotated-Vn7Qs"}


def _as_the_health_job(connection: ExchangeConnection) -> None:
    """The health task's check, from a thread of its own: this one runs Playwright's event loop, and
    the service's event goes out through async_to_sync, which refuses to run beside a loop."""

    def check() -> None:
        try:
            connection_check(actor=Actor.for_task("health-check"), connection=connection, trigger="scheduled")
        finally:
            db.connection.close()

    worker = threading.Thread(target=check)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()


def _sign_in_with_two_factor(page, user) -> None:
    page.goto("/accounts/login/?next=/exchanges/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url("/accounts/2fa/")
    page.get_by_label("Code").fill(unused_totp_code(user))
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page).to_have_url("/exchanges/")


def test_a_trader_connects_binance_tests_rotates_and_revokes_from_the_card(
    page, secured_owner, emulated_exchanges, binance_keys
):
    pages_seen: list[str] = []
    page.on(
        "response",
        lambda answer: (
            answer.request.resource_type == "document" and answer.status == 200 and pages_seen.append(answer.text())
        ),
    )
    _sign_in_with_two_factor(page, secured_owner)
    ARTIFACTS.mkdir(exist_ok=True)

    # The empty page invites to connect; step 1 offers the catalogue.
    expect(page.get_by_test_id("connections-empty")).to_contain_text("No exchange connected yet")
    page.get_by_role("link", name="Connect your first exchange").click()
    expect(page.get_by_role("heading", name="Connect an exchange")).to_be_visible()
    expect(page.get_by_test_id("exchange-choice")).to_have_count(4)
    page.get_by_role("button", name="Connect Binance").click()

    # Step 2: the keys, hidden until asked for.
    expect(page).to_have_url("/exchanges/connect/?exchange=binance")
    expect(page.get_by_label("Nickname")).to_have_value("Binance")
    expect(page.get_by_label(re.compile(r"^API passphrase"))).to_have_count(0)
    page.get_by_label("Nickname").fill("Main")
    page.get_by_label(re.compile(r"^API key")).fill(binance_keys["api_key"])
    secret = page.get_by_label(re.compile(r"^API secret"))
    secret.fill(binance_keys["secret"])
    expect(secret).to_have_attribute("type", "password")
    page.get_by_role("button", name="Show API secret").click()
    expect(secret).to_have_attribute("type", "text")
    page.get_by_role("button", name="Hide API secret").click()
    expect(secret).to_have_attribute("type", "password")
    page.screenshot(path=str(ARTIFACTS / "exchanges-wizard-keys.png"), full_page=True)
    page.get_by_role("button", name="Test the keys").click()

    # Step 3: the test's answer.
    expect(page.get_by_role("heading", name="The test passed")).to_be_visible()
    expect(page.get_by_test_id("test-code")).to_have_text("ok")
    expect(page.get_by_test_id("test-message")).to_have_text("The exchange accepted the keys.")
    page.get_by_role("button", name="Continue to review").click()

    # Step 4: review and confirm.
    expect(page.get_by_role("heading", name="Review and confirm")).to_be_visible()
    summary = page.get_by_test_id("wizard-summary").first
    expect(summary).to_contain_text("Binance")
    expect(summary).to_contain_text("Main")
    expect(summary.get_by_test_id("key-hint")).to_have_text(f"…{binance_keys['api_key'][-4:]}")
    expect(page.get_by_label("Save anyway, I know the test failed")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "exchanges-wizard-review.png"), full_page=True)
    page.get_by_role("button", name="Save the connection").click()

    # The card, with the auditor's warnings as flashes.
    connection = ExchangeConnection.objects.get(user=secured_owner)
    expect(page).to_have_url(f"/exchanges/#connection-{connection.pk}")
    expect(page.get_by_role("status").filter(has_text="Connected “Main” (Binance")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="This key works from any IP address")).to_be_visible()
    card = page.get_by_test_id("connection-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(card.get_by_role("img", name="Latency of the last 1 check")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live updates on")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "exchanges-connections.png"), full_page=True)

    # Test now.
    card.get_by_role("button", name="Test Main now").click()
    expect(page.get_by_role("status").filter(has_text="“Main” test result ok")).to_be_visible()

    # A health check elsewhere finds the key gone on the exchange: the open card follows, no reload.
    expect(page.get_by_role("status").filter(has_text="Live updates on")).to_be_visible()
    emulated_exchanges.remove_key("binance", binance_keys["api_key"])
    _as_the_health_job(connection)
    expect(card.get_by_test_id("connection-status")).to_have_text("Degraded")
    expect(card).to_have_attribute("data-updated", "live")
    expect(card.locator("[data-last-check]")).to_contain_text("just now")
    expect(page.get_by_test_id("notification")).to_contain_text("Main: degraded")  # the in-app notification

    # Rotate the keys from the card: the new key passes and replaces the old one.
    emulated_exchanges.add_key("binance", **NEW_KEYS)
    card.get_by_role("link", name="Rotate the keys of Main").click()
    expect(page.get_by_role("heading", name="Rotate the keys of “Main”")).to_be_visible()
    page.get_by_label(re.compile(r"^API key")).fill(NEW_KEYS["api_key"])
    page.get_by_label(re.compile(r"^API secret")).fill(NEW_KEYS["secret"])
    page.get_by_role("button", name="Test and replace the keys").click()
    old_hint, new_hint = binance_keys["api_key"][-4:], NEW_KEYS["api_key"][-4:]
    expect(
        page.get_by_role("status").filter(has_text=f"The new key …{new_hint} passed the test and replaced …{old_hint}")
    ).to_be_visible()
    expect(card.get_by_test_id("key-hint")).to_have_text(f"…{new_hint}")
    expect(card.get_by_test_id("connection-status")).to_have_text("Connected")

    # Revoke from the card, after a confirmation that says to delete the key on the exchange too.
    card.get_by_role("link", name="Revoke Main").click()
    expect(page.get_by_text("Also delete the key on the exchange.")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "exchanges-revoke.png"), full_page=True)
    page.get_by_role("button", name="Revoke and delete the keys").click()
    expect(page.get_by_role("status").filter(has_text="Revoked “Main”: its keys are deleted here")).to_be_visible()
    expect(page.get_by_test_id("connections-empty")).to_be_visible()
    connection.refresh_from_db()
    assert connection.status == Status.REVOKED and connection.secret_sealed == ""

    secrets = [*binance_keys.values(), *NEW_KEYS.values()]
    assert pages_seen and not [value for value in secrets for html in pages_seen if value in html]
    assert page.console_errors == [], page.console_errors
