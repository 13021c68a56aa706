"""Backups through django-storages' S3 backend, against moto's S3 server on a loopback port: what
production runs (an S3-compatible bucket), with real HTTP, signatures and multipart uploads."""

from __future__ import annotations

import socket

import pytest
from botocore.config import Config

from backups.conf import storage
from backups.errors import StorageUnavailable
from backups.models import Backup, BackupStatus
from backups.services import backup_create, backup_restore, backup_verify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
BUCKET = "cv-backups-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_storage(endpoint: str) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": endpoint,
            "access_key": "cv-test-access",
            "secret_key": "cv-test-secret",
            "region_name": "us-east-1",
            "file_overwrite": False,
            "client_config": Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
        },
    }


@pytest.fixture
def s3_backups(backup_settings, s3_server):
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="cv-test-access",
        aws_secret_access_key="cv-test-secret",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    backup_settings.STORAGES = {**backup_settings.STORAGES, "backups": s3_storage(s3_server)}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_a_backup_goes_to_the_bucket_verifies_and_restores_from_it(s3_backups, operator, settings):
    for number in range(5):
        UserFactory(email=f"s3-{number}@example.com")
    # Big enough chunks and data to need several reads of the stream, small enough to be quick.
    backup = backup_create(actor=operator)

    stored = s3_backups.head_object(Bucket=BUCKET, Key=backup.storage_name)
    assert stored["ContentLength"] == backup.size
    assert backup.storage_name.startswith("backups/") and backup.storage_name.endswith(".cvbk")
    assert backup_verify(actor=operator, backup=backup).status == BackupStatus.VERIFIED
    result = backup_restore(actor=operator, backup=backup, target="scratch", database="cv_backups_s3_scratch")
    try:
        assert users_in(result.database) == 5
    finally:
        _drop_scratch(result.database)


def test_object_names_sort_by_time(s3_backups, operator):
    first = backup_create(actor=operator)
    second = backup_create(actor=operator)
    keys = [item["Key"] for item in s3_backups.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == sorted(keys) == [first.storage_name, second.storage_name]


def test_an_unreachable_bucket_fails_the_run_and_says_so(backup_settings, operator):
    backup_settings.STORAGES = {**backup_settings.STORAGES, "backups": s3_storage(f"http://127.0.0.1:{free_port()}")}

    with pytest.raises(StorageUnavailable):
        backup_create(actor=operator)

    failed = Backup.objects.get()
    assert failed.status == BackupStatus.FAILED
    assert "Backup storage is unreachable" in failed.error
    assert storage().exists  # the storage object itself is fine; only its endpoint is down


def users_in(database: str) -> int:
    """Rows of accounts_user in a restored scratch database (a file for SQLite, a name for PostgreSQL)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        # read-only: a plain connect would create the file the restore has not written yet (and an
        # existing file not named as a scratch database is refused)
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as scratch:
            return scratch.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
    import psycopg

    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if key in ("user", "host", "port", "password")
    }
    with psycopg.connect(dbname=database, **params) as scratch:
        return scratch.execute("SELECT count(*) FROM accounts_user").fetchone()[0]


def _drop_scratch(database: str) -> None:
    from pathlib import Path

    from backups.engines import PostgresEngine, engine_for

    engine = engine_for("default")
    if isinstance(engine, PostgresEngine):
        engine.drop(database)
    else:
        Path(database).unlink(missing_ok=True)
