"""The IP allowlist: what an entry may be, who may change the list, and how a refusal reads.

Every protected route, page and API, is tried in test_ip_allowlist_routes.py.
"""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from accounts.models import Notification, TOTPDevice
from accounts.services.api_keys import api_key_create, api_key_revoke
from cryptovault.actor import SECOND_FACTOR_AT_SESSION_KEY, Actor
from security.errors import AllowlistFull, IpNotAllowed, WouldLockYouOut
from security.ip_allowlist import PROTECTED_ACTIONS, ip_allowed, normalise_network, require_allowed_ip
from security.models import AuditEvent, IpAllowlistEntry
from security.services.ip_allowlist import MAX_IP_ALLOWLIST_ENTRIES, ip_allowlist_add, ip_allowlist_remove
from tests.factories import TEST_ACTOR, UserFactory
from tests.fakes.authenticator import turn_on_totp, unused_totp_code, verify_email_of
from tests.helpers import sign_in, text

HOME = "198.51.100.7"
OFFICE = "203.0.113.20"
ELSEWHERE = "192.0.2.99"


def secured(**fields):
    user = UserFactory(**fields)
    verify_email_of(user)
    turn_on_totp(user)
    return user


def actor(user, ip: str | None = HOME, *, fresh: bool = True, via: str = "page") -> Actor:
    return Actor(user=user, via=via, ip=ip, second_factor_at=time.time() if fresh else None)


def allow(user, *networks: str) -> None:
    for network in networks:
        ip_allowlist_add(actor=Actor.for_command("tests", user=user), network=network)


def browser(user, ip: str = HOME) -> Client:
    """The user's browser on `ip`, signed in with a second factor given just now."""
    client = Client(REMOTE_ADDR=ip)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session[SECOND_FACTOR_AT_SESSION_KEY] = time.time()
    session.save()
    return client


def token_client(user, ip: str = HOME) -> APIClient:
    """An integration on `ip` holding a JWT obtained with the second factor."""
    client = APIClient(REMOTE_ADDR=ip)
    sign_in(client, user.email, otp_code=unused_totp_code(user))
    return client


# --- what an entry may be ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("203.0.113.7", "203.0.113.7/32"),
        ("  203.0.113.0/24 ", "203.0.113.0/24"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("2001:DB8::1", "2001:db8::1/128"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::ffff:203.0.113.7", "203.0.113.7/32"),  # IPv4-mapped: the IPv4 address it is
        ("::ffff:203.0.113.0/120", "203.0.113.0/24"),
    ],
)
def test_an_address_or_range_is_stored_in_one_normal_form(typed, stored):
    assert normalise_network(typed) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("203.0.113.7/24", "has host bits set: the network of that range is 203.0.113.0/24"),
        ("2001:db8::1/32", "the network of that range is 2001:db8::/32"),
        ("0.0.0.0/0", "allows every address"),
        ("::/0", "allows every address"),
        ("fe80::1%eth0", "zone id"),
        ("999.1.1.1", "is not an IP address"),
        ("010.0.0.1", "no leading zeros"),
        ("203.0.113.0/33", "prefix length is at most /32"),
        ("2001:db8::/129", "prefix length is at most /128"),
        ("203.0.113.0/abc", "must be a number"),
        ("example.com", "is not an IP address"),
        ("", "Enter an IP address"),
        ("1" * 70, "too long"),
    ],
)
def test_a_malformed_entry_is_refused_saying_what_is_wrong(typed, says):
    with pytest.raises(ValidationError) as refused:
        normalise_network(typed)
    assert says in refused.value.messages[0]


def test_an_empty_list_allows_every_address_and_a_list_only_its_networks(db):
    user = UserFactory()
    assert ip_allowed(user, ELSEWHERE)
    allow(user, "198.51.100.0/24", "2001:db8::/48")
    assert ip_allowed(user, HOME)
    assert ip_allowed(user, "::ffff:198.51.100.7")  # a dual-stack socket's spelling of the same client
    assert ip_allowed(user, "2001:db8:0:1::5")
    assert not ip_allowed(user, ELSEWHERE)
    assert not ip_allowed(user, "2001:db9::1")
    assert not ip_allowed(user, None)  # an address we cannot tell is not on anyone's list


def test_reading_the_list_costs_one_query_per_protected_action(db):
    user = UserFactory()
    allow(user, "198.51.100.0/24")
    with CaptureQueriesContext(connection) as queries:
        require_allowed_ip(actor(user), action="order.place")
    assert len(queries) == 1


