"""A new trader's account journey in a real browser: sign up, verify the email with the code
from the message, turn on an authenticator app, and sign in again with its code."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PASSWORD = "a-long-and-unusual-passphrase-42"


def _wait_for_email(count: int, timeout: float = 10) -> mail.EmailMessage:
    """The live server runs in this process (a thread), so its locmem outbox is ours."""
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count:
        assert time.monotonic() < deadline, f"expected {count} email(s), got {len(mail.outbox)}"
        time.sleep(0.05)
    return mail.outbox[count - 1]


def _fresh_totp_code(key: str, used_step: int) -> str:
    """A phone shows a new code every 30 s; one already used is refused, so wait for the next."""
    while int(time.time()) // 30 <= used_step:
        time.sleep(0.25)
    return pyotp.TOTP(key).now()


def test_a_new_trader_signs_up_verifies_turns_on_two_factor_and_signs_in_with_it(page):
    page.goto("/accounts/signup/")
    page.get_by_label("Name").fill("Nina Newcomer")
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"^Password \(again\)")).fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_test_id("signed-in-user")).to_contain_text("nina@example.com")

    message = _wait_for_email(1)
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    page.goto("/accounts/verify/")
    expect(page.get_by_text("Not verified yet")).to_be_visible()
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Your email address is verified")).to_be_visible()
    assert "Welcome" in _wait_for_email(2).subject

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security").click()
    expect(page.get_by_test_id("two-factor-state")).to_have_text("Off")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    key = page.get_by_test_id("totp-manual-key").inner_text().strip()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "accounts-totp-setup.png"), full_page=True)

    used_step = int(time.time()) // 30
    page.get_by_label("Code from your app").fill(pyotp.TOTP(key).at(used_step * 30))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.get_by_test_id("recovery-code")).to_have_count(10)
    page.screenshot(path=str(ARTIFACTS / "accounts-recovery-codes.png"), full_page=True)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_test_id("two-factor-state")).to_have_text("On")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/accounts/login/")
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url("/accounts/2fa/")

    page.get_by_label("Code").fill(_fresh_totp_code(key, used_step))
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", name="Welcome, Nina")).to_be_visible()
    assert page.console_errors == [], page.console_errors
