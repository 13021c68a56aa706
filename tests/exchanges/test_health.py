"""Key-health checks: the job re-tests every active connection against the (emulated) exchange,
moves its status (degraded after one failure, error after three in a row, connected again on
success), records latency, and tells the owner on each change of status, and only then, through
the channels they chose. The beat task does it through a real worker; `check_connections` does it
for operators, with progress and a summary and never a secret."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import NotificationChannel, NotificationPreference
from cryptovault.actor import Actor
from exchanges.errors import KeysUnreadable
from exchanges.models import ConnectionCheck, ExchangeConnection, Status
from exchanges.services.connections import connection_revoke
from exchanges.services.health import connection_check, connections_health_check
from exchanges.tasks import check_all_connections
from security.models import AuditEvent
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.live_events import GroupListener

SEALED = ("api_key_sealed", "secret_sealed", "passphrase_sealed")


@pytest.fixture
def health_run(django_capture_on_commit_callbacks):
    """Run the health job's service once, as the beat task's workers do, with its after-commit work done."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return connections_health_check(actor=Actor.for_task("health-test"), **kwargs)

    return run


def status_changes(connection: ExchangeConnection) -> list[tuple[str, str]]:
    records = AuditEvent.objects.filter(action="exchange.status_changed", details__connection_id=connection.pk)
    return [(r.details["status_from"], r.details["status_to"]) for r in records.order_by("created_at", "id")]


# --- transitions, audit and notifications ---------------------------------------------------------------
@pytest.mark.django_db
def test_one_failure_degrades_three_in_a_row_make_an_error_and_a_success_reconnects_each_change_told_once(
    settings, emulated_exchanges, exchange_emulator, owner, binance_keys, health_run
):
    settings.CONNECTION_ERROR_AFTER_FAILURES = 3
    main = connect(owner, binance_keys, nickname="Main")
    mail.outbox.clear()
    exchange_emulator.set_fault("binance", "maintenance")

    with GroupListener(owner) as listener:
        first = health_run()
        main.refresh_from_db()
        assert (main.status, main.consecutive_failures, main.last_error_code) == (
            "degraded",
            1,
            "exchange_unavailable",
        )
        assert (first.checked, first.ok, first.failed) == (1, 0, 1)
        assert first.status_changes == [f"Main (#{main.pk}): connected → degraded"]
        (told,) = listener.notifications()
        assert told["connection_id"] == main.pk and told["status"] == "degraded" and told["event_type"] == "exchanges"
        assert told["title"] == "Main: degraded" and "down or in maintenance" in told["body"]
        (email,) = mail.outbox
        assert email.to == [owner.email] and "Main: degraded" in email.subject
        assert "down or in maintenance" in email.body

        second = health_run()
        main.refresh_from_db()
        assert (main.status, main.consecutive_failures) == ("degraded", 2)
        assert second.status_changes == []
        assert [event for event, _ in listener.events()] == ["exchange.connection"], "no one is told again"
        assert len(mail.outbox) == 1

        health_run()
        main.refresh_from_db()
        assert (main.status, main.consecutive_failures) == ("error", 3)
        assert [told["status"] for told in listener.notifications()] == ["error"]
        assert len(mail.outbox) == 2 and "Main: error" in mail.outbox[-1].subject

        exchange_emulator.set_fault("binance", None)
        back = health_run()
        main.refresh_from_db()
        assert (main.status, main.consecutive_failures, main.last_error_code) == ("connected", 0, "")
        assert back.status_changes == [f"Main (#{main.pk}): error → connected"]
        (recovered,) = listener.notifications()
        assert recovered["status"] == "connected" and "is connected now" in recovered["body"]
        assert len(mail.outbox) == 3

    assert status_changes(main) == [("connected", "degraded"), ("degraded", "error"), ("error", "connected")]
    record = AuditEvent.objects.filter(action="exchange.status_changed", details__connection_id=main.pk).first()
    assert record.via == "task" and record.user == owner
    assert ConnectionCheck.objects.filter(connection=main, trigger="scheduled").count() == 4