# --- the refusal ---------------------------------------------------------------------------------------
def test_a_refusal_names_the_address_is_audited_and_alerts_the_owner(db):
    user = UserFactory()
    allow(user, OFFICE)
    with pytest.raises(IpNotAllowed) as refused:
        require_allowed_ip(actor(user, ELSEWHERE), action="order.place")
    assert refused.value.status_code == 403 and refused.value.code == "ip_not_allowed"
    assert ELSEWHERE in refused.value.message
    record = AuditEvent.objects.get(action="security.ip_refused")
    assert (record.user, record.outcome, record.ip, record.details["action"]) == (
        user,
        "refused",
        ELSEWHERE,
        "order.place",
    )
    alert = Notification.objects.get(user=user, event="security.ip_refused")
    assert alert.priority == "critical"
    assert ELSEWHERE in alert.title + alert.body and "place an order" in alert.body


def test_repeated_refusals_are_each_audited_but_alert_once_per_address(db):
    user = UserFactory()
    allow(user, OFFICE)
    for _ in range(3):
        with pytest.raises(IpNotAllowed):
            require_allowed_ip(actor(user, ELSEWHERE), action="order.cancel")
    assert AuditEvent.objects.filter(action="security.ip_refused").count() == 3
    assert Notification.objects.filter(user=user, event="security.ip_refused").count() == 1


def test_commands_tasks_and_the_system_are_not_asked(db):
    user = UserFactory()
    allow(user, OFFICE)
    for who in (Actor.for_command("x", user=user), Actor.for_task("t-1", user=user), Actor.system()):
        require_allowed_ip(who, action="order.place")
    assert not AuditEvent.objects.filter(action="security.ip_refused").exists()


@pytest.mark.django_db(transaction=True)
def test_the_refusal_record_outlives_a_service_that_runs_in_a_transaction():
    """api_key_revoke is @transaction.atomic: the check sits outside it, so its records are committed."""
    user = UserFactory()
    key, _ = api_key_create(actor=TEST_ACTOR, user=user, name="Bot", scopes=["read"])
    allow(user, OFFICE)
    with pytest.raises(IpNotAllowed):
        api_key_revoke(actor=actor(user, ELSEWHERE), key=key)
    key.refresh_from_db()
    assert key.revoked_at is None
    assert AuditEvent.objects.filter(action="security.ip_refused", user=user).count() == 1


def test_the_registry_names_each_protected_service():
    import importlib

    for module in ("accounts.services.api_keys", "exchanges.services.keys", "exchanges.services.connections"):
        importlib.import_module(module)
    importlib.import_module("trading.services.orders")
    assert {
        "order.place": "trading.services.orders.order_place",
        "order.cancel": "trading.services.orders.order_cancel",
        "api_key.create": "accounts.services.api_keys.api_key_create",
        "api_key.revoke": "accounts.services.api_keys.api_key_revoke",
        "exchange.connect": "exchanges.services.keys.connection_create",
        "exchange.rotate": "exchanges.services.keys.connection_rotate",
        "exchange.update": "exchanges.services.connections.connection_update",
        "exchange.revoke": "exchanges.services.connections.connection_revoke",
        "ip_allowlist.add": "security.services.ip_allowlist.ip_allowlist_add",
        "ip_allowlist.remove": "security.services.ip_allowlist.ip_allowlist_remove",
    }.items() <= PROTECTED_ACTIONS.items()


# --- changing the list ---------------------------------------------------------------------------------
def test_adding_needs_a_fresh_second_factor_and_a_refusal_writes_nothing(db):
    user = secured()
    with pytest.raises(Exception) as refused:
        ip_allowlist_add(actor=actor(user, fresh=False), network=HOME)
    assert getattr(refused.value, "code", "") == "step_up_required"
    assert not IpAllowlistEntry.objects.exists()
    entry = ip_allowlist_add(actor=actor(user, fresh=False), network=HOME, otp_code=unused_totp_code(user))
    assert entry.network == f"{HOME}/32"


def test_an_entry_that_leaves_you_outside_needs_confirming_and_says_your_address(db):
    user = secured()
    with pytest.raises(WouldLockYouOut) as refused:
        ip_allowlist_add(actor=actor(user, HOME), network="203.0.113.0/24", label="Office")
    assert refused.value.status_code == 409 and refused.value.code == "would_lock_you_out"
    assert HOME in refused.value.message and "203.0.113.0/24" in refused.value.message
    assert not IpAllowlistEntry.objects.exists()

    entry = ip_allowlist_add(actor=actor(user, HOME), network="203.0.113.0/24", label="Office", confirm_lockout=True)
    record = AuditEvent.objects.get(action="security.ip_allowlist_added")
    assert record.details == {
        "entry_id": entry.pk,
        "network": "203.0.113.0/24",
        "label": "Office",
        "excludes_current_ip": True,
    }
    alert = Notification.objects.get(user=user, event="security.ip_allowlist_changed")
    assert alert.priority == "critical" and "203.0.113.0/24" in alert.body


