"""(Beside tests/backups/ rather than in tests/browser/ so it shares the backup fixtures.)

An admin starts a backup from the admin in a real browser and watches it succeed and verify: the
page refreshes itself while the worker (a real Celery process) makes and restores the backup."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.services.roles import ADMIN, role_assign
from backups.models import Backup, BackupStatus
from tests.browser.conftest import browser, page  # noqa: F401 - the browser journeys' fixtures
from tests.factories import TEST_ACTOR, UserFactory
from tests.fakes.authenticator import turn_on_totp, unused_totp_code
from tests.helpers import PASSWORD

pytestmark = pytest.mark.browser


def test_an_admin_starts_a_backup_from_the_admin_and_sees_it_succeed_and_verify(page, backup_worker):  # noqa: F811
    admin = role_assign(actor=TEST_ACTOR, user=UserFactory(email="ada@example.com", name="Ada Admin"), role=ADMIN)
    turn_on_totp(admin)  # staff open the admin with a second factor only
    page.goto("/accounts/login/?next=/admin/backups/backup/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_label("Code").fill(unused_totp_code(admin))
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.locator("#backup-newest-verified")).to_have_text("none yet")

    page.get_by_role("button", name="Start a backup").click()

    expect(page.get_by_text(re.compile(r"Backup #\d+ started"))).to_be_visible()
    backup = Backup.objects.get()
    # The page refreshes every few seconds while the backup runs and until it is verified.
    expect(page.locator("#backup-newest-verified")).to_contain_text(f"#{backup.pk}, verified", timeout=60_000)
    expect(page.locator("#backup-health")).to_have_text("OK")
    expect(page.locator("#result_list")).to_contain_text("Verified")
    backup.refresh_from_db()
    assert backup.status == BackupStatus.VERIFIED and backup.requested_by == admin
    assert page.console_errors == []
