"""The withdrawal whitelist's rules, through its services and selectors: a fresh second factor,
validated and canonical addresses, the cooldown (on a frozen clock), alerts and audit records,
and nothing half-written when anything is refused."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.errors import InvalidCode, StepUpRequired, TwoFactorSetupRequired
from accounts.models import Notification, NotificationDelivery
from cryptovault.actor import Actor
from security.errors import (
    DuplicateWithdrawalAddress,
    WithdrawalAddressCoolingDown,
    WithdrawalAddressNotFound,
    WithdrawalAddressRemoved,
)
from security.models import AuditEvent, WithdrawalAddress
from security.selectors import usable_withdrawal_address, withdrawal_addresses_for
from security.services.whitelist import whitelist_mode_set, withdrawal_address_add, withdrawal_address_remove
from tests.fakes.authenticator import unused_totp_code

pytestmark = pytest.mark.django_db

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
# BIP-173's valid vector, typed in capitals: stored in lower case, the canonical form.
BIP173_UPPER = "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"
# EIP-55's test case, typed all lower case: stored with its checksum capitals.
EIP55 = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
XRP_ADDRESS = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"


def page_actor_of(user) -> Actor:
    """A person on the website with no recent step-up: every sensitive action asks for a code."""
    return Actor(user=user, via="page", ip="203.0.113.7", user_agent="pytest", request_id="req-whitelist")


def add(user, *, otp_code: str | None = None, **fields) -> WithdrawalAddress:
    values = {"asset": "BTC", "network": "BTC", "address": BTC_ADDRESS, "label": "Cold storage", **fields}
    code = unused_totp_code(user) if otp_code is None else otp_code
    return withdrawal_address_add(actor=page_actor_of(user), otp_code=code, **values)


def after_a_moment(user) -> None:
    """The person waits out the back-off a wrong code starts (django-otp's throttling) before the right one."""
    from accounts.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=1))


def nothing_written(user) -> bool:
    return (
        not WithdrawalAddress.objects.filter(user=user).exists()
        and not AuditEvent.objects.filter(user=user, action="withdrawal_address.added").exists()
        and not Notification.objects.filter(user=user, event="security.withdrawal_address_added").exists()
    )


# --- adding -------------------------------------------------------------------------------------------
def test_an_address_added_with_the_second_factor_is_stored_canonical_and_waits_out_the_cooldown(
    secured_owner, settings
):
    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 24
    before = timezone.now()

    address = add(secured_owner, asset="usdt", network="erc20", address=EIP55.lower(), label="  Ledger  ")

    assert (address.asset, address.network, address.address, address.label) == ("USDT", "ETH", EIP55, "Ledger")
    assert before + timedelta(hours=24) <= address.usable_from <= timezone.now() + timedelta(hours=24)
    assert list(withdrawal_addresses_for(user=secured_owner)) == [address]


def test_the_audit_record_of_an_added_address_names_the_whole_address(secured_owner):
    """An address is public: the append-only log keeps where money may go, never `********`."""
    add(secured_owner, asset="ETH", network="ETH", address=EIP55)

    details = AuditEvent.objects.get(action="withdrawal_address.added").details
    assert (details["address"], details["asset"], details["network"]) == (EIP55, "ETH", "ETH")


def test_a_bech32_address_typed_in_capitals_is_stored_in_lower_case(secured_owner):
    assert add(secured_owner, address=BIP173_UPPER).address == BIP173_UPPER.lower()


def test_adding_sends_a_critical_alert_by_app_and_email_and_writes_the_audit_record(secured_owner):
    address = add(secured_owner)

    alert = Notification.objects.get(user=secured_owner, event="security.withdrawal_address_added")
    assert alert.priority == "critical"
    assert "Cold storage" in alert.title and "BTC" in alert.body
    channels = set(NotificationDelivery.objects.filter(notification=alert).values_list("channel", flat=True))
    assert {"in_app", "email"} <= channels
    record = AuditEvent.objects.get(user=secured_owner, action="withdrawal_address.added")
    assert record.details["address_id"] == address.pk
    assert record.details["address"] == BTC_ADDRESS
    assert record.via == "page" and record.ip == "203.0.113.7"
    assert not any("otp" in name or "code" in name for name in record.details)