def test_an_entry_holding_your_address_needs_no_confirmation(db):
    user = secured()
    ip_allowlist_add(actor=actor(user, HOME), network="198.51.100.0/24")
    assert list(IpAllowlistEntry.objects.values_list("network", flat=True)) == ["198.51.100.0/24"]


def test_once_the_list_has_entries_it_is_changed_only_from_an_allowed_address(db):
    user = secured()
    allow(user, OFFICE)
    entry = IpAllowlistEntry.objects.get()
    with pytest.raises(IpNotAllowed):
        ip_allowlist_add(actor=actor(user, ELSEWHERE), network=ELSEWHERE)
    with pytest.raises(IpNotAllowed):
        ip_allowlist_remove(actor=actor(user, ELSEWHERE), entry=entry)
    assert list(IpAllowlistEntry.objects.values_list("network", flat=True)) == [f"{OFFICE}/32"]
    assert AuditEvent.objects.filter(action="security.ip_refused").count() == 2


def test_bad_input_is_named_per_field_and_duplicates_and_a_full_list_are_refused(db):
    user = secured()
    with pytest.raises(ValidationError) as refused:
        ip_allowlist_add(actor=actor(user), network="203.0.113.7/24", label="x" * 81)
    assert set(refused.value.message_dict) == {"network", "label"}
    allow(user, HOME)
    with pytest.raises(ValidationError) as duplicate:
        ip_allowlist_add(actor=actor(user), network=f"  {HOME}/32")
    assert "already on your IP allowlist" in duplicate.value.message_dict["network"][0]
    allow(user, *(f"10.{n}.0.0/16" for n in range(MAX_IP_ALLOWLIST_ENTRIES - 1)))
    with pytest.raises(AllowlistFull):
        ip_allowlist_add(actor=actor(user), network="172.16.0.0/12")
    assert IpAllowlistEntry.objects.count() == MAX_IP_ALLOWLIST_ENTRIES


def test_removing_the_entry_you_are_on_while_others_remain_needs_confirming(db):
    user = secured()
    allow(user, HOME, OFFICE)
    home, office = IpAllowlistEntry.objects.order_by("id")
    with pytest.raises(WouldLockYouOut) as refused:
        ip_allowlist_remove(actor=actor(user, HOME), entry=home)
    assert HOME in refused.value.message
    ip_allowlist_remove(actor=actor(user, HOME), entry=office)  # narrows nothing for you
    ip_allowlist_remove(actor=actor(user, HOME), entry=home)  # the last one: the list is empty again
    assert not IpAllowlistEntry.objects.exists()
    assert AuditEvent.objects.filter(action="security.ip_allowlist_removed").count() == 2
    removals = Notification.objects.filter(user=user, event="security.ip_allowlist_changed", body__contains="removed")
    assert removals.count() == 2


# --- the API -------------------------------------------------------------------------------------------
URL = "/api/v1/security/whitelist/ip/"


def test_the_api_lists_adds_and_removes_entries(db):
    user = secured()
    client = token_client(user)
    added = client.post(URL, {"network": "198.51.100.0/24", "label": "Home"}, format="json")
    assert added.status_code == 201, added.json()
    assert {k: added.json()[k] for k in ("network", "label")} == {"network": "198.51.100.0/24", "label": "Home"}
    assert [row["network"] for row in client.get(URL).json()] == ["198.51.100.0/24"]
    removed = client.delete(f"{URL}{added.json()['id']}/")
    assert removed.status_code == 204
    assert client.get(URL).json() == []


