"""Rotating the encryption key: after `rotate_encryption_key` every stored secret (authenticator
seeds, exchange credentials) is under the new key, the old key alone reads none of them, the new
key alone reads all of them, and the command can run again, or after an interruption, safely."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import TOTPDevice
from exchanges.credentials import Credentials, open_credentials, seal_into
from exchanges.models import ExchangeConnection
from security.crypto import DecryptionError, decrypt_text, key_id
from security.management.commands.rotate_encryption_key import rotate_rows, secret_columns
from tests.fakes.authenticator import authenticator_enabled
from tests.secret_watch import watch

pytestmark = pytest.mark.django_db

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
LOST = Fernet.generate_key().decode()  # a key nobody configured any more

BINANCE = Credentials(api_key="binanceKEYaaaaaaaaaaaa1234", secret="binanceSECRETbbbbbbbbbbbbbbbbbb")
KUCOIN = Credentials(api_key="kucoinKEYcccccccccccc5678", secret="kucoinSECRETdddddddddddddd", passphrase="kc-pass-99")
SEALED = ("api_key_sealed", "secret_sealed", "passphrase_sealed")


def rotate(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("rotate_encryption_key", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def raw(table: str, column: str, pk: int) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE id = %s", [pk])  # noqa: S608 - our table
        return cursor.fetchone()[0]


def write_raw(table: str, column: str, pk: int, value: str) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s", [value, pk])  # noqa: S608


def stored_secrets() -> dict[tuple[str, str, int], str]:
    """Every non-empty ciphertext in the database, as stored, by (table, column, pk)."""
    values = {}
    for column in secret_columns():
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(column.pk)}, {quote(column.column)} FROM {quote(column.table)}"  # noqa: S608
                f" WHERE {quote(column.column)} <> ''"
            )
            values |= {(column.table, column.column, pk): value for pk, value in cursor.fetchall()}
    return values


def column_named(label: str):
    return next(column for column in secret_columns() if column.label == label)


def sealed_connection(user, credentials: Credentials, *, exchange: str, nickname: str) -> ExchangeConnection:
    connection_ = ExchangeConnection(user=user, exchange=exchange, nickname=nickname)
    seal_into(connection_, credentials)
    connection_.save()
    return connection_


@pytest.fixture
def secrets_under_old_key(settings, owner, outsider):
    """Under FIELD_ENCRYPTION_KEYS=[OLD]: an authenticator seed, a Binance and a KuCoin connection
    (with passphrase), and a revoked connection whose keys were wiped (nothing to rotate)."""
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    watch(BINANCE.api_key, BINANCE.secret, KUCOIN.api_key, KUCOIN.secret, KUCOIN.passphrase)
    device, _app, _codes = authenticator_enabled(owner)
    binance = sealed_connection(owner, BINANCE, exchange="binance", nickname="Main")
    kucoin = sealed_connection(outsider, KUCOIN, exchange="kucoin", nickname="Kc")
    revoked = ExchangeConnection.objects.create(user=owner, exchange="binance", nickname="Old", status="revoked")
    return {"seed": device.key, "device": device, "binance": binance, "kucoin": kucoin, "revoked": revoked}


def test_the_command_covers_the_authenticator_seed_and_every_exchange_credential_column():
    labels = {column.label for column in secret_columns()}
    assert labels == {
        "accounts_totpdevice.key",
        "exchanges_exchangeconnection.api_key_sealed",
        "exchanges_exchangeconnection.secret_sealed",
        "exchanges_exchangeconnection.passphrase_sealed",
    }


def test_after_rotation_every_secret_is_under_the_new_key_and_only_the_new_key_is_needed(
    settings, secrets_under_old_key
):
    s = secrets_under_old_key
    before = stored_secrets()
    assert len(before) == 1 + 3 + 2, "seed, KuCoin's key/secret/passphrase, Binance's key/secret; the revoked: none"
    assert all(value.startswith(f"v1:{key_id(OLD)}:") for value in before.values())

    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    output = rotate()

    assert f"Re-encrypting under key {key_id(NEW)} (1 older key(s) configured)." in output
    assert "accounts_totpdevice.key: 1/1 re-encrypted, 0 already current" in output
    assert "exchanges_exchangeconnection.secret_sealed: 2/2 re-encrypted, 0 already current" in output
    assert "exchanges_exchangeconnection.passphrase_sealed: 1/1 re-encrypted, 0 already current" in output
    assert f"Done: 6 of 6 value(s) re-encrypted in 4 column(s), 0 already under key {key_id(NEW)}." in output
    after = stored_secrets()
    assert after.keys() == before.keys()
    assert all(value.startswith(f"v1:{key_id(NEW)}:") for value in after.values()), after
    for secret in (s["seed"], BINANCE.api_key, BINANCE.secret, KUCOIN.secret, KUCOIN.passphrase, *after.values()):
        assert secret not in output, "the command prints neither secrets nor ciphertext"

    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    for value in after.values():
        with pytest.raises(DecryptionError):
            decrypt_text(value)

    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert TOTPDevice.objects.get(pk=s["device"].pk).key == s["seed"]
    assert open_credentials(ExchangeConnection.objects.get(pk=s["binance"].pk)) == BINANCE
    assert open_credentials(ExchangeConnection.objects.get(pk=s["kucoin"].pk)) == KUCOIN
    assert raw("exchanges_exchangeconnection", "secret_sealed", s["revoked"].pk) == "", "wiped keys stay wiped"


def test_a_second_run_re_encrypts_nothing_and_changes_no_row(settings, secrets_under_old_key):
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    rotate()
    first = stored_secrets()

    again = rotate()

    assert "accounts_totpdevice.key: 0/1 re-encrypted, 1 already current" in again
    assert f"Done: 0 of 6 value(s) re-encrypted in 4 column(s), 6 already under key {key_id(NEW)}." in again
    assert stored_secrets() == first


def test_a_run_cut_short_is_finished_by_the_next_one(settings, secrets_under_old_key):
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    secret_column = column_named("exchanges_exchangeconnection.secret_sealed")
    first_row = secrets_under_old_key["binance"]
    rotate_rows(secret_column, [(first_row.pk, raw(secret_column.table, "secret_sealed", first_row.pk))])

    output = rotate("--batch-size", "1")

    assert "exchanges_exchangeconnection.secret_sealed: 1/2 re-encrypted, 1 already current" in output
    assert "exchanges_exchangeconnection.secret_sealed: 2/2 checked" in output, "progress per batch"
    assert all(value.startswith(f"v1:{key_id(NEW)}:") for value in stored_secrets().values())


def test_a_value_written_between_reading_and_writing_is_never_overwritten(settings, secrets_under_old_key):
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    secret_column = column_named("exchanges_exchangeconnection.secret_sealed")
    binance = secrets_under_old_key["binance"]
    read = raw(secret_column.table, "secret_sealed", binance.pk)
    # Meanwhile the owner rotates their exchange key: a new secret, written under the new key.
    rotated = Credentials(api_key="binanceKEYnewnewnewnew9999", secret="brandNEWsecretEEEEEEEEEEEEEE")
    seal_into(binance, rotated)
    binance.save()

    tally = rotate_rows(secret_column, [(binance.pk, read)])

    assert (tally.reencrypted, tally.changed_meanwhile) == (0, 1)
    assert open_credentials(ExchangeConnection.objects.get(pk=binance.pk)) == rotated, "the new secret stands"


def test_a_value_no_key_decrypts_is_reported_left_alone_and_fails_the_command(settings, secrets_under_old_key):
    device = secrets_under_old_key["device"]
    lost = f"v1:{key_id(LOST)}:{Fernet(LOST.encode()).encrypt(b'0' * 40).decode()}"
    write_raw("accounts_totpdevice", "key", device.pk, lost)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match=r"1 stored value\(s\) could not be decrypted with any configured key"):
        call_command("rotate_encryption_key", stdout=out, stderr=err)

    assert f"not decryptable: accounts_totpdevice pk {device.pk}" in err.getvalue()
    assert "accounts_totpdevice.key: 0/1 re-encrypted, 0 already current, 1 not decryptable" in out.getvalue()
    assert lost not in out.getvalue() + err.getvalue()
    assert raw("accounts_totpdevice", "key", device.pk) == lost, "untouched"
    secrets = stored_secrets()
    del secrets[("accounts_totpdevice", "key", device.pk)]
    assert all(value.startswith(f"v1:{key_id(NEW)}:") for value in secrets.values()), "the rest is rotated"


def test_a_dry_run_counts_and_writes_nothing(settings, secrets_under_old_key):
    before = stored_secrets()
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]

    output = rotate("--dry-run")

    assert "[dry run] exchanges_exchangeconnection.api_key_sealed: 2/2 to re-encrypt, 0 already current" in output
    assert "[dry run] Done: 6 of 6 value(s) would re-encrypt" in output
    assert stored_secrets() == before


def test_with_one_key_there_is_nothing_to_rotate_but_unversioned_values_are_upgraded(settings, secrets_under_old_key):
    device, seed = secrets_under_old_key["device"], secrets_under_old_key["seed"]
    bare = Fernet(OLD.encode()).encrypt(seed.encode()).decode()  # as written before values were versioned
    write_raw("accounts_totpdevice", "key", device.pk, bare)

    output = rotate()

    assert f"Only one key is configured ({key_id(OLD)}): nothing to rotate from." in output
    assert "accounts_totpdevice.key: 1/1 re-encrypted, 0 already current" in output
    assert "exchanges_exchangeconnection.secret_sealed: 0/2 re-encrypted, 2 already current" in output
    stored = raw("accounts_totpdevice", "key", device.pk)
    assert stored.startswith(f"v1:{key_id(OLD)}:") and decrypt_text(stored) == seed
