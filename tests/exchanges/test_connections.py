"""The connection services against the loopback emulator: what a trader's keys go through.

Every case runs the real ccxt client over HTTP against the emulator; no ccxt call is faked.
"""

from __future__ import annotations

import ccxt
import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db

from cryptovault.actor import Actor
from exchanges.catalogue import catalogue, exchange_spec
from exchanges.credentials import open_credentials
from exchanges.errors import ConnectionRevoked, ConnectionTestFailed, UnknownExchange
from exchanges.models import ConnectionCheck, ExchangeConnection, Status
from exchanges.probe import classify
from exchanges.services.connections import connection_revoke
from exchanges.services.health import connection_check
from exchanges.services.keys import connection_rotate, connection_test
from security.crypto import current_key_id
from security.models import AuditEvent
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.django_db


def stored_columns(connection: ExchangeConnection) -> tuple[str, str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT api_key_sealed, secret_sealed, passphrase_sealed FROM exchanges_exchangeconnection WHERE id = %s",
            [connection.pk],
        )
        return cursor.fetchone()


def answer_code(keys: dict[str, str], exchange: str = "binance") -> str:
    return connection_test(actor=TEST_ACTOR, exchange=exchange, **keys).code


def test_the_catalogue_reads_credentials_sandboxes_and_fees_from_ccxt():
    specs = {spec.id: spec for spec in catalogue()}
    assert set(specs) == {"binance", "coinbase", "kraken", "kucoin"}
    assert specs["kucoin"].needs_passphrase and not specs["binance"].needs_passphrase
    assert specs["binance"].supports_sandbox
    assert specs["binance"].taker_fee > 0 and "taker" in specs["coinbase"].fee_text
    with pytest.raises(UnknownExchange):
        exchange_spec("mtgox")


def test_good_keys_pass_with_their_latency(emulated_exchanges, binance_keys):
    result = connection_test(actor=TEST_ACTOR, exchange="binance", **binance_keys)
    assert result.ok and result.code == "ok" and result.latency_ms is not None


def test_a_wrong_secret_is_invalid_credentials_and_is_asked_once(emulated_exchanges, binance_keys):
    assert answer_code({**binance_keys, "secret": "not-the-secret-at-all"}) == "invalid_credentials"
    signed = [
        path for _method, path in emulated_exchanges.calls("binance") if "/sapi/" in path or path.endswith("/account")
    ]
    assert len(signed) == 1, f"an authentication failure is never retried: {signed}"


def test_a_key_bound_to_another_ip_is_ip_not_allowed(emulated_exchanges):
    keys = {"api_key": "restricted-key-0001", "secret": "restricted-secret-0001"}
    emulated_exchanges.add_key("binance", **keys, allowed_ips=["203.0.113.7"])
    assert answer_code(keys) == "ip_not_allowed"


def test_faults_map_to_their_codes(emulated_exchanges, binance_keys, settings):
    emulated_exchanges.set_fault("binance", "maintenance")
    assert answer_code(binance_keys) == "exchange_unavailable"
    emulated_exchanges.set_fault("binance", "rate_limited")
    assert answer_code(binance_keys) == "rate_limited"
    settings.EXCHANGE_TIMEOUT_SECONDS = 0.5
    emulated_exchanges.set_fault("binance", "slow", seconds=2)
    assert answer_code(binance_keys) == "network_error"
    emulated_exchanges.set_fault("binance", None)
    emulated_exchanges.stop()
    assert answer_code(binance_keys) == "network_error"


def test_a_revoked_key_reported_as_ddos_protection_is_still_an_authentication_failure():
    """ccxt raises DDoSProtection (a NetworkError) for -2015 once a client has authenticated before."""
    error = ccxt.DDoSProtection('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}')
    binance = exchange_spec("binance")
    assert classify(binance, error, ip_restricted=False) == ("invalid_credentials", "-2015"), "an open key is gone"
    assert classify(binance, error) == ("ip_not_allowed", "-2015"), "new keys: the IP is the likelier cause"
    assert classify(exchange_spec("binance"), ccxt.DDoSProtection("binance 429 Too Many Requests"))[0] == "rate_limited"


def test_kucoin_needs_its_passphrase(emulated_exchanges, kucoin_keys):
    assert answer_code(kucoin_keys, "kucoin") == "ok"
    assert answer_code({**kucoin_keys, "passphrase": "wrong-passphrase"}, "kucoin") == "invalid_credentials"
    with pytest.raises(ValidationError) as refused:
        answer_code({**kucoin_keys, "passphrase": ""}, "kucoin")
    assert "passphrase" in refused.value.message_dict


@pytest.mark.parametrize(
    ("keys_change", "other", "field"),
    [
        ({"api_key": "k" * 257}, {}, "api_key"),
        ({"secret": "secret\x00with-a-nul"}, {}, "secret"),
        ({"api_key": "key\u200bwith-zero-width"}, {}, "api_key"),
        ({"passphrase": "binance-has-none"}, {}, "passphrase"),
        ({}, {"nickname": ""}, "nickname"),
        ({}, {"features": ["moon"]}, "features"),
        ({}, {"exchange": "mtgox"}, "exchange"),
    ],
)
def test_bad_input_is_named_and_nothing_is_stored(emulated_exchanges, binance_keys, owner, keys_change, other, field):
    with pytest.raises((ValidationError, UnknownExchange)) as refused:
        connect(owner, {**binance_keys, **keys_change}, **other)
    error = refused.value
    assert field in (error.message_dict if isinstance(error, ValidationError) else {error.field: error.message})
    assert not ExchangeConnection.objects.exists()
    assert not emulated_exchanges.calls(), "bad input never reaches the exchange"


