"""The connections admin, as staff use it: whose connection, which exchange, how healthy, the key's
last four characters, and never a key, a secret, a passphrase or their ciphertext. Admins run a
health check and revoke (after a confirmation), both audited as staff; support reads and acts on
nothing; traders never get in."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services.roles import SUPPORT, role_assign
from exchanges.models import ConnectionCheck, ExchangeConnection, Status
from security.models import AuditEvent
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR, UserFactory
from tests.helpers import admin_signed_in

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/exchanges/exchangeconnection/"
SEALED = ("api_key_sealed", "secret_sealed", "passphrase_sealed")


@pytest.fixture
def two_connections(emulated_exchanges, owner, outsider, binance_keys, kucoin_keys):
    main = connect(owner, binance_keys, nickname="Main")
    kc = connect(outsider, kucoin_keys, exchange="kucoin", nickname="Kc savings")
    return main, kc


@pytest.fixture
def support_browser(db) -> Client:
    browser = Client()
    admin_signed_in(browser, role_assign(actor=TEST_ACTOR, user=UserFactory(email="sam@example.com"), role=SUPPORT))
    return browser


def nicknames(browser: Client, query: str = "") -> set[str]:
    page = browser.get(CHANGELIST + query)
    assert page.status_code == 200
    return {row.nickname for row in page.context["cl"].result_list}


def act(browser: Client, action: str, *connections: ExchangeConnection, **extra: str):
    chosen = {"action": action, "_selected_action": [c.pk for c in connections], **extra}
    return browser.post(CHANGELIST, chosen, follow=True)


def secrets_of(keys: dict[str, str], connection: ExchangeConnection) -> dict[str, str]:
    """The plaintext credentials and the ciphertext the row holds: none may reach a page."""
    stored = ExchangeConnection.objects.values(*SEALED).get(pk=connection.pk)
    return {**{name: value for name, value in keys.items() if value}, **{n: v for n, v in stored.items() if v}}


# --- the list ---------------------------------------------------------------------------------------
def test_staff_see_every_connection_with_its_owner_exchange_health_and_key_hint(staff_client, two_connections):
    main, kc = two_connections
    page = staff_client.get(CHANGELIST)
    assert page.status_code == 200
    for text in ("Main", "Kc savings", "owner@example.com", "outsider@example.com", "binance", "kucoin"):
        assert text in page.text
    assert f"…{main.key_hint}" in page.text and f"…{kc.key_hint}" in page.text
    for header in ("Status", "Last checked at", "Latency ms", "Last error code", "Sandbox"):
        assert header in page.text
    assert "connected" in page.text.lower()


def test_the_list_filters_by_exchange_status_and_error_and_searches_nickname_email_and_key_hint(
    staff_client, two_connections, exchange_emulator, kucoin_keys
):
    main, kc = two_connections
    exchange_emulator.remove_key("kucoin", kucoin_keys["api_key"])
    act(staff_client, "run_health_check", kc)

    assert nicknames(staff_client, "?exchange=kucoin") == {"Kc savings"}
    assert nicknames(staff_client, "?status=degraded") == {"Kc savings"}
    assert nicknames(staff_client, "?status=connected") == {"Main"}
    assert nicknames(staff_client, "?last_error_code=invalid_credentials") == {"Kc savings"}
    assert nicknames(staff_client, "?sandbox__exact=0") == {"Main", "Kc savings"}
    assert nicknames(staff_client, "?q=savings") == {"Kc savings"}
    assert nicknames(staff_client, "?q=owner%40example.com") == {"Main"}
    assert nicknames(staff_client, f"?q={main.key_hint}") == {"Main"}


def test_the_list_costs_the_same_queries_for_one_connection_or_many(
    staff_client, emulated_exchanges, owner, binance_keys
):
    connect(owner, binance_keys, nickname="First")
    staff_client.get(CHANGELIST)
    with CaptureQueriesContext(db) as one:
        staff_client.get(CHANGELIST)
    for n in range(6):
        connect(UserFactory(), binance_keys, nickname=f"Bot {n}")
    with CaptureQueriesContext(db) as many:
        page = staff_client.get(CHANGELIST)
    assert len(page.context["cl"].result_list) == 7
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


# --- no secret anywhere --------------------------------------------------------------------------------
def test_no_list_page_or_confirmation_shows_a_key_a_secret_a_passphrase_or_their_ciphertext(
    staff_client, two_connections, binance_keys, kucoin_keys
):
    main, kc = two_connections
    act(staff_client, "run_health_check", main, kc)  # the change page then has checks to show
    secrets = secrets_of(binance_keys, main) | {f"kucoin {k}": v for k, v in secrets_of(kucoin_keys, kc).items()}
    assert len(secrets) == 2 + 2 + 3 + 3, "key and secret of both, KuCoin's passphrase, and each sealed column"
    pages = {
        "list": staff_client.get(CHANGELIST),
        "list searched": staff_client.get(CHANGELIST + "?q=Main"),
        "Binance page": staff_client.get(f"{CHANGELIST}{main.pk}/change/"),
        "KuCoin page": staff_client.get(f"{CHANGELIST}{kc.pk}/change/"),
        "revoke confirmation": act(staff_client, "revoke", main, kc),
    }
    for where, page in pages.items():
        assert page.status_code == 200, where
        html = page.content.decode()
        leaked = [name for name, value in secrets.items() if value in html]
        assert not leaked, f"{where} shows {leaked}"
        for column in SEALED:
            assert column not in html, f"{where} names the sealed column {column}"
        assert "v1:" not in html, where


def test_the_connection_page_shows_health_key_facts_and_recent_checks_and_edits_nothing(
    staff_client, two_connections, owner
):
    main, _kc = two_connections
    act(staff_client, "run_health_check", main)
    page = staff_client.get(f"{CHANGELIST}{main.pk}/change/")
    assert page.status_code == 200
    assert f"…{main.key_hint}" in page.text and "owner@example.com" in page.text
    assert "Recent checks" in page.text and "Test now" in page.text and "Connect" in page.text, "the check history"
    assert 'name="_save"' not in page.text and 'name="nickname"' not in page.text
    staff_client.post(f"{CHANGELIST}{main.pk}/change/", {"nickname": "Hijacked", "exchange": "kraken"})
    main.refresh_from_db()
    assert (main.nickname, main.exchange) == ("Main", "binance")


def test_connections_are_never_added_or_deleted_from_the_admin(staff_client, two_connections):
    main, _kc = two_connections
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
    assert staff_client.get(f"{CHANGELIST}{main.pk}/delete/").status_code == 403
    staff_client.post(f"{CHANGELIST}{main.pk}/delete/", {"post": "yes"})
    assert ExchangeConnection.objects.filter(pk=main.pk, status=Status.CONNECTED).exists()
    assert "delete_selected" not in staff_client.get(CHANGELIST).text


# --- actions --------------------------------------------------------------------------------------------
def test_an_admin_runs_a_health_check_that_finds_a_deleted_key_and_it_is_audited_as_staff(
    admin_browser, two_connections, exchange_emulator, kucoin_keys
):
    main, kc = two_connections
    exchange_emulator.remove_key("kucoin", kucoin_keys["api_key"])  # the owner deleted it on KuCoin

    answer = act(admin_browser, "run_health_check", main, kc)

    assert "Checked 2 connection(s): 1 ok, 1 failed." in answer.text
    main.refresh_from_db()
    kc.refresh_from_db()
    assert (kc.status, kc.last_error_code) == (Status.DEGRADED, "invalid_credentials")
    assert main.status == Status.CONNECTED and main.latency_ms is not None
    assert ConnectionCheck.objects.filter(connection=kc, trigger="manual", ok=False).count() == 1
    tested = AuditEvent.objects.get(action="exchange.tested", user=kc.user, via="admin")
    assert tested.actor_email == "ada@example.com" and tested.details["by_staff"]
    assert tested.details["connection_id"] == kc.pk and tested.outcome == "failure"
    changed = AuditEvent.objects.get(action="exchange.status_changed", user=kc.user)
    assert changed.details["status_to"] == "degraded" and changed.details["by_staff"] and changed.via == "admin"


def test_revoking_asks_first_naming_each_connection_and_changes_nothing_until_confirmed(admin_browser, two_connections):
    main, kc = two_connections
    answer = act(admin_browser, "revoke", main, kc)
    assert "Revoke these connections?" in answer.text
    assert "Main" in answer.text and "Kc savings" in answer.text and f"…{main.key_hint}" in answer.text
    assert set(ExchangeConnection.objects.values_list("status", flat=True)) == {Status.CONNECTED}


def test_a_confirmed_revoke_wipes_the_keys_and_is_audited_as_staff(admin_browser, two_connections):
    main, kc = two_connections
    answer = act(admin_browser, "revoke", main, confirmed="yes")
    assert "Revoked 1 connection(s)." in answer.text
    main.refresh_from_db()
    assert main.status == Status.REVOKED and main.revoked_at is not None
    assert (main.api_key_sealed, main.secret_sealed, main.passphrase_sealed) == ("", "", "")
    record = AuditEvent.objects.get(action="exchange.revoked", details__connection_id=main.pk)
    assert record.via == "admin" and record.actor_email == "ada@example.com" and record.details["by_staff"]
    kc.refresh_from_db()
    assert kc.status == Status.CONNECTED, "only the selected connection"
    again = act(admin_browser, "run_health_check", main)
    assert "Checked 0 connection(s): 0 ok, 0 failed. Skipped 1 revoked connection(s)." in again.text


# --- who gets in ---------------------------------------------------------------------------------------
def test_support_reads_connections_but_is_offered_no_action_and_posting_one_does_nothing(
    support_browser, two_connections
):
    main, _kc = two_connections
    listing = support_browser.get(CHANGELIST)
    assert listing.status_code == 200 and "Main" in listing.text
    assert 'value="revoke"' not in listing.text and 'value="run_health_check"' not in listing.text
    assert support_browser.get(f"{CHANGELIST}{main.pk}/change/").status_code == 200
    support_browser.post(CHANGELIST, {"action": "revoke", "_selected_action": [main.pk], "confirmed": "yes"})
    support_browser.post(CHANGELIST, {"action": "run_health_check", "_selected_action": [main.pk]})
    main.refresh_from_db()
    assert main.status == Status.CONNECTED and main.secret_sealed
    assert not ConnectionCheck.objects.filter(connection=main, trigger="manual").exists()
    assert not AuditEvent.objects.filter(action__in=["exchange.revoked", "exchange.tested"], via="admin").exists()


def test_a_trader_cannot_open_the_connections_admin(owner_client, outsider_client, two_connections):
    main, _kc = two_connections
    for browser in (owner_client, outsider_client):
        for path in (CHANGELIST, f"{CHANGELIST}{main.pk}/change/"):
            answer = browser.get(path)
            assert answer.status_code in (302, 403), path
            if answer.status_code == 302:
                assert answer["Location"].startswith(("/admin/login/", "/accounts/login/")), path
        browser.post(CHANGELIST, {"action": "revoke", "_selected_action": [main.pk], "confirmed": "yes"})
    main.refresh_from_db()
    assert main.status == Status.CONNECTED
