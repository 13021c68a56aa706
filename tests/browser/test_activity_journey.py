"""Checking one's security activity in a real browser: find it from the Security page, filter by
an address, page through, export the filtered rows as CSV; no console error or CSP violation."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from cryptovault.actor import Actor
from security.audit import audit_record
from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

OFFICE = "198.51.100.20"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"


@pytest.fixture
def a_busy_month(owner, staff_user):
    """Sixty sign-ins from the office over a month, a failed code, and a staff member's change."""
    start = timezone.now() - timedelta(days=30)
    for n in range(60):
        with time_machine.travel(start + timedelta(hours=12 * n), tick=False):  # records are dated on insert
            audit_record(
                "auth.signed_in",
                actor=Actor(user=owner, via="page", ip=OFFICE, user_agent=FIREFOX, request_id=f"office-{n:02d}"),
            )
    audit_record(
        "2fa.code_rejected",
        actor=Actor(user=owner, via="api", ip="203.0.113.7", user_agent="curl/8.5.0", request_id="api-1"),
        outcome="failure",
        purpose="step_up",
    )
    audit_record(
        "account.role_assigned",
        actor=Actor(user=staff_user, via="admin", ip="192.0.2.99", user_agent="StaffConsole/9", request_id="adm-1"),
        user=owner,
        role="Trader",
    )


def test_a_trader_filters_pages_through_and_exports_their_security_activity(page, owner, a_busy_month):
    page.goto("/accounts/login/?next=/accounts/security/")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name="See your activity").click()

    expect(page.get_by_role("heading", name="Security activity")).to_be_visible()
    rows = page.get_by_test_id("activity-row")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Signed in")  # this very sign-in, from this browser
    expect(page.get_by_text("Staff", exact=True)).to_be_visible()
    assert "192.0.2.99" not in page.content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "security-activity.png"), full_page=False)

    page.get_by_label("IP address").fill(OFFICE)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("page-position")).to_have_text("Page 1 of 2 · 60 records")
    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(rf"/security/activity/\?.*ip={re.escape(OFFICE)}&page=2$"))
    expect(rows).to_have_count(10)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.startswith("cryptovault-activity-")
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(exported) == 60 and {row["ip"] for row in exported} == {OFFICE}

    page.get_by_label("IP address").fill("not an address")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Enter a valid IPv4 or IPv6 address.")).to_be_visible()
    expect(page.get_by_label("IP address")).to_have_value("not an address")
    page.screenshot(path=str(ARTIFACTS / "security-activity-bad-filter.png"), full_page=False)
    assert page.console_errors == [], page.console_errors
