"""/api/v1/wallet/: withdrawals requested, listed, filtered, read and cancelled; clear 400s (per field) and
409s that write nothing; deposit addresses from the exchange (through ccxt and the emulator) and simulated
paper deposits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import APP_BINANCE_KEYS
from tests.trading.helpers import paper_account, synced_exchange_account, tick
from tests.trading.wallet_helpers import balance_of, nothing_withdrawn, whitelisted
from trading.models import LedgerEntry, Withdrawal

pytestmark = pytest.mark.django_db

WITHDRAWALS = "/api/v1/wallet/withdrawals/"


@pytest.fixture
def paper(secured_owner):
    return paper_account(secured_owner)


@pytest.fixture
def address(secured_owner):
    return whitelisted(secured_owner)


def request_body(address, **fields):
    return {"asset": "USDT", "network": "ETH", "amount": "100", "destination": address.pk, **fields}


def test_a_withdrawal_is_requested_listed_read_and_cancelled(secured_jwt, paper, address):
    created = secured_jwt.post(WITHDRAWALS, request_body(address, amount="250"), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["amount"], body["fee"], body["cancellable"]) == ("pending", "250", "4", True)
    assert body["account"] == paper.pk and body["destination"] == address.pk
    assert balance_of(paper) == Decimal("9750")

    listed = secured_jwt.get(WITHDRAWALS, {"status": "pending", "asset": "usdt"}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert secured_jwt.get(WITHDRAWALS, {"status": "completed"}).json()["results"] == []
    assert secured_jwt.get(f"{WITHDRAWALS}{body['id']}/").json()["address"] == address.address

    cancelled = secured_jwt.post(f"{WITHDRAWALS}{body['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert balance_of(paper) == Decimal("10000")
    again = secured_jwt.post(f"{WITHDRAWALS}{body['id']}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "withdrawal_not_cancellable"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"amount": "5"}, "amount", id="below the minimum"),
        pytest.param({"amount": "3.5"}, "amount", id="not above the fee"),
        pytest.param({"amount": "abc"}, "amount", id="not a number"),
        pytest.param({"network": "NOPE"}, "network", id="unknown network"),
        pytest.param({"asset": "XYZ"}, "asset", id="unknown asset"),
        pytest.param({"destination": None}, "destination", id="no destination"),
        pytest.param({"account": 999999}, "account", id="not your account"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(secured_jwt, paper, address, fields, field):
    answer = secured_jwt.post(WITHDRAWALS, request_body(address, **fields), format="json")
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["errors"]
    assert nothing_withdrawn(paper)


def test_over_the_balance_is_a_400_with_the_numbers(secured_jwt, paper, address):
    answer = secured_jwt.post(WITHDRAWALS, request_body(address, amount="20000"), format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "insufficient_funds" and answer.json()["available"] == "10000"
    assert nothing_withdrawn(paper)


def test_over_the_daily_limit_is_a_400_with_the_numbers(secured_jwt, paper, address, settings):
    settings.WITHDRAWAL_DAILY_LIMIT_USDT = "500"
    assert secured_jwt.post(WITHDRAWALS, request_body(address, amount="400"), format="json").status_code == 201
    answer = secured_jwt.post(WITHDRAWALS, request_body(address, amount="101"), format="json")
    assert answer.status_code == 400
    assert (answer.json()["code"], answer.json()["limit"], answer.json()["used"]) == (
        "daily_limit_exceeded",
        "500.00",
        "400.00",
    )
    assert Withdrawal.objects.count() == 1


def test_an_address_cooling_down_is_refused_with_when(secured_jwt, paper, secured_owner):
    fresh = whitelisted(secured_owner, cooled=False)
    answer = secured_jwt.post(WITHDRAWALS, request_body(fresh), format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "address_cooling_down" and "usable_from" in answer.json()
    assert nothing_withdrawn(paper)


def test_a_wrong_second_factor_code_is_refused_and_nothing_is_written(secured_jwt, paper, address):
    answer = secured_jwt.post(WITHDRAWALS, request_body(address, otp_code="000000"), format="json")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_code"
    assert nothing_withdrawn(paper)


def api_key_client(user, scopes):
    from rest_framework.test import APIClient

    from accounts.services.api_keys import api_key_create
    from tests.factories import TEST_ACTOR

    _, raw = api_key_create(actor=TEST_ACTOR, user=user, name="Treasury", scopes=scopes)
    return APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")


def test_an_api_key_with_the_withdraw_scope_withdraws_with_a_second_factor_code_and_cancels(
    secured_owner, paper, address
):
    from tests.fakes.authenticator import unused_totp_code

    key = api_key_client(secured_owner, ["read", "withdraw"])
    without_code = key.post(WITHDRAWALS, request_body(address), format="json")
    assert without_code.status_code == 403 and without_code.json()["code"] == "step_up_required"
    assert nothing_withdrawn(paper)
    # the whitelist and its cooldown hold for keys too
    fresh = whitelisted(secured_owner, network="TRX", address="TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", cooled=False)
    body = request_body(fresh, network="TRX", otp_code=unused_totp_code(secured_owner))
    cooling = key.post(WITHDRAWALS, body, format="json")
    assert cooling.status_code == 409 and cooling.json()["code"] == "address_cooling_down"
    assert nothing_withdrawn(paper)

    created = key.post(WITHDRAWALS, request_body(address, otp_code=unused_totp_code(secured_owner)), format="json")
    assert created.status_code == 201, created.json()
    assert balance_of(paper) == Decimal("9900")
    cancelled = key.post(f"{WITHDRAWALS}{created.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert balance_of(paper) == Decimal("10000")
    wrong = key.post(WITHDRAWALS, request_body(address, otp_code="000000"), format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_code"


def test_an_api_key_without_the_withdraw_scope_cannot_request_or_cancel(secured_owner, secured_jwt, paper, address):
    from tests.fakes.authenticator import unused_totp_code

    created = secured_jwt.post(WITHDRAWALS, request_body(address), format="json").json()
    key = api_key_client(secured_owner, ["read", "trade"])
    refused = key.post(WITHDRAWALS, request_body(address, otp_code=unused_totp_code(secured_owner)), format="json")
    assert refused.status_code == 403 and "'withdraw' scope" in refused.json()["detail"]
    assert key.post(f"{WITHDRAWALS}{created['id']}/cancel/").status_code == 403
    assert key.get(WITHDRAWALS).status_code == 200  # reading needs `read` only
    assert Withdrawal.objects.get().status == "pending"


def test_another_users_withdrawal_is_not_found(secured_jwt, paper, address, outsider_jwt):
    created = secured_jwt.post(WITHDRAWALS, request_body(address), format="json").json()
    assert outsider_jwt.get(f"{WITHDRAWALS}{created['id']}/").status_code == 404
    assert outsider_jwt.post(f"{WITHDRAWALS}{created['id']}/cancel/").status_code == 404
    assert outsider_jwt.get(WITHDRAWALS).json()["results"] == []
    assert Withdrawal.objects.get().status == "pending"


def test_a_simulated_paper_deposit_is_a_deposit_entry(secured_jwt, paper):
    tick({"BTC/USDT": "50000"})
    answer = secured_jwt.post("/api/v1/wallet/deposits/", {"asset": "BTC", "amount": "0.25"}, format="json")
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["kind"], answer.json()["amount"], answer.json()["asset"]) == ("deposit", "0.25", "BTC")
    assert balance_of(paper, "BTC") == Decimal("0.25")
    too_much = secured_jwt.post("/api/v1/wallet/deposits/", {"asset": "BTC", "amount": "3"}, format="json")
    assert too_much.status_code == 400 and "amount" in too_much.json()["errors"]
    assert LedgerEntry.objects.filter(account=paper, kind="deposit", asset="BTC").count() == 1


def test_the_deposit_address_comes_from_the_exchange(secured_jwt, secured_owner, emulated_exchanges, binance_keys):
    account = synced_exchange_account(secured_owner, binance_keys)
    answer = secured_jwt.get(
        "/api/v1/wallet/deposit-address/", {"account": account.pk, "asset": "USDT", "network": "TRX"}
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["address"].startswith("T") and body["network"] == "TRX" and body["exchange"] == "Binance"
    assert ("GET", "/sapi/v1/capital/deposit/address") in emulated_exchanges.calls("binance")
    assert APP_BINANCE_KEYS["secret"] not in answer.content.decode()

    paper = paper_account(secured_owner)
    refused = secured_jwt.get(
        "/api/v1/wallet/deposit-address/", {"account": paper.pk, "asset": "USDT", "network": "TRX"}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "no_deposit_address"
    unknown = secured_jwt.get(
        "/api/v1/wallet/deposit-address/", {"account": account.pk, "asset": "USDT", "network": "DOGE"}
    )
    assert unknown.status_code == 400 and "network" in unknown.json()["errors"]
