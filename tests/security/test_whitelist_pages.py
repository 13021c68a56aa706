"""/security/withdrawal-addresses/: what a person sees and does on the whitelist page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import Notification
from security.models import AuditEvent, WithdrawalAddress
from tests.fakes.authenticator import unused_totp_code
from tests.helpers import text
from tests.security.test_whitelist import after_a_moment

pytestmark = pytest.mark.django_db

URL = "/security/withdrawal-addresses/"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@pytest.fixture
def browser(secured_owner) -> Client:
    client = Client()
    client.force_login(secured_owner)
    return client


def add_form(user, **fields) -> dict:
    return {
        "asset": "BTC",
        "network": "BTC/BTC",
        "address": BTC_ADDRESS,
        "memo": "",
        "label": "Cold storage",
        "otp_code": unused_totp_code(user),
        **fields,
    }


def test_the_page_lists_nothing_yet_and_offers_the_form_with_each_assets_networks(browser):
    page = browser.get(URL)

    assert page.status_code == 200
    assert b'data-testid="withdrawal-addresses-empty"' in page.content
    html = page.content.decode()
    assert 'data-asset="USDT" data-memo="none"' in html and 'value="USDT/TRX"' in html
    assert 'data-asset="XRP" data-memo="optional"' in html
    assert 'name="otp_code"' in html


def test_adding_an_address_with_the_code_shows_it_cooling_down(browser, secured_owner, settings):
    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 24

    answer = browser.post(URL, add_form(secured_owner), follow=True)

    assert answer.redirect_chain == [(URL, 302)]
    shown = text(answer)
    assert "“Cold storage” is on your whitelist" in shown
    assert "Cooling down until" in shown and "bc1qar0s…wf5mdq" in shown
    assert "23 hours" in shown
    address = WithdrawalAddress.objects.get(user=secured_owner)
    assert f'data-countdown="{address.usable_from.isoformat()}"' in answer.content.decode()


def test_once_the_cooldown_has_passed_the_page_says_usable(browser, secured_owner):
    browser.post(URL, add_form(secured_owner))
    address = WithdrawalAddress.objects.get(user=secured_owner)

    with time_machine.travel(address.usable_from + timedelta(seconds=1), tick=False):
        secured_owner.refresh_from_db()
        later = Client()
        later.force_login(secured_owner)
        shown = text(later.get(URL))

    assert "Usable" in shown and "Cooling down" not in shown


def test_a_wrong_code_is_a_form_error_and_nothing_is_added(browser, secured_owner):
    answer = browser.post(URL, add_form(secured_owner, otp_code="000000"))

    assert answer.status_code == 200
    assert answer.context["form"].errors["otp_code"]
    assert not WithdrawalAddress.objects.exists()
    assert not Notification.objects.filter(event="security.withdrawal_address_added").exists()


def test_no_code_asks_for_one_next_to_the_code_field(browser, secured_owner):
    answer = browser.post(URL, add_form(secured_owner, otp_code=""))

    assert "Enter a current code" in " ".join(answer.context["form"].errors["otp_code"])
    assert not WithdrawalAddress.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"address": BTC_ADDRESS[:-1] + "x"}, "address"),
        ({"asset": "ETH", "network": "ETH/ETH"}, "address"),
        ({"network": "USDT/TRX"}, "network"),
        ({"asset": "ZZZ"}, "asset"),
        ({"memo": "777"}, "memo"),
        ({"label": ""}, "label"),
    ],
)
def test_bad_input_shows_as_form_errors_and_nothing_is_written(browser, secured_owner, fields, field):
    answer = browser.post(URL, add_form(secured_owner, **fields))

    assert answer.status_code == 200
    assert answer.context["form"].errors[field]
    assert not WithdrawalAddress.objects.exists()
    assert not AuditEvent.objects.filter(action="withdrawal_address.added").exists()


def test_removing_asks_for_confirmation_and_a_code(browser, secured_owner):
    browser.post(URL, add_form(secured_owner))
    address = WithdrawalAddress.objects.get(user=secured_owner)
    remove_url = f"{URL}{address.pk}/remove/"

    confirm = browser.get(remove_url)
    assert confirm.status_code == 200 and BTC_ADDRESS in text(confirm)

    refused = browser.post(remove_url, {"confirm": "on", "otp_code": "000000"})
    assert refused.context["form"].errors["otp_code"]
    address.refresh_from_db()
    assert address.removed_at is None
    after_a_moment(secured_owner)

    done = browser.post(remove_url, {"confirm": "on", "otp_code": unused_totp_code(secured_owner)}, follow=True)
    assert "is no longer on your withdrawal whitelist" in text(done)
    address.refresh_from_db()
    assert address.removed_at is not None
    assert b'data-testid="withdrawal-addresses-empty"' in done.content


def test_another_users_address_is_not_found_and_not_listed(browser, secured_owner, outsider_client):
    browser.post(URL, add_form(secured_owner))
    address = WithdrawalAddress.objects.get(user=secured_owner)

    assert outsider_client.get(f"{URL}{address.pk}/remove/").status_code == 404
    assert outsider_client.post(f"{URL}{address.pk}/remove/", {"confirm": "on"}).status_code == 404
    assert "Cold storage" not in text(outsider_client.get(URL))


def test_turning_whitelist_only_off_needs_a_code_and_on_again_does_not(browser, secured_owner):
    assert "Turn whitelist-only off" in text(browser.get(URL))

    refused = browser.post(f"{URL}mode/", {"whitelist_only": "off", "otp_code": "000000"})
    assert refused.context["mode_form"].errors["otp_code"]
    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_only is True
    after_a_moment(secured_owner)

    off = browser.post(
        f"{URL}mode/", {"whitelist_only": "off", "otp_code": unused_totp_code(secured_owner)}, follow=True
    )
    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_only is False
    turns_off = f"{secured_owner.withdrawal_whitelist_off_from:%Y-%m-%d %H:%M} UTC"
    assert f"Whitelist-only withdrawals stay on until {turns_off}" in text(off)
    assert f"turns off at {turns_off}" in text(off) and "Keep whitelist-only on" in text(off)

    on = browser.post(f"{URL}mode/", {"whitelist_only": "on"}, follow=True)
    assert "Whitelist-only withdrawals are on" in text(on)
    assert "turns off at" not in text(on) and "Turn whitelist-only off" in text(on)
    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_only is True


@pytest.mark.parametrize("value", ["", "True", "maybe"])
def test_a_mode_value_that_is_not_on_or_off_is_said_and_the_button_works_again(browser, secured_owner, value):
    answer = browser.post(f"{URL}mode/", {"whitelist_only": value, "otp_code": unused_totp_code(secured_owner)})
    assert answer.status_code == 200
    assert "nothing changed" in text(answer)
    assert 'name="whitelist_only" value="off"' in answer.content.decode(), "the button sends a valid value again"
    secured_owner.refresh_from_db()
    assert secured_owner.withdrawal_whitelist_only is True


def test_once_the_cooldown_is_over_the_page_says_whitelist_only_is_off(browser, secured_owner, settings):
    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 24
    browser.post(f"{URL}mode/", {"whitelist_only": "off", "otp_code": unused_totp_code(secured_owner)})

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        browser.force_login(secured_owner)  # a day later: signed in again (the old session idled out)
        page = text(browser.get(URL))
    assert "Withdrawals may go to any valid address" in page and "turns off at" not in page
    assert "Turn whitelist-only on" in page


def test_without_two_factor_the_page_says_to_turn_it_on(owner_client):
    page = owner_client.get(URL)
    assert page.status_code == 200 and "turn it on first" in text(page)


def test_staff_read_whitelists_in_the_admin_filtered_and_searched_but_change_nothing(
    admin_browser, browser, secured_owner
):
    browser.post(URL, add_form(secured_owner))
    address = WithdrawalAddress.objects.get(user=secured_owner)

    listed = admin_browser.get("/admin/security/withdrawaladdress/", {"q": "owner@example.com", "removed": "no"})
    assert listed.status_code == 200 and "Cold storage" in text(listed)
    assert "Cold storage" not in text(admin_browser.get("/admin/security/withdrawaladdress/", {"removed": "yes"}))
    assert "Cold storage" not in text(admin_browser.get("/admin/security/withdrawaladdress/", {"asset": "ETH"}))
    assert admin_browser.get("/admin/security/withdrawaladdress/add/").status_code == 403
    assert (
        admin_browser.post(f"/admin/security/withdrawaladdress/{address.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert WithdrawalAddress.objects.filter(pk=address.pk, removed_at__isnull=True).exists()
