"""The staff API (accounts, backups, the websocket figures) under the admin's rule
(cryptovault.admin_gate): staff powers need 2FA switched on and given at this sign-in, whichever
door, and answer only from ADMIN_ALLOWED_NETWORKS (404 elsewhere, as the admin)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.services.api_keys import api_key_create
from accounts.services.auth import AUTH_EPOCH_CLAIM
from backups.models import Backup
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import turn_on_totp, unused_totp_code
from tests.helpers import admin_signed_in, sign_in, with_access

pytestmark = pytest.mark.django_db

STAFF_READS = ["/api/v1/auth/users/", "/api/v1/backups/", "/api/v1/backups/status/", "/api/v1/ws/stats/"]
OFFICE = "10.0.0.0/8"


def refused(answer, code: str) -> bool:
    return answer.status_code == 403 and answer.json()["code"] == code


def test_staff_without_two_factor_are_sent_to_turn_it_on_by_every_staff_endpoint(staff_user):
    client = APIClient()
    sign_in(client, staff_user.email)  # a password alone still signs in: their own data stays theirs
    assert client.get("/api/v1/me/").status_code == 200
    for url in STAFF_READS:
        answer = client.get(url)
        assert refused(answer, "two_factor_required"), url
        assert "two-factor" in answer.json()["detail"]
    assert refused(client.post("/api/v1/backups/"), "two_factor_required")
    live = client.post("/api/v1/backups/1/restore/", {"target": "live", "confirm": "x"}, format="json")
    assert refused(live, "two_factor_required")
    assert not Backup.objects.exists()


def test_a_token_whose_sign_in_gave_no_second_factor_must_sign_in_again_with_it(staff_user):
    turn_on_totp(staff_user)
    refresh = RefreshToken.for_user(staff_user)  # a script's token: current, but no second factor in it
    refresh[AUTH_EPOCH_CLAIM] = staff_user.auth_epoch
    client = with_access(APIClient(), str(refresh.access_token))
    assert client.get("/api/v1/me/").status_code == 200
    for url in STAFF_READS:
        assert refused(client.get(url), "step_up_required"), url
    assert refused(client.post("/api/v1/backups/"), "step_up_required")
    assert not Backup.objects.exists()


def test_staff_who_gave_the_second_factor_at_sign_in_use_the_staff_api(staff_user):
    turn_on_totp(staff_user)
    token = APIClient()
    sign_in(token, staff_user.email, otp_code=unused_totp_code(staff_user))
    session = admin_signed_in(APIClient(), staff_user)
    for url in STAFF_READS:
        assert token.get(url).status_code == 200, url
        assert session.get(url).status_code == 200, url


def test_a_session_that_did_not_finish_the_second_factor_reaches_no_staff_endpoint(staff_user):
    turn_on_totp(staff_user)
    half = APIClient()
    half.force_login(staff_user)  # password given, code not yet
    for url in STAFF_READS:
        assert half.get(url).status_code in (401, 403), url


def test_a_staff_members_api_key_is_no_second_factor(staff_user):
    turn_on_totp(staff_user)
    _, raw = api_key_create(actor=TEST_ACTOR, user=staff_user, name="Monitor", scopes=["read"])
    key = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert key.get("/api/v1/me/").status_code == 200
    for url in STAFF_READS:
        assert key.get(url).status_code == 403, url


def test_outside_the_admin_networks_the_staff_api_is_not_found(staff_user, settings):
    settings.ADMIN_ALLOWED_NETWORKS = [OFFICE]
    turn_on_totp(staff_user)
    outside = APIClient(REMOTE_ADDR="203.0.113.5")
    sign_in(outside, staff_user.email, otp_code=unused_totp_code(staff_user))
    for url in STAFF_READS:
        assert outside.get(url).status_code == 404, url
    assert outside.post("/api/v1/backups/").status_code == 404
    assert outside.get("/api/v1/me/").status_code == 200, "the rest of the API is everyone's"
    assert not Backup.objects.exists()

    inside = APIClient(REMOTE_ADDR="10.1.2.3")
    sign_in(inside, staff_user.email, otp_code=unused_totp_code(staff_user))
    for url in STAFF_READS:
        assert inside.get(url).status_code == 200, url
    spoofed = outside.get("/api/v1/auth/users/", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert spoofed.status_code == 404, "a forwarded address from an untrusted client opens nothing"
