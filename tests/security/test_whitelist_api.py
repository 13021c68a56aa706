"""/api/v1/security/whitelist/withdrawal/: the whitelist for integrations (JWT clients)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from accounts.models import TOTPDevice
from accounts.services.api_keys import api_key_create
from security.models import AuditEvent, WithdrawalAddress
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import turn_on_totp, unused_totp_code, verify_email_of
from tests.helpers import sign_in
from tests.security.test_whitelist import after_a_moment

pytestmark = pytest.mark.django_db

URL = "/api/v1/security/whitelist/withdrawal/"
MODE_URL = "/api/v1/security/whitelist/withdrawal/mode/"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
EIP55 = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def verified_session(user) -> APIClient:
    """A browser session that signed in with the second factor, minutes ago (no fresh step-up)."""
    client = APIClient()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return client


def body(user, **fields) -> dict:
    return {
        "asset": "BTC",
        "network": "BTC",
        "address": BTC_ADDRESS,
        "label": "Cold storage",
        "otp_code": unused_totp_code(user),
        **fields,
    }


def test_adding_answers_the_address_cooling_down_and_the_list_shows_it(secured_jwt, secured_owner, settings):
    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 24

    created = secured_jwt.post(
        URL, body(secured_owner, asset="ETH", network="ETH", address=EIP55.lower()), format="json"
    )

    assert created.status_code == 201, created.json()
    answer = created.json()
    assert answer["address"] == EIP55 and answer["usable"] is False
    assert "otp_code" not in answer
    listed = secured_jwt.get(URL).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(row["id"], row["usable"], row["usable_from"]) for row in rows] == [
        (answer["id"], False, answer["usable_from"])
    ]


def test_the_list_says_usable_once_the_cooldown_has_passed(secured_owner):
    verified_session(secured_owner).post(URL, body(secured_owner), format="json")
    address = WithdrawalAddress.objects.get()

    with time_machine.travel(address.usable_from + timedelta(seconds=1), tick=False):
        listed = verified_session(secured_owner).get(URL).json()  # signed in again: a day has passed

    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["usable"] is True


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"address": BTC_ADDRESS[:-1] + "x"}, "address", id="wrong checksum"),
        pytest.param({"asset": "ETH", "network": "ETH", "address": EIP55[:-1] + "D"}, "address", id="eip55 case"),
        pytest.param({"asset": "USDT", "network": "TRX", "address": EIP55}, "address", id="wrong network"),
        pytest.param({"asset": "ZZZ"}, "asset", id="unknown asset"),
        pytest.param({"network": "MOON"}, "network", id="unknown network"),
        pytest.param({"memo": "1234"}, "memo", id="memo where the chain has none"),
        pytest.param({"label": ""}, "label", id="no label"),
        pytest.param({"address": "x" * 200}, "address", id="too long"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(secured_jwt, secured_owner, fields, field):
    answer = secured_jwt.post(URL, body(secured_owner, **fields), format="json")

    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["errors"], answer.json()
    assert not WithdrawalAddress.objects.exists()


def test_a_wrong_code_is_refused_and_nothing_is_written(secured_jwt, secured_owner):
    answer = secured_jwt.post(URL, body(secured_owner, otp_code="000000"), format="json")

    assert answer.status_code == 400 and answer.json()["code"] == "invalid_code"
    assert "000000" not in answer.content.decode()
    assert not WithdrawalAddress.objects.exists()
    assert not AuditEvent.objects.filter(action="withdrawal_address.added").exists()


def test_the_same_address_twice_is_a_clear_error(secured_jwt, secured_owner):
    secured_jwt.post(URL, body(secured_owner), format="json")
    again = secured_jwt.post(URL, body(secured_owner, label="Again"), format="json")

    assert again.status_code == 400
    assert again.json()["code"] == "duplicate_address" and "address" in again.json()["errors"]


def test_removing_needs_the_code_in_the_body(secured_jwt, secured_owner):
    created = secured_jwt.post(URL, body(secured_owner), format="json").json()

    refused = secured_jwt.delete(f"{URL}{created['id']}/", {"otp_code": "000000"}, format="json")
    assert refused.status_code == 400
    after_a_moment(secured_owner)
    removed = secured_jwt.delete(f"{URL}{created['id']}/", {"otp_code": unused_totp_code(secured_owner)}, format="json")

    assert removed.status_code == 204
    assert WithdrawalAddress.objects.get().removed_at is not None
    assert secured_jwt.get(f"{URL}{created['id']}/").status_code == 404
    assert secured_jwt.get(URL).json() in ([], {"count": 0, "next": None, "previous": None, "results": []})


def test_another_users_address_is_not_found_for_reading_or_removing(secured_jwt, secured_owner, outsider):
    created = secured_jwt.post(URL, body(secured_owner), format="json").json()
    verify_email_of(outsider)
    turn_on_totp(outsider)
    stranger = APIClient()
    sign_in(stranger, outsider.email, otp_code=unused_totp_code(outsider))

    assert stranger.get(f"{URL}{created['id']}/").status_code == 404
    answer = stranger.delete(f"{URL}{created['id']}/", {"otp_code": unused_totp_code(outsider)}, format="json")
    assert answer.status_code == 404
    assert WithdrawalAddress.objects.get().removed_at is None
    assert secured_jwt.get(f"{URL}{created['id']}/").status_code == 200


def test_whitelist_only_mode_reads_and_switches(secured_owner):
    """A session client with no recent step-up: turning the mode off asks for the code."""
    secured_jwt = verified_session(secured_owner)
    assert secured_jwt.get(MODE_URL).json() == {"whitelist_only": True, "off_from": None}

    refused = secured_jwt.put(MODE_URL, {"whitelist_only": False}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"

    off = secured_jwt.put(
        MODE_URL, {"whitelist_only": False, "otp_code": unused_totp_code(secured_owner)}, format="json"
    )
    secured_owner.refresh_from_db()
    off_from = secured_owner.withdrawal_whitelist_off_from
    expected = {"whitelist_only": True, "off_from": off_from.isoformat().replace("+00:00", "Z")}
    assert off.json() == expected, "still on until the cooldown is over"
    assert secured_jwt.get(MODE_URL).json() == expected
    with time_machine.travel(off_from):  # a day later: a new session (the old one idled out)
        assert verified_session(secured_owner).get(MODE_URL).json() == {"whitelist_only": False, "off_from": None}
    on = secured_jwt.put(MODE_URL, {"whitelist_only": True}, format="json")
    assert on.json() == {"whitelist_only": True, "off_from": None}
    assert AuditEvent.objects.filter(action="whitelist.mode_changed").count() == 2


def test_an_api_key_may_read_the_whitelist_but_never_change_it(secured_owner):
    _key, raw = api_key_create(actor=TEST_ACTOR, user=secured_owner, name="Bot", scopes=["read", "trade", "withdraw"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert client.get(URL).status_code == 200
    assert client.get(MODE_URL).status_code == 200
    assert client.post(URL, body(secured_owner), format="json").status_code == 403
    assert client.put(MODE_URL, {"whitelist_only": False}, format="json").status_code == 403
    assert not WithdrawalAddress.objects.exists()
