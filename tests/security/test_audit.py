"""The audit log answers "who did what, from where, in which request" for every sensitive action.

Each record carries the account, the client address and browser, and the request id the
user was shown (X-Request-ID), so support can match a complaint to a record; never a secret.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.forms.models import model_to_dict
from django.http import HttpResponse

from accounts.selectors import totp_pending
from security.models import AuditEvent
from tests.conftest import PASSWORD
from tests.fakes.authenticator import AuthenticatorApp

ADDRESS = "203.0.113.9"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AuditTest/1.0"


def browse(client, path: str, data: dict | None = None):
    return client.post(path, data or {}, REMOTE_ADDR=ADDRESS, headers={"User-Agent": BROWSER})


def recorded(action: str, answer, *, email: str) -> AuditEvent:
    """The one record of `action`, checked for who, where from and which request."""
    record = AuditEvent.objects.get(action=action)
    assert (record.actor_email, record.ip, record.user_agent) == (email, ADDRESS, BROWSER)
    assert record.request_id == answer["X-Request-ID"], "the id the user was shown finds the record"
    return record


def holds_no(record: AuditEvent, *secrets: str) -> bool:
    stored = repr(model_to_dict(record))
    return not any(secret in stored for secret in secrets)


def turn_on_authenticator(client, user) -> tuple[HttpResponse, str, str]:
    browse(client, "/accounts/security/totp/start/")
    device = totp_pending(user=user)
    code = AuthenticatorApp(device).code()
    return browse(client, "/accounts/security/totp/", {"code": code}), device.key, code


@pytest.mark.django_db
def test_signing_in_is_recorded(client, owner):
    answer = browse(client, "/accounts/login/", {"login": owner.email, "password": PASSWORD})
    assert answer.status_code == 302
    record = recorded("auth.signed_in", answer, email=owner.email)
    assert record.user == owner and record.outcome == "success"
    assert holds_no(record, PASSWORD)


@pytest.mark.django_db
def test_a_failed_sign_in_is_recorded_under_the_email_typed_and_never_with_the_password(client, owner):
    answer = browse(client, "/accounts/login/", {"login": "Owner@Example.com", "password": "my-secret-guess-1"})
    assert answer.status_code == 200
    record = recorded("auth.sign_in_failed", answer, email=owner.email)
    assert record.outcome == "failure" and record.user == owner, "the owner sees attempts on their account"
    assert holds_no(record, "my-secret-guess-1")


@pytest.mark.django_db
def test_signing_out_is_recorded(client, owner):
    client.force_login(owner)
    answer = browse(client, "/accounts/logout/")
    assert answer.status_code == 302
    assert recorded("auth.signed_out", answer, email=owner.email).user == owner


@pytest.mark.django_db
def test_turning_on_the_authenticator_app_is_recorded_without_seed_or_code(client, owner):
    client.force_login(owner)
    answer, seed, code = turn_on_authenticator(client, owner)
    assert answer.status_code == 302
    record = recorded("2fa.totp_enabled", answer, email=owner.email)
    assert record.user == owner
    assert holds_no(record, seed, code)


@pytest.mark.django_db
def test_creating_an_api_key_is_recorded_with_its_name_but_not_the_key(client, owner):
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    client.force_login(owner)
    turn_on_authenticator(client, owner)  # API keys need 2FA on and a fresh second factor: this is both

    answer = browse(client, "/accounts/api-keys/new/", {"name": "Trading bot", "scopes": ["read"]})
    assert answer.status_code == 302, answer.context["form"].errors if answer.context else answer
    raw_key = client.session["cv_new_api_key"]["key"]
    record = recorded("api_key.created", answer, email=owner.email)
    assert record.details["key_name"] == "Trading bot"
    assert holds_no(record, raw_key, raw_key.split("_", 2)[2])  # the key, and its secret part alone


EVM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's test case: mixed case, like a key
TRON = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
KEY_LIKE = "Zq3xT9vLm2Wk8RbN4yHc7PdF6sJg5QaE"  # what an exchange key looks like


@pytest.mark.django_db
def test_public_identifiers_in_the_details_are_kept_whole_and_anything_key_like_elsewhere_is_masked(owner):
    """Addresses, memos, txids, networks and assets are public: the log must say where money went."""
    from cryptovault.actor import Actor
    from security.audit import audit_record

    actor = Actor(user=owner, via="api", ip=ADDRESS, user_agent=BROWSER, request_id="req-audit")
    record = audit_record(
        "withdrawal.requested",
        actor=actor,
        address=EVM,
        destination=TRON,
        memo="Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        txid="0x" + "a1B2" * 16,
        network="ETH",
        asset="USDT",
        label=f"note {KEY_LIKE}",
        api_key=KEY_LIKE,
    )

    record.refresh_from_db()
    assert record.details["address"] == EVM and record.details["destination"] == TRON
    assert record.details["memo"] == "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    assert record.details["txid"] == "0x" + "a1B2" * 16
    assert (record.details["network"], record.details["asset"]) == ("ETH", "USDT")
    assert KEY_LIKE not in repr(record.details), "still masked under any other name"