def test_a_wrong_code_is_refused_and_nothing_is_written(secured_owner):
    with pytest.raises(InvalidCode):
        add(secured_owner, otp_code="000000")
    assert nothing_written(secured_owner)


def test_without_a_code_or_a_recent_step_up_the_address_is_refused(secured_owner):
    with pytest.raises(StepUpRequired):
        add(secured_owner, otp_code="")
    assert nothing_written(secured_owner)


def test_a_recent_step_up_stands_for_the_code(secured_owner):
    actor = page_actor_of(secured_owner).with_second_factor_now()
    address = withdrawal_address_add(actor=actor, asset="BTC", network="BTC", address=BTC_ADDRESS, label="Cold")
    assert address.pk


def test_an_account_without_two_factor_cannot_whitelist_anything(verified_owner):
    with pytest.raises(TwoFactorSetupRequired):
        withdrawal_address_add(
            actor=page_actor_of(verified_owner), asset="BTC", network="BTC", address=BTC_ADDRESS, label="Cold"
        )
    assert nothing_written(verified_owner)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        pytest.param({"address": BTC_ADDRESS[:-1] + "x"}, "address", "", id="bech32 checksum"),
        pytest.param({"asset": "ETH", "network": "ETH", "address": EIP55[:-1] + "D"}, "address", "", id="eip55 case"),
        pytest.param({"asset": "ETH", "network": "ETH", "address": BTC_ADDRESS}, "address", "", id="wrong network"),
        pytest.param({"asset": "ZZZ"}, "asset", "ZZZ", id="unknown asset"),
        pytest.param({"network": "TRX"}, "network", "", id="network the asset does not travel on"),
        pytest.param({"network": "MOON"}, "network", "MOON", id="unknown network"),
        pytest.param({"memo": "12345"}, "memo", "", id="memo on a chain without one"),
        pytest.param({"label": "   "}, "label", "", id="no label"),
    ],
)
def test_bad_input_is_named_field_by_field_before_any_code_is_asked_for(secured_owner, fields, field, words):
    with pytest.raises(ValidationError) as refused:
        add(secured_owner, otp_code="", **fields)  # no code: the input is refused first

    assert field in refused.value.message_dict
    assert words in " ".join(refused.value.message_dict[field])
    assert nothing_written(secured_owner)


def test_an_xrp_address_keeps_its_destination_tag(secured_owner):
    address = add(secured_owner, asset="XRP", network="XRP", address=XRP_ADDRESS, memo="12345", label="Exchange")
    assert (address.address, address.memo) == (XRP_ADDRESS, "12345")


def test_the_same_address_twice_is_refused_clearly_but_may_return_after_removal(secured_owner):
    first = add(secured_owner)
    with pytest.raises(DuplicateWithdrawalAddress, match="already in your withdrawal whitelist"):
        add(secured_owner, address=BTC_ADDRESS.upper(), label="Again")
    assert WithdrawalAddress.objects.filter(user=secured_owner).count() == 1

    withdrawal_address_remove(
        actor=page_actor_of(secured_owner), address=first, otp_code=unused_totp_code(secured_owner)
    )
    again = add(secured_owner, label="Again")
    assert again.pk != first.pk and again.usable_from > first.usable_from


def test_another_user_may_whitelist_the_same_address(secured_owner, outsider):
    from tests.fakes.authenticator import turn_on_totp, verify_email_of

    verify_email_of(outsider)
    turn_on_totp(outsider)
    add(secured_owner)
    assert add(outsider).user == outsider


def test_the_number_of_addresses_is_limited(secured_owner, monkeypatch):
    from security.errors import WithdrawalWhitelistFull
    from security.services import whitelist

    monkeypatch.setattr(whitelist, "MAX_WITHDRAWAL_ADDRESSES", 1)
    add(secured_owner)
    with pytest.raises(WithdrawalWhitelistFull, match="remove one"):
        add(secured_owner, asset="ETH", network="ETH", address=EIP55)
    assert WithdrawalAddress.objects.filter(user=secured_owner).count() == 1