@pytest.mark.django_db
def test_a_key_deleted_at_the_exchange_shows_as_invalid_credentials_and_an_owner_who_turned_email_off_gets_none(
    emulated_exchanges, exchange_emulator, owner, kucoin_keys, health_run
):
    main = connect(owner, kucoin_keys, exchange="kucoin", nickname="Main")
    # A key the exchange refuses is a security alert (`security.exchange_key_failing`, high, not
    # critical): it follows the owner's security preferences.
    NotificationPreference.objects.create(
        user=owner, event_type="security", channel=NotificationChannel.EMAIL, enabled=False
    )
    mail.outbox.clear()
    exchange_emulator.remove_key("kucoin", kucoin_keys["api_key"])

    with GroupListener(owner) as listener:
        health_run()
        (told,) = listener.notifications()

    main.refresh_from_db()
    assert (main.status, main.last_error_code) == ("degraded", "invalid_credentials")
    assert "rejected the key or secret" in told["body"], "in the app, as chosen"
    assert (told["event"], told["priority"]) == ("security.exchange_key_failing", "high")
    assert mail.outbox == [], "no email: the owner turned security emails off"


@pytest.mark.django_db
def test_each_check_records_latency_and_the_latency_history(
    emulated_exchanges, owner, binance_keys, kucoin_keys, health_run
):
    main = connect(owner, binance_keys, nickname="Main")
    kc = connect(owner, kucoin_keys, exchange="kucoin", nickname="Kc")
    ExchangeConnection.objects.filter(pk__in=[main.pk, kc.pk]).update(latency_ms=None, last_checked_at=None)

    summary = health_run()

    assert (summary.checked, summary.ok, summary.failed, summary.status_changes) == (2, 2, 0, [])
    for connection in (main, kc):
        connection.refresh_from_db()
        assert connection.status == Status.CONNECTED and connection.last_checked_at is not None
        assert connection.latency_ms is not None and 0 <= connection.latency_ms < 10_000
        check = ConnectionCheck.objects.filter(connection=connection, trigger="scheduled").get()
        assert check.ok and check.code == "ok" and check.latency_ms == connection.latency_ms


@pytest.mark.django_db
def test_a_revoked_connection_is_never_checked(emulated_exchanges, owner, binance_keys, health_run):
    main = connect(owner, binance_keys, nickname="Main")
    gone = connect(owner, binance_keys, nickname="Gone")
    connection_revoke(actor=TEST_ACTOR, connection=gone)

    with GroupListener(owner) as listener:
        everyone = health_run()
        named = health_run(connections=[gone])
        events = listener.events()

    assert everyone.checked == 1 and named.checked == 0
    assert [(event, payload["id"]) for event, payload in events] == [("exchange.connection", main.pk)]
    gone.refresh_from_db()
    assert gone.status == Status.REVOKED
    assert not ConnectionCheck.objects.filter(connection=gone, trigger="scheduled").exists()
    assert ConnectionCheck.objects.filter(connection=main, trigger="scheduled").count() == 1


# --- the beat task, on a real worker --------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_run_by_a_real_worker_checks_every_active_connection(
    celery_worker, emulated_exchanges, exchange_emulator, owner, outsider, binance_keys, kucoin_keys
):
    main = connect(owner, binance_keys, nickname="Main")
    kc = connect(outsider, kucoin_keys, exchange="kucoin", nickname="Kc")
    gone = connect(owner, binance_keys, nickname="Gone")
    connection_revoke(actor=TEST_ACTOR, connection=gone)
    exchange_emulator.remove_key("kucoin", kucoin_keys["api_key"])

    fanned_out = check_all_connections.apply_async(queue=celery_worker.queue).get(timeout=30)

    assert fanned_out == 2, "one task per active connection"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ConnectionCheck.objects.filter(trigger="scheduled").count() >= 2:
            break
        time.sleep(0.2)
    main.refresh_from_db()
    kc.refresh_from_db()
    assert (kc.status, kc.last_error_code) == ("degraded", "invalid_credentials")
    assert main.status == "connected" and main.latency_ms is not None
    assert ConnectionCheck.objects.filter(connection=main, trigger="scheduled", ok=True).count() == 1
    assert not ConnectionCheck.objects.filter(connection=gone, trigger="scheduled").exists()
    assert AuditEvent.objects.filter(action="exchange.status_changed", via="task", user=outsider).count() == 1


