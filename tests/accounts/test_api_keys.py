"""Personal API keys: what a key may do (its scopes), from where (its allowlist), until when,
and that the list, the detail and revoking only ever reach the owner's own keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.codes import token_digest
from accounts.models import ApiKey
from accounts.services.api_keys import api_key_create
from tests.factories import TEST_ACTOR

OFFICE = "203.0.113.0/24"


def make_key(user, *, scopes=("read",), allowed_ips=(), expires_at=None, name="Script") -> tuple[ApiKey, str]:
    return api_key_create(
        actor=TEST_ACTOR,
        user=user,
        name=name,
        scopes=list(scopes),
        allowed_ips=list(allowed_ips),
        expires_at=expires_at,
    )


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


@pytest.mark.django_db
def test_a_read_key_reads_me_but_cannot_touch_the_account_or_write(owner):
    _, raw = make_key(owner)
    client = key_client(raw)
    me = client.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["email"] == owner.email
    for path in ("/api/v1/auth/profile/", "/api/v1/auth/api-keys/", "/api/v1/auth/sessions/", "/api/v1/auth/export/"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "API keys cannot be used for this endpoint" in refused.json()["detail"]
    assert client.patch("/api/v1/auth/profile/", {"name": "Hacked"}, format="json").status_code == 403
    assert client.post("/api/v1/me/", {}, format="json").status_code == 403
    assert (
        client.post("/api/v1/auth/api-keys/", {"name": "x", "scopes": ["withdraw"]}, format="json").status_code == 403
    )
    owner.refresh_from_db()
    assert owner.name == "Olive Owner"


@pytest.mark.django_db
def test_the_same_key_in_the_x_api_key_header_works(owner):
    _, raw = make_key(owner)
    assert APIClient().get("/api/v1/me/", HTTP_X_API_KEY=raw).status_code == 200


@pytest.mark.django_db
def test_a_key_without_the_read_scope_cannot_read(owner):
    _, raw = make_key(owner, scopes=["trade"])
    answer = key_client(raw).get("/api/v1/me/")
    assert answer.status_code == 403 and "lacks the 'read' scope" in answer.json()["detail"]


@pytest.mark.django_db
def test_a_key_works_only_from_its_allowlist_whatever_x_forwarded_for_says(owner):
    _, raw = make_key(owner, allowed_ips=[OFFICE])
    client = key_client(raw)
    assert client.get("/api/v1/me/", REMOTE_ADDR="203.0.113.9").status_code == 200
    outside = client.get("/api/v1/me/", REMOTE_ADDR="198.51.100.7")
    assert outside.status_code == 403 and "198.51.100.7" in outside.json()["detail"]
    spoofed = client.get("/api/v1/me/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert spoofed.status_code == 403, "a header the client writes is not its address"


@pytest.mark.django_db
def test_revoked_expired_and_made_up_keys_are_401(owner):
    revoked, revoked_raw = make_key(owner, name="Old")
    revoked.revoked_at = timezone.now()
    revoked.save()
    expired, expired_raw = make_key(owner, name="Temp", expires_at=timezone.now() + timedelta(days=1))
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _, good_raw = make_key(owner, name="Good")
    for raw in (revoked_raw, expired_raw, good_raw[:-2] + "xx", "cvk_nothing_here"):
        answer = key_client(raw).get("/api/v1/me/")
        assert answer.status_code == 401, raw
        assert answer["WWW-Authenticate"] == "Api-Key"


@pytest.mark.django_db
def test_each_use_records_when_and_from_where(owner):
    key, raw = make_key(owner)
    assert key.last_used_at is None
    key_client(raw).get("/api/v1/me/", REMOTE_ADDR="192.0.2.44")
    key.refresh_from_db()
    assert key.last_used_ip == "192.0.2.44"
    assert timezone.now() - key.last_used_at < timedelta(seconds=5)


@pytest.mark.django_db
def test_the_owner_lists_and_reads_their_keys_without_the_secret(owner_jwt, owner):
    key, raw = make_key(owner, allowed_ips=[OFFICE])
    listing = owner_jwt.get("/api/v1/auth/api-keys/")
    assert listing.status_code == 200
    (row,) = listing.json()["results"]
    assert row["name"] == "Script" and row["prefix"] == key.prefix and row["allowed_ips"] == [OFFICE]
    assert row["is_active"] is True
    detail = owner_jwt.get(f"/api/v1/auth/api-keys/{key.pk}/")
    assert detail.status_code == 200
    for answer in (listing, detail):
        assert raw not in answer.content.decode() and key.key_digest not in answer.content.decode()
        assert "key" not in row and "key_digest" not in row


@pytest.mark.django_db
def test_another_users_key_is_not_found_and_stays_active(owner_jwt, outsider):
    theirs, raw = make_key(outsider)
    assert owner_jwt.get(f"/api/v1/auth/api-keys/{theirs.pk}/").status_code == 404
    assert owner_jwt.delete(f"/api/v1/auth/api-keys/{theirs.pk}/").status_code == 404
    assert owner_jwt.get("/api/v1/auth/api-keys/").json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert key_client(raw).get("/api/v1/me/").status_code == 200


@pytest.mark.django_db
def test_revoking_a_key_stops_it_at_once(owner_jwt, owner):
    key, raw = make_key(owner)
    assert owner_jwt.delete(f"/api/v1/auth/api-keys/{key.pk}/").status_code == 204
    assert key_client(raw).get("/api/v1/me/").status_code == 401
    assert owner_jwt.get(f"/api/v1/auth/api-keys/{key.pk}/").json()["revoked_at"]


@pytest.mark.django_db
def test_listing_keys_costs_the_same_queries_for_one_key_or_many(owner_jwt, owner):
    make_key(owner, name="First")
    with CaptureQueriesContext(connection) as one:
        assert len(owner_jwt.get("/api/v1/auth/api-keys/").json()["results"]) == 1
    for n in range(5):
        make_key(owner, name=f"More {n}")
    with CaptureQueriesContext(connection) as six:
        assert len(owner_jwt.get("/api/v1/auth/api-keys/").json()["results"]) == 6
    assert len(six) == len(one)


@pytest.mark.django_db
def test_listing_keys_takes_three_queries(owner_jwt, owner, django_assert_num_queries):
    for n in range(3):
        make_key(owner, name=f"Key {n}")
    with django_assert_num_queries(3):  # the token's user, the count, the page
        owner_jwt.get("/api/v1/auth/api-keys/")


@pytest.mark.django_db
def test_a_bad_allowlist_entry_or_a_past_expiry_is_a_400_on_that_field(owner_jwt):
    answer = owner_jwt.post(
        "/api/v1/auth/api-keys/",
        {
            "name": "Bad",
            "scopes": ["read", "fly"],
            "allowed_ips": ["not-an-ip"],
            "expires_at": "2001-01-01T00:00:00Z",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"scopes", "allowed_ips", "expires_at"}


@pytest.mark.django_db
def test_a_key_whose_secret_contains_underscores_still_signs_in(owner):
    # token_urlsafe secrets contain "_" about half the time; the key format must not trip on it.
    raw_key = "cvk_0a1b2c3d_se_cr_et-with_under_scores"
    ApiKey.objects.create(
        user=owner, name="Script", prefix="0a1b2c3d", key_digest=token_digest(raw_key), scopes=["read"]
    )
    answer = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    assert answer.status_code == 200 and answer.json()["email"] == owner.email
