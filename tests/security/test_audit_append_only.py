"""Audit records are never edited or deleted: not through the model, the queryset, the admin, nor (on
PostgreSQL) raw SQL. The only changes let through are a deleted account's: the user link set to NULL and
the address anonymised. A live restore from a backup keeps the trail written since, each record once.

`postgresql`: the trigger exists on PostgreSQL only; those tests skip on SQLite locally and FAIL when CI
is set, where DATABASE_URL must name PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.services.roles import role_assign
from accounts.services.your_data import account_delete
from cryptovault.actor import Actor
from security.audit import audit_record
from security.models import AuditEvent, AuditLogIsAppendOnly
from tests.conftest import PASSWORD
from tests.factories import TEST_ACTOR, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        message = "This test needs PostgreSQL (the append-only trigger): set DATABASE_URL=postgres://..."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def event(owner) -> AuditEvent:
    return audit_record(
        "api_key.created",
        actor=Actor(user=owner, via="page", ip="203.0.113.7", user_agent="Firefox", request_id="r-1"),
        key_name="Script",
    )


def as_stored(event: AuditEvent) -> dict:
    return AuditEvent.objects.filter(pk=event.pk).values().get()


# --- the ORM --------------------------------------------------------------------------------------------
def test_saving_a_stored_record_is_refused_and_changes_nothing(event):
    before = as_stored(event)
    event.action = "api_key.revoked"
    event.details = {"key_name": "Something else"}

    with pytest.raises(AuditLogIsAppendOnly, match="append-only"):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.save(update_fields=["details"])

    assert as_stored(event) == before


def test_deleting_a_record_is_refused(event):
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_queryset_refuses_update_delete_and_bulk_update(event, owner):
    before = as_stored(event)
    for queryset in (AuditEvent.objects.all(), AuditEvent.objects.visible_to(owner), owner.audit_events.all()):
        with pytest.raises(AuditLogIsAppendOnly):
            queryset.update(outcome="failure")
        with pytest.raises(AuditLogIsAppendOnly):
            queryset.delete()
    event.outcome = "failure"
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["outcome"])
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        AuditEvent.objects.update_or_create(pk=event.pk, defaults={"outcome": "failure"})
    assert as_stored(event) == before


def test_only_an_anonymised_address_may_replace_the_one_recorded(event, owner):
    with pytest.raises(AuditLogIsAppendOnly, match="anonymised"):
        AuditEvent.objects.anonymise_actor_email(old_email=owner.email, new_email="attacker@example.com")
    assert as_stored(event)["actor_email"] == owner.email


# --- the admin ------------------------------------------------------------------------------------------
def test_the_admin_shows_a_record_but_offers_no_way_to_change_add_or_delete_it(event, staff_client):
    before = as_stored(event)
    base = "/admin/security/auditevent/"

    detail = staff_client.get(f"{base}{event.pk}/change/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert 'name="_save"' not in html and "deletelink" not in html, "read-only: no save, no delete"

    assert staff_client.post(f"{base}{event.pk}/change/", {"action": "auth.signed_in"}).status_code == 403
    assert staff_client.get(f"{base}{event.pk}/delete/").status_code == 403
    assert staff_client.post(f"{base}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff_client.get(f"{base}add/").status_code == 403
    changelist = staff_client.get(base)
    assert "delete_selected" not in changelist.content.decode()
    staff_client.post(base, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})

    assert as_stored(event) == before


def test_the_admin_filters_by_outcome_via_user_and_date(owner, outsider, staff_client):
    audit_record("auth.sign_in_failed", actor=Actor(user=None, via="page"), user=owner, outcome="failure")
    audit_record("api_key.created", actor=Actor(user=outsider, via="api"), key_name="Bot")
    base = "/admin/security/auditevent/"

    def actions(query: str) -> set[str]:
        response = staff_client.get(f"{base}?{query}")
        assert response.status_code == 200, query
        return set(response.context["cl"].result_list.values_list("action", flat=True))

    assert actions("outcome__exact=failure") == {"auth.sign_in_failed"}
    assert actions("via__exact=api") == {"api_key.created"}
    assert actions(f"user={owner.pk}") == {"auth.sign_in_failed"}
    assert actions(f"user={outsider.pk}") == {"api_key.created"}
    today = timezone.localdate()
    assert "api_key.created" in actions(f"created_at__year={today.year}&created_at__month={today.month}")
    assert actions("q=outsider@example.com") == {"api_key.created"}
    page = staff_client.get(base).content.decode()
    assert f'href="?user={owner.pk}"' in page, "the account column narrows the list to that account"
    assert "Sign-in failed" in page and "API key created" in page


# --- a deleted account: the one change allowed ----------------------------------------------------------
def test_deleting_an_account_keeps_its_records_with_the_address_anonymised(owner):
    audit_record("api_key.created", actor=Actor(user=owner, via="page"), key_name="Script")
    audit_record("auth.sign_in_failed", actor=Actor(user=None, via="page"), actor_email=owner.email, outcome="failure")

    account_delete(actor=Actor(user=owner, via="page"), user=owner, password=PASSWORD)

    anonymised = f"deleted-{owner.pk}@deleted.invalid"
    assert not AuditEvent.objects.filter(actor_email="owner@example.com").exists()
    assert set(AuditEvent.objects.values_list("action", "actor_email")) == {
        ("api_key.created", anonymised),
        ("auth.sign_in_failed", anonymised),
        ("account.deleted", anonymised),
    }


def test_a_user_row_deleted_outright_leaves_its_records_unlinked(event, owner):
    before = as_stored(event)
    owner.delete()

    after = as_stored(event)
    assert after["user_id"] is None
    assert {**before, "user_id": None} == after


# --- the database itself (PostgreSQL) --------------------------------------------------------------------
def raw(sql: str, params: tuple = ()) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def test_raw_sql_cannot_edit_or_delete_a_record(postgresql, event):
    before = as_stored(event)
    for statement, params in [
        ("UPDATE security_auditevent SET action = %s WHERE id = %s", ("auth.signed_in", event.pk)),
        ("UPDATE security_auditevent SET details = '{}'::jsonb WHERE id = %s", (event.pk,)),
        ("UPDATE security_auditevent SET created_at = created_at - interval '1 day'", ()),
        ("DELETE FROM security_auditevent WHERE id = %s", (event.pk,)),
        ("DELETE FROM security_auditevent", ()),
    ]:
        with pytest.raises(DatabaseError, match="append-only"):
            raw(statement, params)
    assert as_stored(event) == before


def test_the_base_manager_the_orm_deletes_with_is_refused_by_the_database(postgresql, event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent._base_manager.filter(pk=event.pk).update(outcome="failure")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent._base_manager.filter(pk=event.pk)._raw_delete(using="default")
    assert as_stored(event)["outcome"] == "success"


def test_the_database_lets_through_only_a_deleted_accounts_changes(postgresql, event, owner):
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE security_auditevent SET actor_email = %s WHERE id = %s", ("someone@example.com", event.pk))
    with pytest.raises(DatabaseError, match="append-only"):  # anonymised, but the action changed with it
        raw(
            "UPDATE security_auditevent SET actor_email = %s, action = %s WHERE id = %s",
            (f"deleted-{owner.pk}@deleted.invalid", "auth.signed_in", event.pk),
        )
    with pytest.raises(DatabaseError, match="append-only"):  # moved to another account
        raw("UPDATE security_auditevent SET user_id = %s WHERE id = %s", (UserFactory().pk, event.pk))

    raw(
        "UPDATE security_auditevent SET actor_email = %s WHERE id = %s",
        (f"deleted-{owner.pk}@deleted.invalid", event.pk),
    )
    raw("UPDATE security_auditevent SET user_id = NULL WHERE id = %s", (event.pk,))
    after = as_stored(event)
    assert (after["user_id"], after["actor_email"], after["action"]) == (
        None,
        f"deleted-{owner.pk}@deleted.invalid",
        "api_key.created",
    )


# --- roles and backups are recorded ---------------------------------------------------------------------
def test_a_role_change_is_recorded_with_who_made_it(owner, staff_user):
    role_assign(actor=Actor(user=staff_user, via="admin", ip="192.0.2.9"), user=owner, role="support")

    record = AuditEvent.objects.get(action="account.role_assigned")
    assert (record.user, record.actor_email, record.via, record.ip) == (owner, staff_user.email, "admin", "192.0.2.9")
    assert record.details == {"role": "support", "by_staff": True}


@pytest.mark.django_db(transaction=True)
def test_a_live_restore_keeps_the_trail_written_since_the_backup_each_record_once(settings, tmp_path):
    from backups.engines import engine_for
    from backups.services import backup_create, backup_restore, live_database_label
    from tests.backups.conftest import new_key

    settings.STORAGES = {
        **settings.STORAGES,
        "backups": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "store")},
        },
    }
    settings.BACKUP_WORK_DIR = str(tmp_path / "work")
    settings.BACKUP_ENCRYPTION_KEY = new_key()
    operator = Actor.for_command("backup")
    user = UserFactory(email="trader@example.com")
    audit_record("api_key.created", actor=TEST_ACTOR, user=user, key_name="before the backup")
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):  # in the dump, and dated after it
        audit_record("api_key.revoked", actor=TEST_ACTOR, user=user, key_name="in the dump and kept")
    backup = backup_create(actor=operator)
    audit_record("session.revoked", actor=TEST_ACTOR, user=user, session_id="after the backup")
    trail = list(AuditEvent.objects.order_by("id").values())

    backup_restore(actor=operator, backup=backup, target="live", confirm=live_database_label(engine_for("default")))

    after = list(AuditEvent.objects.order_by("id").values())
    assert after[: len(trail)] == trail, "every record as it was: same id, time, action and details, once each"
    assert [row["action"] for row in after[len(trail) :]] == ["backup.created", "backup.restored"]
    assert after[-1]["via"] == "command" and after[-1]["details"]["target"] == "live"
    assert after[-2]["details"]["kind"] == "pre_restore"
