"""The security hub (/security/): a user's safeguards at a glance, each linking to where it is managed,
and their five most recent security records. Only their own; the anti-phishing code itself never shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from security.models import IpAllowlistEntry, WithdrawalAddress
from tests.fakes.authenticator import turn_on_totp

pytestmark = pytest.mark.django_db

HUB = "/security/"


def state(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert found, testid
    return found.group(1).strip()


def an_address(user: User, label: str, *, removed: bool = False) -> WithdrawalAddress:
    now = timezone.now()
    return WithdrawalAddress.objects.create(
        user=user,
        asset="BTC",
        network="BTC",
        address="bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        label=label,
        usable_from=now + timedelta(hours=24),
        removed_at=now if removed else None,
    )


def test_a_visitor_not_signed_in_is_sent_to_sign_in(client):
    answer = client.get(HUB)
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/?next=")


def test_a_new_account_sees_what_is_off_and_where_to_turn_it_on(owner, owner_client):
    html = owner_client.get(HUB).content.decode()

    assert state(html, "hub-two-factor-state") == "Off"
    assert state(html, "hub-allowlist-count") == "Empty"
    assert state(html, "hub-withdrawal-address-count") == "0 whitelisted addresses"
    assert state(html, "hub-whitelist-mode") == "On", "whitelist-only is on by default"
    assert state(html, "hub-anti-phishing-state") == "Not set"
    assert "No activity yet." in html
    for link in (
        "/accounts/security/",
        "/security/allowlist/",
        "/security/withdrawal-addresses/",
        "/security/anti-phishing/",
        "/security/activity/",
    ):
        assert f'href="{link}"' in html, link
    assert '<a href="/security/" aria-current="page">Safeguards</a>' in html, "in the main navigation"


def test_a_secured_account_sees_its_own_counts_states_and_latest_five_records(owner, outsider, owner_client, record):
    with time_machine.travel(timezone.now() - timedelta(days=2)):  # its own records older than the ones below
        turn_on_totp(owner)
    IpAllowlistEntry.objects.create(user=owner, network="203.0.113.0/24", label="Office")
    IpAllowlistEntry.objects.create(user=owner, network="198.51.100.7/32", label="Home")
    IpAllowlistEntry.objects.create(user=outsider, network="192.0.2.0/24")
    an_address(owner, "Cold wallet")
    an_address(owner, "Old wallet", removed=True)
    an_address(outsider, "Not yours")
    owner.withdrawal_whitelist_only = False
    owner.anti_phishing_code = "Blue Falcon 42"
    owner.save()
    start = timezone.now() - timedelta(days=1)
    for hour, action in enumerate(["auth.signed_in", "api_key.created", "order.placed", "auth.signed_out"]):
        record(owner, action, at=start + timedelta(hours=hour))
    record(owner, "withdrawal_address.added", at=start + timedelta(hours=5), label="Cold wallet")
    record(owner, "security.ip_allowlist_added", at=start + timedelta(hours=6), network="203.0.113.0/24")
    record(owner, "security.anti_phishing_changed", at=start + timedelta(hours=7), change="set")
    record(outsider, "auth.password_changed", at=start + timedelta(hours=8))

    html = owner_client.get(HUB).content.decode()

    assert state(html, "hub-two-factor-state") == "On"
    assert state(html, "hub-allowlist-count") == "2 addresses"
    assert state(html, "hub-withdrawal-address-count") == "1 whitelisted address", "the removed one does not count"
    assert state(html, "hub-whitelist-mode") == "Off"
    assert state(html, "hub-anti-phishing-state") == "Set"
    assert "Blue Falcon 42" not in html, "the code shows only on its own page, after a fresh second factor"
    rows = re.findall(r'data-testid="hub-activity-row".*?</tr>', html, flags=re.S)
    labels = [re.search(r'title="All “([^”]+)” records"', row).group(1) for row in rows]
    assert labels == [
        "Anti-phishing code changed",
        "IP allowlist entry added",
        "Withdrawal address added",
        "Signed out",
        "Order placed",
    ], "the five newest, newest first, the outsider's not among them"


def test_the_hub_costs_the_same_few_queries_however_much_there_is(
    owner, owner_client, record, django_assert_max_num_queries
):
    for n in range(30):
        record(owner, "auth.signed_in", request_id=f"r-{n}")
        IpAllowlistEntry.objects.create(user=owner, network=f"10.0.{n}.0/24")
    # the session, the user, 2FA (two), the two counts, the five records, the navigation's unread count
    with django_assert_max_num_queries(8):
        assert owner_client.get(HUB).status_code == 200


def test_whitelist_only_turned_off_shows_on_with_the_moment_it_turns_off(owner, owner_client):
    """Turning it off waits out the address cooldown: the hub says it is still on, and until when."""
    off_from = timezone.now() + timedelta(hours=23)
    owner.withdrawal_whitelist_only, owner.withdrawal_whitelist_off_from = False, off_from
    owner.save(update_fields=["withdrawal_whitelist_only", "withdrawal_whitelist_off_from"])

    html = owner_client.get(HUB).content.decode()
    assert state(html, "hub-whitelist-mode") == "On"
    assert state(html, "hub-whitelist-off-from") == f"turns off at {off_from:%Y-%m-%d %H:%M} UTC"