def test_the_api_answers_bad_input_per_field(db):
    client = token_client(secured())
    answer = client.post(URL, {"network": "203.0.113.7/24", "label": "y" * 81}, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert "203.0.113.0/24" in body["errors"]["network"][0]
    assert "label" in body["errors"]
    assert client.post(URL, {}, format="json").json()["errors"]["network"]
    assert not IpAllowlistEntry.objects.exists()


def test_the_api_asks_to_confirm_an_entry_that_excludes_the_caller(db):
    client = token_client(secured(), ip=HOME)
    answer = client.post(URL, {"network": OFFICE}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "would_lock_you_out" and HOME in answer.json()["detail"]
    confirmed = client.post(URL, {"network": OFFICE, "confirm_lockout": True}, format="json")
    assert confirmed.status_code == 201
    # From now on this caller is outside: even reading works, changing does not.
    assert client.get(URL).status_code == 200
    refused = client.post(URL, {"network": HOME}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "ip_not_allowed" and HOME in refused.json()["detail"]


def test_another_users_entry_is_not_found(db, outsider):
    user = secured()
    allow(user, "127.0.0.0/8")
    entry = IpAllowlistEntry.objects.get()
    other = token_client(secured(email="other@example.com"))
    assert other.get(f"{URL}{entry.pk}/").status_code == 404
    assert other.delete(f"{URL}{entry.pk}/").status_code == 404
    assert other.get(URL).json() == []
    assert IpAllowlistEntry.objects.filter(pk=entry.pk).exists()


def test_an_api_key_may_read_the_list_but_not_change_it(db):
    user = secured()
    _, raw = api_key_create(actor=TEST_ACTOR, user=user, name="Reader", scopes=["read", "trade"])
    client = APIClient(HTTP_X_API_KEY=raw)
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"network": HOME}, format="json").status_code == 403
    assert not IpAllowlistEntry.objects.exists()


# --- the pages -----------------------------------------------------------------------------------------
def test_the_page_shows_your_address_and_whether_it_is_allowed(db):
    user = secured()
    allow(user, OFFICE)
    page = browser(user, HOME).get("/security/allowlist/")
    assert page.status_code == 200
    words = text(page)
    assert HOME in words and "it is not on your allowlist" in words and f"{OFFICE}/32" in words


def test_adding_from_the_page_asks_to_confirm_showing_your_address_then_adds(db):
    user = secured()
    client = browser(user, HOME)
    first = client.post("/security/allowlist/add/", {"network": "203.0.113.0/24", "label": "Office"})
    assert first.status_code == 200
    assert "This would lock you out" in text(first) and HOME in text(first)
    assert not IpAllowlistEntry.objects.exists()
    confirmed = client.post(
        "/security/allowlist/add/", {"network": "203.0.113.0/24", "label": "Office", "confirm_lockout": "on"}
    )
    assert confirmed.status_code == 302
    assert IpAllowlistEntry.objects.get().label == "Office"


def test_a_malformed_entry_is_shown_on_the_form(db):
    client = browser(secured(), HOME)
    page = client.post("/security/allowlist/add/", {"network": "203.0.113.7/24"})
    assert page.status_code == 200 and "host bits set" in text(page) and "203.0.113.0/24" in text(page)
    assert not IpAllowlistEntry.objects.exists()


def test_removing_from_the_page(db):
    user = secured()
    allow(user, "198.51.100.0/24")
    entry = IpAllowlistEntry.objects.get()
    client = browser(user, HOME)
    assert "198.51.100.0/24" in text(client.get(f"/security/allowlist/{entry.pk}/remove/"))
    assert client.post(f"/security/allowlist/{entry.pk}/remove/").status_code == 302
    assert not IpAllowlistEntry.objects.exists()


def test_adding_from_the_page_needs_a_fresh_second_factor(db):
    user = secured()
    client = Client(REMOTE_ADDR=HOME)
    client.force_login(user)
    answer = client.post("/security/allowlist/add/", {"network": HOME})
    assert answer.status_code == 302 and "/accounts/step-up/" in answer["Location"]
    assert not IpAllowlistEntry.objects.exists()


# --- staff ---------------------------------------------------------------------------------------------
def test_staff_remove_a_locked_out_users_entry_through_the_service(db):
    user = secured()
    allow(user, OFFICE)
    entry = IpAllowlistEntry.objects.get()
    staff = secured(email="root@example.com", is_staff=True, is_superuser=True)
    admin = browser(staff, HOME)
    assert f"{OFFICE}/32" in text(admin.get("/admin/security/ipallowlistentry/"))
    answer = admin.post(
        "/admin/security/ipallowlistentry/", {"action": "remove_entries", "_selected_action": [entry.pk]}
    )
    assert answer.status_code == 302
    assert not IpAllowlistEntry.objects.exists()
    record = AuditEvent.objects.get(action="security.ip_allowlist_removed")
    assert record.user == user and record.details["by_staff"] is True
    assert Notification.objects.filter(user=user, event="security.ip_allowlist_changed").exists()