def test_connecting_seals_the_keys_and_reads_the_key_permissions(emulated_exchanges, owner):
    keys = {"api_key": "withdrawing-key-0001", "secret": "withdrawing-secret-0001"}
    emulated_exchanges.add_key("binance", **keys, can_withdraw=True)
    connection = connect(owner, keys)
    for column in stored_columns(connection)[:2]:
        assert column.startswith(f"v1:{current_key_id()}:")
        assert keys["api_key"] not in column and keys["secret"] not in column
    assert connection.key_hint == "0001" and connection.status == Status.CONNECTED
    assert connection.key_can_withdraw is True and connection.key_ip_restricted is False
    assert open_credentials(connection).secret == keys["secret"]
    record = AuditEvent.objects.get(action="exchange.connected")
    assert record.details["key_hint"] == "0001" and keys["secret"] not in str(record.details)
    assert ConnectionCheck.objects.get(connection=connection).code == "ok"


def test_failing_keys_are_not_saved_unless_the_user_overrides_the_test(emulated_exchanges, binance_keys, owner):
    wrong = {**binance_keys, "secret": "a-wrong-secret-value"}
    with pytest.raises(ConnectionTestFailed) as refused:
        connect(owner, wrong)
    assert refused.value.test_code == "invalid_credentials"
    assert not ExchangeConnection.objects.exists()
    saved = connect(owner, wrong, save_untested=True)
    assert saved.status == Status.ERROR and saved.last_error_code == "invalid_credentials"


def test_nicknames_tell_accounts_of_one_exchange_apart(emulated_exchanges, binance_keys, owner):
    connect(owner, binance_keys, nickname="Main")
    connect(owner, binance_keys, nickname="Bot account")
    with pytest.raises(ValidationError) as refused:
        connect(owner, binance_keys, nickname="Main")
    assert "nickname" in refused.value.message_dict


def test_rotation_keeps_the_old_keys_when_the_new_ones_fail(emulated_exchanges, binance_keys, owner):
    connection = connect(owner, binance_keys)
    before = stored_columns(connection)
    with pytest.raises(ConnectionTestFailed):
        connection_rotate(actor=TEST_ACTOR, connection=connection, api_key="new-key-never-issued", secret="whatever-1")
    connection.refresh_from_db()
    assert stored_columns(connection) == before and connection.key_hint == binance_keys["api_key"][-4:]

    new = {"api_key": "rotated-key-0002", "secret": "rotated-secret-0002"}
    emulated_exchanges.add_key("binance", **new)
    connection_rotate(actor=TEST_ACTOR, connection=connection, **new)
    connection.refresh_from_db()
    assert connection.key_hint == "0002" and open_credentials(connection).api_key == new["api_key"]
    assert AuditEvent.objects.filter(action="exchange.rotated").count() == 1
    assert AuditEvent.objects.filter(action="exchange.rotation_failed", outcome="failure").count() == 1


def test_a_key_deleted_on_the_exchange_is_invalid_credentials_for_an_unrestricted_key(
    emulated_exchanges, binance_keys, owner
):
    connection = connect(owner, binance_keys)
    assert connection.key_ip_restricted is False
    emulated_exchanges.remove_key("binance", binance_keys["api_key"])
    assert connection_check(actor=TEST_ACTOR, connection=connection).code == "invalid_credentials"
    assert connection.status == Status.DEGRADED


def test_revoking_wipes_the_ciphertext_and_stops_every_use(emulated_exchanges, binance_keys, owner):
    connection = connect(owner, binance_keys)
    connection_revoke(actor=TEST_ACTOR, connection=connection)
    connection.refresh_from_db()
    assert stored_columns(connection) == ("", "", "")
    assert connection.status == Status.REVOKED and connection.revoked_at is not None
    with pytest.raises(ConnectionRevoked):
        connection_check(actor=TEST_ACTOR, connection=connection)
    connect(owner, binance_keys, nickname="Main")  # the nickname is free again


def test_deleting_the_account_revokes_its_connections_and_the_export_lists_them_without_keys(
    emulated_exchanges, binance_keys, owner
):
    from accounts.services.your_data import account_delete, user_data_export

    connection = connect(owner, binance_keys)
    exported = user_data_export(actor=TEST_ACTOR, user=owner)["exchange_connections"]
    assert [(c["nickname"], c["key_hint"], c["status"]) for c in exported] == [
        ("Main", connection.key_hint, "connected")
    ]
    assert binance_keys["secret"] not in str(exported) and connection.secret_sealed not in str(exported)

    account_delete(actor=Actor.for_command("tests"), user=owner)
    connection.refresh_from_db()
    assert connection.status == Status.REVOKED and stored_columns(connection) == ("", "", "")
