"""A backup that is not exactly what was stored, or not readable with the configured key, is refused
before anything is touched: the database keeps every row and the record says why."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from backups.conf import storage
from backups.crypto import HEADER, TAG_BYTES, decrypt_stream, encrypt_stream
from backups.errors import BackupCorrupt, BackupKeyError, WrongBackupKey
from backups.models import Backup, BackupStatus
from backups.services import backup_create, backup_restore, backup_verify
from tests.backups.conftest import new_key
from tests.backups.helpers import table_checksums
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stored_backup(backup_settings, operator) -> Backup:
    for number in range(5):
        UserFactory(email=f"kept{number}@example.com")
    return backup_create(actor=operator)


def stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["backups"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()]


def rewrite_object(backup: Backup, change) -> None:
    store = storage()
    with store.open(backup.storage_name, "rb") as handle:
        data = bytearray(handle.read())
    data = change(data)
    store.delete(backup.storage_name)
    store.save(backup.storage_name, io.BytesIO(bytes(data)))


def flip_one_byte(data: bytearray) -> bytearray:
    data[len(data) // 2] ^= 0x01
    return data


def refused_restore(operator, backup: Backup):
    before = table_checksums()
    with pytest.raises((BackupCorrupt, WrongBackupKey)) as refused:
        backup_restore(actor=operator, backup=backup, target="scratch", database="cv_backups_never_made")
    assert table_checksums() == before
    assert not Backup.objects.filter(kind="pre_restore").exists()
    return refused.value


def test_a_flipped_byte_is_refused_by_verify_and_restore_and_marks_the_backup_failed(stored_backup, operator):
    rewrite_object(stored_backup, flip_one_byte)

    error = refused_restore(operator, stored_backup)
    assert "SHA-256" in error.message

    with pytest.raises(BackupCorrupt):
        backup_verify(actor=operator, backup=stored_backup)
    stored_backup.refresh_from_db()
    assert stored_backup.status == BackupStatus.FAILED
    assert "altered or truncated" in stored_backup.error


def test_a_truncated_object_is_refused(stored_backup, operator):
    rewrite_object(stored_backup, lambda data: data[: len(data) - 100])

    error = refused_restore(operator, stored_backup)
    assert "truncated" in error.message


def test_a_backup_is_refused_under_another_key_and_the_message_names_both_key_ids(stored_backup, operator, settings):
    settings.BACKUP_ENCRYPTION_KEY = new_key()

    error = refused_restore(operator, stored_backup)

    assert isinstance(error, WrongBackupKey)
    assert stored_backup.key_id in error.message
    with pytest.raises(WrongBackupKey):
        backup_verify(actor=operator, backup=stored_backup)
    stored_backup.refresh_from_db()
    # The backup itself is fine: only the configured key is wrong, so it keeps its status.
    assert stored_backup.status == BackupStatus.SUCCEEDED
    assert "encrypted with key" in stored_backup.verify_error


def test_without_a_key_a_backup_fails_with_a_clear_error_and_stores_nothing(backup_settings, operator, settings):
    settings.BACKUP_ENCRYPTION_KEY = ""

    with pytest.raises(BackupKeyError, match="BACKUP_ENCRYPTION_KEY is not set"):
        backup_create(actor=operator)

    failed = Backup.objects.get()
    assert failed.status == BackupStatus.FAILED
    assert "BACKUP_ENCRYPTION_KEY is not set" in failed.error
    assert stored_files(settings) == []


def test_the_field_encryption_key_is_refused_as_the_backup_key(backup_settings, operator, settings):
    settings.BACKUP_ENCRYPTION_KEY = settings.FIELD_ENCRYPTION_KEYS[0]

    with pytest.raises(BackupKeyError, match="must differ from every FIELD_ENCRYPTION_KEYS"):
        backup_create(actor=operator)


# --- the stream format itself ----------------------------------------------------------------------


def sealed(plain: bytes, key: bytes, chunk: int = 16) -> bytes:
    return b"".join(encrypt_stream([plain], key=key, chunk_size=chunk))


def opened(data: bytes, key: bytes) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(data).read, key=key))


def test_chunks_cannot_be_reordered_or_dropped_even_at_a_chunk_boundary():
    key = bytes(range(32))
    plain = bytes(range(100))
    data = sealed(plain, key)
    assert opened(data, key) == plain
    frame = 16 + TAG_BYTES
    header, body = data[: HEADER.size], data[HEADER.size :]
    frames = [body[i : i + frame] for i in range(0, len(body), frame)]

    swapped = header + frames[1] + frames[0] + b"".join(frames[2:])
    with pytest.raises(BackupCorrupt, match="chunk 0"):
        opened(swapped, key)
    # Cut exactly after a whole chunk: the last one left is not flagged last, so it does not open.
    cut = header + b"".join(frames[:3])
    with pytest.raises(BackupCorrupt, match="truncated"):
        opened(cut, key)


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def same_bytes_spelled_differently(key: str) -> str:
    """Another spelling of the same 32 bytes: the 43rd character's two lowest bits are padding."""
    last = BASE64URL.index(key[42])
    return key[:42] + BASE64URL[last ^ 1] + key[43:]


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        (lambda key: key + ".", "must be 32 bytes"),  # base64 decoding would skip the stray characters
        (lambda key: key + "=.", "must be 32 bytes"),
        (lambda key: key[:20] + "*" + key[20:], "must be 32 bytes"),
        (lambda key: key.replace("=", "") + "AAAA", "must be 32 bytes"),
        (same_bytes_spelled_differently, "must differ from every FIELD_ENCRYPTION_KEYS"),
    ],
)
def test_the_field_key_is_refused_however_it_is_spelled(backup_settings, operator, settings, variant, message):
    from backups.conf import backup_key

    settings.BACKUP_ENCRYPTION_KEY = variant(settings.FIELD_ENCRYPTION_KEYS[0])

    with pytest.raises(BackupKeyError, match=message):
        backup_key()
    with pytest.raises(BackupKeyError):
        backup_create(actor=operator)
    assert not stored_files(settings)


def test_a_key_of_the_wrong_length_or_alphabet_is_refused(backup_settings, settings):
    import base64
    import os

    from backups.conf import backup_key

    for bad in (
        base64.urlsafe_b64encode(os.urandom(31)).decode(),
        base64.urlsafe_b64encode(os.urandom(33)).decode(),
        base64.b64encode(b"\xfb\xff" * 16).decode(),  # standard base64: "+" and "/", not url-safe
        new_key() + " " + new_key(),
    ):
        settings.BACKUP_ENCRYPTION_KEY = bad
        with pytest.raises(BackupKeyError, match="must be 32 bytes"):
            backup_key()
    settings.BACKUP_ENCRYPTION_KEY = f"  {new_key()}\n"  # an env file's whitespace around it is fine
    assert len(backup_key()) == 32