# --- the cooldown, on a frozen clock -----------------------------------------------------------------
def test_a_new_address_is_usable_only_once_the_cooldown_has_passed(secured_owner, settings):
    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 24
    secured_owner.timezone = ZoneInfo("Asia/Tokyo")
    secured_owner.save(update_fields=["timezone"])
    added_at = (timezone.now() + timedelta(minutes=5)).replace(microsecond=0)
    with time_machine.travel(added_at, tick=False) as clock:
        address = add(secured_owner)
        assert address.usable_from == added_at + timedelta(hours=24)

        clock.shift(timedelta(hours=23, minutes=59))
        with pytest.raises(WithdrawalAddressCoolingDown) as waiting:
            usable_withdrawal_address(user=secured_owner, pk=address.pk, at=timezone.now())
        tokyo = (added_at + timedelta(hours=24)).astimezone(ZoneInfo("Asia/Tokyo"))
        assert f"{tokyo:%Y-%m-%d %H:%M} Asia/Tokyo" in waiting.value.message
        assert waiting.value.code == "address_cooling_down"
        assert waiting.value.extra == {"usable_from": address.usable_from.isoformat()}

        clock.shift(timedelta(minutes=1))
        assert usable_withdrawal_address(user=secured_owner, pk=address.pk, at=timezone.now()) == address


def test_the_cooldown_follows_the_setting(secured_owner, settings):
    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 48
    added_at = (timezone.now() + timedelta(minutes=5)).replace(microsecond=0)
    with time_machine.travel(added_at, tick=False):
        address = add(secured_owner)
    assert address.usable_from == added_at + timedelta(hours=48)
    with pytest.raises(WithdrawalAddressCoolingDown):
        usable_withdrawal_address(user=secured_owner, pk=address.pk, at=added_at + timedelta(hours=47))


def test_a_removed_address_and_another_users_address_are_not_usable(secured_owner, outsider):
    address = add(secured_owner)
    later = address.usable_from + timedelta(hours=1)

    with pytest.raises(WithdrawalAddressNotFound):
        usable_withdrawal_address(user=outsider, pk=address.pk, at=later)
    with pytest.raises(WithdrawalAddressNotFound):
        usable_withdrawal_address(user=secured_owner, pk=address.pk + 1000, at=later)

    withdrawal_address_remove(
        actor=page_actor_of(secured_owner), address=address, otp_code=unused_totp_code(secured_owner)
    )
    with pytest.raises(WithdrawalAddressRemoved):
        usable_withdrawal_address(user=secured_owner, pk=address.pk, at=later)


# --- removing --------------------------------------------------------------------------------------
def test_removing_needs_the_second_factor_keeps_the_row_alerts_and_audits(secured_owner):
    address = add(secured_owner)

    with pytest.raises(InvalidCode):
        withdrawal_address_remove(actor=page_actor_of(secured_owner), address=address, otp_code="000000")
    address.refresh_from_db()
    assert address.removed_at is None
    assert not AuditEvent.objects.filter(action="withdrawal_address.removed").exists()
    after_a_moment(secured_owner)

    withdrawal_address_remove(
        actor=page_actor_of(secured_owner), address=address, otp_code=unused_totp_code(secured_owner)
    )

    address.refresh_from_db()
    assert address.removed_at is not None
    assert list(withdrawal_addresses_for(user=secured_owner)) == []
    assert list(withdrawal_addresses_for(user=secured_owner, include_removed=True)) == [address]
    record = AuditEvent.objects.get(action="withdrawal_address.removed")
    assert record.details["address_id"] == address.pk
    assert Notification.objects.filter(user=secured_owner, event="security.withdrawal_address_removed").exists()


def test_nobody_removes_another_users_address(secured_owner, outsider):
    address = add(secured_owner)
    with pytest.raises(WithdrawalAddressNotFound):
        withdrawal_address_remove(actor=page_actor_of(outsider), address=address, otp_code="")
    address.refresh_from_db()
    assert address.removed_at is None


