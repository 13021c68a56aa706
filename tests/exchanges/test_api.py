"""The exchanges API: connecting, testing, rotating and revoking keys against the loopback emulator.

Every call reaches the emulated exchange through real ccxt. What a client would notice is checked:
the status, the error code and the test's code, what is (not) stored, and that no answer ever
carries a key or a secret.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from exchanges.models import ConnectionCheck, ExchangeConnection
from security.models import AuditEvent
from tests.accounts.helpers import signed_in_a_while_ago
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import unused_totp_code, verify_email_of
from tests.helpers import sign_in
from tests.secret_watch import watch

CONNECTIONS = "/api/v1/connections/"
TEST_KEYS = "/api/v1/connections/test/"
SECRET_FIELDS = {"api_key", "secret", "passphrase", "api_key_sealed", "secret_sealed", "passphrase_sealed"}

pytestmark = pytest.mark.django_db


def url(connection: ExchangeConnection, action: str = "") -> str:
    return f"{CONNECTIONS}{connection.pk}/{action + '/' if action else ''}"


def binance(keys: dict[str, str], **fields) -> dict:
    return {"exchange": "binance", "nickname": "Main", **keys, **fields}


def an_issued_key(emulator, name: str, **options) -> dict[str, str]:
    """Another key the emulated Binance knows (restricted as `options` say)."""
    keys = {"api_key": f"{name}-key-0001", "secret": f"{name}-secret-0001"}
    watch(*keys.values())
    emulator.add_key("binance", **keys, **options)
    return keys


def stored_ciphertext(connection: ExchangeConnection) -> tuple[str, str, str]:
    """The sealed columns as the database holds them."""
    return ExchangeConnection.objects.filter(pk=connection.pk).values_list(
        "api_key_sealed", "secret_sealed", "passphrase_sealed"
    )[0]


# --- the catalogue ----------------------------------------------------------------------------------
def test_the_catalogue_says_what_each_exchange_needs_with_fees_as_decimal_strings(owner_jwt):
    answer = owner_jwt.get("/api/v1/exchanges/")
    assert answer.status_code == 200
    by_id = {entry["id"]: entry for entry in answer.json()}
    assert {"binance", "kucoin"} <= set(by_id)
    assert by_id["kucoin"]["needs_passphrase"] is True and by_id["binance"]["needs_passphrase"] is False
    assert by_id["binance"]["maker_fee"] == "0.001", "fees are exact decimals, as strings"
    assert by_id["binance"]["guide_url"].endswith("/exchanges/guides/binance/")
    assert APIClient().get("/api/v1/exchanges/").status_code == 401, "signed-in clients only"


# --- connecting -------------------------------------------------------------------------------------
def test_good_keys_connect_and_the_answer_shows_the_test_and_the_key_hint_but_never_the_keys(
    secured_jwt, secured_owner, emulated_exchanges, binance_keys
):
    answer = secured_jwt.post(CONNECTIONS, binance(binance_keys), format="json")

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["test"]["ok"] is True and body["test"]["code"] == "ok"
    assert body["status"] == "connected" and body["exchange_name"] == "Binance"
    assert body["key_hint"] == binance_keys["api_key"][-4:]
    assert not SECRET_FIELDS & set(body)
    assert binance_keys["api_key"] not in answer.content.decode()
    assert isinstance(body["warnings"], list)
    connection = ExchangeConnection.objects.get(pk=body["id"])
    assert connection.user == secured_owner
    assert binance_keys["secret"] not in "".join(stored_ciphertext(connection)), "stored encrypted"

    listed = secured_jwt.get(CONNECTIONS).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert not SECRET_FIELDS & set(listed["results"][0])


def test_a_wrong_secret_is_refused_with_the_tests_code_and_nothing_is_stored(
    secured_jwt, emulated_exchanges, binance_keys
):
    wrong = {**binance_keys, "secret": "not-the-right-secret"}
    watch(wrong["secret"])
    answer = secured_jwt.post(CONNECTIONS, binance(wrong), format="json")

    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "connection_test_failed" and body["test_code"] == "invalid_credentials"
    assert body["detail"] and body["request_id"]
    assert not ExchangeConnection.objects.exists()


def test_a_key_bound_to_other_addresses_is_refused_as_ip_not_allowed(
    secured_jwt, exchange_emulator, emulated_exchanges
):
    keys = an_issued_key(exchange_emulator, "office-only", allowed_ips=["203.0.113.9"])
    answer = secured_jwt.post(CONNECTIONS, binance(keys), format="json")
    assert answer.status_code == 400
    assert answer.json()["test_code"] == "ip_not_allowed"
    assert not ExchangeConnection.objects.exists()


def test_an_unreachable_exchange_is_a_network_error(secured_jwt, exchange_emulator, emulated_exchanges, binance_keys):
    exchange_emulator.stop()
    answer = secured_jwt.post(CONNECTIONS, binance(binance_keys), format="json")
    assert answer.status_code == 400
    assert answer.json()["test_code"] == "network_error"


def test_keys_that_fail_their_test_are_stored_in_error_when_the_user_insists(
    secured_jwt, exchange_emulator, emulated_exchanges, binance_keys
):
    exchange_emulator.stop()
    answer = secured_jwt.post(CONNECTIONS, binance(binance_keys, save_untested=True), format="json")
    assert answer.status_code == 201
    assert answer.json()["status"] == "error" and answer.json()["test"]["code"] == "network_error"


def test_kucoin_keys_without_their_passphrase_are_a_field_error_and_never_reach_the_exchange(
    secured_jwt, exchange_emulator, emulated_exchanges, kucoin_keys
):
    keys = {name: value for name, value in kucoin_keys.items() if name != "passphrase"}
    answer = secured_jwt.post(CONNECTIONS, {"exchange": "kucoin", "nickname": "KC", **keys}, format="json")
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"passphrase"}
    assert exchange_emulator.calls("kucoin") == []
    assert not ExchangeConnection.objects.exists()


def test_kucoin_keys_with_their_passphrase_connect(secured_jwt, emulated_exchanges, kucoin_keys):
    answer = secured_jwt.post(CONNECTIONS, {"exchange": "kucoin", "nickname": "KC", **kucoin_keys}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["status"] == "connected"


def test_a_second_connection_with_the_same_nickname_is_refused(
    secured_jwt, secured_owner, emulated_exchanges, binance_keys
):
    connect(secured_owner, binance_keys, nickname="Main")
    answer = secured_jwt.post(CONNECTIONS, binance(binance_keys, nickname=" Main "), format="json")
    assert answer.status_code == 400
    assert "You already have a connection with this nickname." in str(answer.json()["errors"])
    assert ExchangeConnection.objects.count() == 1


def test_an_unknown_exchange_is_a_field_error(secured_jwt, binance_keys):
    answer = secured_jwt.post(CONNECTIONS, {**binance(binance_keys), "exchange": "mtgox"}, format="json")
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["exchange"]


def test_without_a_fresh_second_factor_connecting_is_refused_with_the_gates_code_until_a_code_is_sent(
    secured_owner, emulated_exchanges, binance_keys
):
    client = signed_in_a_while_ago(secured_owner)
    refused = client.post(CONNECTIONS, binance(binance_keys), format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"
    assert not ExchangeConnection.objects.exists()

    fresh = client.post(CONNECTIONS, binance(binance_keys, otp_code=unused_totp_code(secured_owner)), format="json")
    assert fresh.status_code == 201, fresh.json()


def test_an_account_without_two_factor_cannot_connect_an_exchange(owner, emulated_exchanges, binance_keys):
    verify_email_of(owner)
    client = APIClient()
    sign_in(client, owner.email)
    refused = client.post(CONNECTIONS, binance(binance_keys), format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "two_factor_required"


# --- testing keys -----------------------------------------------------------------------------------
def test_testing_unsaved_keys_answers_the_result_even_when_the_exchange_refuses_them(
    owner_jwt, emulated_exchanges, binance_keys
):
    wrong = {**binance_keys, "secret": "not-the-right-secret"}
    watch(wrong["secret"])
    refused = owner_jwt.post(TEST_KEYS, {"exchange": "binance", **wrong}, format="json")
    assert refused.status_code == 200, "the test ran; its outcome is not a client error"
    assert refused.json()["ok"] is False and refused.json()["code"] == "invalid_credentials"
    assert refused.json()["message"]

    accepted = owner_jwt.post(TEST_KEYS, {"exchange": "binance", **binance_keys}, format="json")
    assert accepted.json()["ok"] is True and isinstance(accepted.json()["latency_ms"], int)
    assert not ExchangeConnection.objects.exists(), "testing stores nothing"


def test_testing_keys_and_testing_a_connection_share_one_limit_per_address(
    owner, owner_jwt, settings, emulated_exchanges, binance_keys
):
    connection = connect(owner, binance_keys)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "connection_test": "2/m"}
    answers = [owner_jwt.post(TEST_KEYS, {"exchange": "binance", **binance_keys}, format="json") for _ in range(2)]
    answers.append(owner_jwt.post(url(connection, "test")))
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[-1].json()["code"] == "rate_limited" and answers[-1]["Retry-After"]
    assert owner_jwt.get(url(connection)).status_code == 200, "reads are not limited by the group"


def test_testing_a_connection_now_updates_its_status_and_latency_history(
    owner, owner_jwt, exchange_emulator, emulated_exchanges, binance_keys
):
    connection = connect(owner, binance_keys)
    exchange_emulator.set_fault("binance", "maintenance")
    failed = owner_jwt.post(url(connection, "test"))
    assert failed.status_code == 200
    assert failed.json()["ok"] is False and failed.json()["code"] == "exchange_unavailable"
    assert failed.json()["status"] == "degraded"

    exchange_emulator.set_fault("binance", None)
    passed = owner_jwt.post(url(connection, "test")).json()
    assert passed["ok"] is True and passed["status"] == "connected"

    history = owner_jwt.get(url(connection, "checks")).json()
    assert [(point["trigger"], point["code"]) for point in history] == [
        ("connect", "ok"),
        ("manual", "exchange_unavailable"),
        ("manual", "ok"),
    ]
    detail = owner_jwt.get(url(connection)).json()
    assert detail["status"] == "connected" and detail["last_error_code"] == ""


# --- editing, rotating, revoking --------------------------------------------------------------------
def test_a_connection_is_renamed_and_its_features_changed(owner, owner_jwt, emulated_exchanges, binance_keys):
    connection = connect(owner, binance_keys)
    answer = owner_jwt.patch(url(connection), {"nickname": "Savings", "features": ["wallet"]}, format="json")
    assert answer.status_code == 200
    assert answer.json()["nickname"] == "Savings" and answer.json()["features"] == ["wallet"]
    unknown = owner_jwt.patch(url(connection), {"features": ["lending"]}, format="json")
    assert unknown.status_code == 400 and "features" in unknown.json()["errors"]


def test_rotating_to_keys_that_fail_keeps_the_old_key_and_good_new_keys_replace_it(
    owner, secured_jwt, secured_owner, exchange_emulator, emulated_exchanges, binance_keys
):
    connection = connect(secured_owner, binance_keys)
    old_hint = connection.key_hint
    unknown = {"api_key": "never-issued-key-9999", "secret": "never-issued-secret-9999"}
    watch(*unknown.values())

    refused = secured_jwt.post(url(connection, "rotate"), unknown, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "connection_test_failed" and refused.json()["test_code"]
    assert secured_jwt.get(url(connection)).json()["key_hint"] == old_hint

    new_keys = an_issued_key(exchange_emulator, "rotated")
    rotated = secured_jwt.post(url(connection, "rotate"), new_keys, format="json")
    assert rotated.status_code == 200, rotated.json()
    assert rotated.json()["key_hint"] == new_keys["api_key"][-4:] != old_hint
    assert rotated.json()["test"]["ok"] is True


def test_revoking_wipes_the_keys_keeps_the_record_and_then_refuses_tests_edits_and_rotations(
    secured_owner, secured_jwt, emulated_exchanges, binance_keys
):
    connection = connect(secured_owner, binance_keys)
    assert all(stored_ciphertext(connection)[:2])

    answer = secured_jwt.delete(url(connection))
    assert answer.status_code == 204
    assert stored_ciphertext(connection) == ("", "", "")
    detail = secured_jwt.get(url(connection)).json()
    assert detail["status"] == "revoked" and detail["revoked_at"]

    assert secured_jwt.get(CONNECTIONS).json()["results"] == [], "revoked connections are hidden by default"
    assert [row["id"] for row in secured_jwt.get(f"{CONNECTIONS}?include_revoked=true").json()["results"]] == [
        connection.pk
    ]
    assert len(secured_jwt.get(f"{CONNECTIONS}?status=revoked").json()["results"]) == 1
    for refused in (
        secured_jwt.post(url(connection, "test")),
        secured_jwt.patch(url(connection), {"nickname": "Again"}, format="json"),
        secured_jwt.post(
            url(connection, "rotate"), {**binance_keys, "otp_code": unused_totp_code(secured_owner)}, format="json"
        ),
    ):
        assert refused.status_code == 409 and refused.json()["code"] == "connection_revoked"
    assert secured_jwt.delete(url(connection)).status_code == 204, "revoking again changes nothing"


def test_the_audit_trail_lists_what_happened_to_the_connections(owner, owner_jwt, emulated_exchanges, binance_keys):
    connection = connect(owner, binance_keys)
    owner_jwt.post(url(connection, "test"))
    owner_jwt.delete(url(connection))
    assert AuditEvent.objects.filter(user=owner, action="auth.token_issued").exists(), "signing in was recorded too"

    rows = owner_jwt.get(f"{CONNECTIONS}audit/").json()["results"]
    assert [row["action"] for row in rows] == ["exchange.revoked", "exchange.tested", "exchange.connected"]
    assert rows[0]["details"]["nickname"] == "Main" and rows[0]["action_label"]


# --- who may do what --------------------------------------------------------------------------------
def test_another_users_connection_is_not_found_for_every_method_and_stays_as_it_was(
    owner, outsider_jwt, emulated_exchanges, binance_keys
):
    connection = connect(owner, binance_keys)
    before = ExchangeConnection.objects.filter(pk=connection.pk).values().get()
    answers = [
        outsider_jwt.get(url(connection)),
        outsider_jwt.patch(url(connection), {"nickname": "Mine now"}, format="json"),
        outsider_jwt.delete(url(connection)),
        outsider_jwt.post(url(connection, "test")),
        outsider_jwt.post(url(connection, "rotate"), binance_keys, format="json"),
        outsider_jwt.get(url(connection, "checks")),
    ]
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert ExchangeConnection.objects.filter(pk=connection.pk).values().get() == before
    assert ConnectionCheck.objects.filter(connection=connection).count() == 1, "no test ran for the outsider"
    assert outsider_jwt.get(CONNECTIONS).json()["results"] == []


def test_an_api_key_with_the_read_scope_reads_connections_but_cannot_change_them(
    owner, emulated_exchanges, binance_keys
):
    connection = connect(owner, binance_keys)
    _, raw_key = api_key_create(actor=TEST_ACTOR, user=owner, name="Reader", scopes=["read", "trade"])
    client = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    assert client.get(CONNECTIONS).status_code == 200
    assert client.get(url(connection)).status_code == 200
    refused = [
        client.post(CONNECTIONS, binance(binance_keys, nickname="Bot"), format="json"),
        client.post(TEST_KEYS, {"exchange": "binance", **binance_keys}, format="json"),
        client.post(url(connection, "test")),
        client.patch(url(connection), {"nickname": "Bot"}, format="json"),
        client.delete(url(connection)),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    assert refused[0].json()["code"] == "permission_denied"
    assert ExchangeConnection.objects.get().is_active
