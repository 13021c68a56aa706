"""The backups admin: status above the list, a start button and actions for those allowed, none of
it for support; nothing added, edited or deleted by hand."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services.roles import SUPPORT, role_assign
from backups.errors import BackupKeyError
from backups.models import Backup
from backups.services import backup_create
from tests.factories import TEST_ACTOR, UserFactory
from tests.helpers import admin_signed_in

pytestmark = pytest.mark.django_db(transaction=True)
CHANGELIST = "/admin/backups/backup/"


@pytest.fixture
def support_browser() -> Client:
    browser = Client()
    admin_signed_in(browser, role_assign(actor=TEST_ACTOR, user=UserFactory(email="sue@example.com"), role=SUPPORT))
    return browser


def test_the_list_shows_the_status_and_a_failed_backup_with_its_error(
    backup_settings, admin_browser, operator, settings
):
    good = backup_create(actor=operator)
    settings.BACKUP_ENCRYPTION_KEY = ""
    with pytest.raises(BackupKeyError):
        backup_create(actor=operator)

    page = admin_browser.get(CHANGELIST).content.decode()

    assert 'id="backup-status"' in page and "Needs attention" in page
    assert "BACKUP_ENCRYPTION_KEY is not set" in page
    assert f"#{good.pk}, " in page and "Start a backup" in page
    assert admin_browser.get(f"{CHANGELIST}{good.pk}/change/").status_code == 200
    assert admin_browser.get(f"{CHANGELIST}add/").status_code == 403


def test_start_only_answers_a_post_and_records_who_asked(backup_settings, admin_browser):
    assert admin_browser.get(f"{CHANGELIST}start/").status_code == 405

    answer = admin_browser.post(f"{CHANGELIST}start/")

    assert answer.status_code == 302
    backup = Backup.objects.get()
    assert backup.status == "running" and backup.requested_by.email == "ada@example.com"
    assert backup.requested_via == "admin"


def test_support_cannot_see_or_start_backups(backup_settings, support_browser):
    assert support_browser.get(CHANGELIST).status_code == 403
    support_browser.post(f"{CHANGELIST}start/")
    assert not Backup.objects.exists()