# --- whitelist-only mode -----------------------------------------------------------------------------
def test_whitelist_only_is_on_by_default_and_turning_it_off_needs_the_second_factor(secured_owner):
    assert secured_owner.withdrawal_whitelist_only is True

    with pytest.raises(InvalidCode):
        whitelist_mode_set(actor=page_actor_of(secured_owner), whitelist_only=False, otp_code="000000")
    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_only is True
    assert not AuditEvent.objects.filter(action="whitelist.mode_changed").exists()
    after_a_moment(secured_owner)

    whitelist_mode_set(
        actor=page_actor_of(secured_owner), whitelist_only=False, otp_code=unused_totp_code(secured_owner)
    )

    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_only is False
    alert = Notification.objects.get(user=secured_owner, event="security.whitelist_mode_changed")
    assert alert.priority == "critical" and "off" in alert.title
    assert AuditEvent.objects.get(action="whitelist.mode_changed").details["whitelist_only"] is False


def test_turning_whitelist_only_back_on_needs_no_code(secured_owner):
    secured_owner.withdrawal_whitelist_only = False
    secured_owner.save(update_fields=["withdrawal_whitelist_only"])

    whitelist_mode_set(actor=page_actor_of(secured_owner), whitelist_only=True)

    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_only is True
    alert = Notification.objects.get(user=secured_owner, event="security.whitelist_mode_changed")
    assert alert.priority == "high" and "on" in alert.title


def test_turning_whitelist_only_off_takes_effect_after_the_cooldown_and_on_again_at_once(secured_owner, settings):
    """Off waits out WITHDRAWAL_ADDRESS_COOLDOWN_HOURS (as a new address does); on is immediate and cancels it."""
    from security.selectors import whitelist_only_in_force

    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 24
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        whitelist_mode_set(
            actor=page_actor_of(secured_owner), whitelist_only=False, otp_code=unused_totp_code(secured_owner)
        )
    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_off_from == start + timedelta(hours=24)
    assert whitelist_only_in_force(secured_owner, start + timedelta(hours=23, minutes=59))
    assert not whitelist_only_in_force(secured_owner, start + timedelta(hours=24))
    record = AuditEvent.objects.get(action="whitelist.mode_changed")
    assert record.details["off_from"] == (start + timedelta(hours=24)).isoformat()
    alert = Notification.objects.get(user=secured_owner, event="security.whitelist_mode_changed")
    assert alert.priority == "critical" and "24 hours" in alert.body

    with time_machine.travel(start + timedelta(hours=1), tick=False):
        whitelist_mode_set(actor=page_actor_of(secured_owner), whitelist_only=True)
    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_off_from is None
    assert whitelist_only_in_force(secured_owner, start + timedelta(days=30)), "the pending switch-off is cancelled"


def test_asking_again_to_turn_it_off_does_not_move_the_moment_it_turns_off(secured_owner):
    from security.selectors import whitelist_only_in_force

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        whitelist_mode_set(
            actor=page_actor_of(secured_owner), whitelist_only=False, otp_code=unused_totp_code(secured_owner)
        )
    secured_owner.refresh_from_db()
    off_from = secured_owner.withdrawal_whitelist_off_from
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        after_a_moment(secured_owner)
        whitelist_mode_set(
            actor=page_actor_of(secured_owner), whitelist_only=False, otp_code=unused_totp_code(secured_owner)
        )
    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_off_from == off_from
    assert AuditEvent.objects.filter(action="whitelist.mode_changed").count() == 1
    assert whitelist_only_in_force(secured_owner, off_from - timedelta(seconds=1))


def test_setting_the_mode_it_already_has_changes_nothing(secured_owner):
    whitelist_mode_set(actor=page_actor_of(secured_owner), whitelist_only=True)
    assert not AuditEvent.objects.filter(action="whitelist.mode_changed").exists()
    assert not Notification.objects.filter(event="security.whitelist_mode_changed").exists()