# --- the operators' command -------------------------------------------------------------------------------
def check_connections(*args: str) -> str:
    out = StringIO()
    call_command("check_connections", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_check_connections_prints_a_line_per_connection_and_a_summary_and_never_a_secret(
    emulated_exchanges, exchange_emulator, owner, outsider, binance_keys, kucoin_keys
):
    main = connect(owner, binance_keys, nickname="Main")
    kc = connect(outsider, kucoin_keys, exchange="kucoin", nickname="Kc")
    exchange_emulator.remove_key("kucoin", kucoin_keys["api_key"])

    output = check_connections()

    lines = output.splitlines()
    assert lines[0].startswith(f"[1/2] Main (binance, #{main.pk}): ok ") and lines[0].endswith(" ms")
    assert lines[1] == f"[2/2] Kc (kucoin, #{kc.pk}): invalid_credentials (connected → degraded)"
    assert "Checked 2 connection(s): 1 ok, 1 failed, 1 status change(s)." in output
    assert f"Kc (#{kc.pk}): connected → degraded" in output
    assert "Exit status 0 (see --fail-on-error)" in output
    sealed = ExchangeConnection.objects.filter(pk__in=[main.pk, kc.pk]).values_list(*SEALED)
    for secret in [*binance_keys.values(), *kucoin_keys.values(), *(v for row in sealed for v in row if v)]:
        assert secret not in output
    kc.refresh_from_db()
    assert kc.status == Status.DEGRADED
    assert AuditEvent.objects.filter(action="exchange.tested", via="command", details__connection_id=kc.pk).exists()


@pytest.mark.django_db
def test_check_connections_narrows_to_a_user_an_exchange_or_ids_and_can_fail_the_run(
    emulated_exchanges, exchange_emulator, owner, outsider, binance_keys, kucoin_keys
):
    main = connect(owner, binance_keys, nickname="Main")
    kc = connect(outsider, kucoin_keys, exchange="kucoin", nickname="Kc")

    assert "Checked 1 connection(s)" in (mine := check_connections("--user", "OWNER@example.com"))
    assert f"#{main.pk}" in mine and f"#{kc.pk}" not in mine
    assert f"[1/1] Kc (kucoin, #{kc.pk}): ok" in check_connections("--exchange", "kucoin")
    only = check_connections("--connection", str(kc.pk), "--connection", "999999")
    assert f"[1/1] Kc (kucoin, #{kc.pk}): ok" in only and "#999999" in only.splitlines()[0]
    assert "Every checked connection is healthy." in only

    exchange_emulator.remove_key("binance", binance_keys["api_key"])
    with pytest.raises(CommandError, match=r"1 check\(s\) failed"):
        check_connections("--fail-on-error")
    with pytest.raises(CommandError, match="We do not support the exchange 'mtgox'"):
        check_connections("--exchange", "mtgox")
    with pytest.raises(CommandError, match="No user with the email"):
        check_connections("--user", "nobody@example.com")
    connection_revoke(actor=TEST_ACTOR, connection=main)
    connection_revoke(actor=TEST_ACTOR, connection=kc)
    assert check_connections() == "No active connections to check.\n"


@pytest.mark.django_db(transaction=True)
def test_keys_saved_past_a_failing_test_stay_in_error_until_a_check_passes(
    emulated_exchanges, owner, binance_keys, health_run
):
    connection = connect(owner, {**binance_keys, "secret": "a-wrong-secret-value"}, save_untested=True)
    assert connection.status == Status.ERROR
    with GroupListener(owner) as listener:
        health_run()
        connection.refresh_from_db()
        assert connection.status == Status.ERROR, "a failing check never looks like an improvement"
        assert listener.notifications() == []


@pytest.mark.django_db(transaction=True)
def test_staff_revoking_a_connection_tells_its_owner(emulated_exchanges, owner, staff_user, binance_keys):
    connection = connect(owner, binance_keys)
    staff = Actor(user=staff_user, via="admin", site_url="http://testserver")
    with GroupListener(owner) as listener:
        connection_revoke(actor=staff, connection=connection)
        (told,) = listener.notifications()
    assert told["status"] == "revoked" and "revoked by the CryptoVault team" in told["body"]
    assert [message.subject for message in mail.outbox][-1].endswith("Main: revoked")


@pytest.mark.django_db
def test_keys_no_encryption_key_opens_are_reported_not_a_crash(emulated_exchanges, owner, binance_keys, settings):
    connection = connect(owner, binance_keys)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key dropped too early
    with pytest.raises(KeysUnreadable):
        connection_check(actor=TEST_ACTOR, connection=connection)
    summary = connections_health_check(actor=TEST_ACTOR)
    assert summary.failed == 1 and summary.unreadable == [f"Main (#{connection.pk})"]
    err = StringIO()
    call_command("check_connections", stdout=StringIO(), stderr=err)
    assert "do not decrypt with FIELD_ENCRYPTION_KEYS" in err.getvalue()
