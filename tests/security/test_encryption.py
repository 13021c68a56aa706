"""Secrets at rest: a copy of the database alone gives a thief no authenticator seed and no code.

TOTP seeds are encrypted (they must be read back); recovery codes, SMS codes and API keys
are only ever checked, so only their digests are kept.
"""

from __future__ import annotations

import logging
import re

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.test import override_settings

from accounts.codes import token_digest
from accounts.models import ApiKey, RecoveryCode, SMSChallenge, TOTPDevice
from accounts.services.api_keys import api_key_create
from accounts.services.second_factor import sms_phone_add
from security.crypto import DecryptionError, current_key_id, decrypt_text, reencrypt_text
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import authenticator_enabled


def stored_rows(model) -> str:
    """Every column of every row of the model's table, as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608 - our table
        return repr(cursor.fetchall())


def stored_seed(device: TOTPDevice) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name('key')} FROM {connection.ops.quote_name(TOTPDevice._meta.db_table)}"  # noqa: S608
            " WHERE id = %s",
            [device.pk],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def authenticator(owner):
    device, _app, _codes = authenticator_enabled(owner)
    return device


@pytest.mark.django_db
def test_the_authenticator_seed_is_stored_encrypted_and_decrypts_to_the_seed(authenticator):
    seed = authenticator.key
    assert re.fullmatch(r"[0-9a-f]{40}", seed)

    column = stored_seed(authenticator)
    assert seed not in column and authenticator.manual_key not in column
    assert re.fullmatch(rf"v1:{current_key_id()}:gAAAAA\S+", column), "a Fernet token, versioned by its key"
    assert decrypt_text(column) == seed


@pytest.mark.django_db
def test_after_adding_a_new_key_in_front_old_seeds_still_read_and_new_writes_use_the_new_key(authenticator):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert TOTPDevice.objects.get(pk=authenticator.pk).key == authenticator.key
        rotated = reencrypt_text(stored_seed(authenticator))
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert decrypt_text(rotated) == authenticator.key, "once re-encrypted, the old key can be dropped"


@pytest.mark.django_db
def test_with_only_an_unrelated_key_reading_a_seed_fails_loudly(authenticator):
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]), pytest.raises(DecryptionError):
        TOTPDevice.objects.get(pk=authenticator.pk)


@pytest.mark.django_db
def test_recovery_codes_are_stored_only_as_digests(owner):
    _device, _app, codes = authenticator_enabled(owner)
    assert len(codes) == 10
    rows = stored_rows(RecoveryCode)
    for code in codes:
        assert code not in rows and code.replace("-", "") not in rows and code.lower() not in rows
    assert token_digest(codes[0].replace("-", "")) in rows


@pytest.mark.django_db
def test_sms_codes_and_challenge_ids_are_stored_only_as_digests(owner, caplog):
    with (
        override_settings(SMS_BACKEND="accounts.sms.LoggingSMSBackend"),
        caplog.at_level(logging.WARNING, logger="accounts.sms"),
    ):
        challenge_id = sms_phone_add(actor=TEST_ACTOR, user=owner, number="+447700900123")
    (code,) = re.findall(r"code: (\d{6})", caplog.text)

    rows = stored_rows(SMSChallenge)
    assert code not in rows and challenge_id not in rows
    assert token_digest(code) not in rows, "the code's digest is keyed: a million guesses of a bare hash do not work"


@pytest.mark.django_db
def test_personal_api_keys_are_stored_only_as_digests(owner):
    key, raw_key = api_key_create(actor=TEST_ACTOR, user=owner, name="Bot", scopes=["read"])
    rows = stored_rows(ApiKey)
    secret = raw_key.split("_", 2)[2]  # cvk_<prefix>_<secret>; the secret itself may hold "_"
    assert raw_key not in rows and secret not in rows
    assert key.prefix in rows, "the prefix names the key in lists; it is not the secret"
