"""Whitelisting a withdrawal address and using it a day later, in a real browser.

A trader with an authenticator app signs in, adds an address with a code from the app and sees
it cooling down (with its countdown), comes back after the cooldown, signs in again, requests a
withdrawal to it from the wallet page, and reads the security alerts in the notification centre.

The clock: the live server runs in a thread of this process, so time-machine moves its clock too
(`tick=True`: time goes on from the new moment). The day that passes ends the browser's session
(30 minutes idle), which is why the trader signs in again, as they would.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
import time_machine
from playwright.sync_api import expect

from accounts.models import TOTPDevice
from security.models import WithdrawalAddress
from tests.browser.conftest import ARTIFACTS
from tests.helpers import PASSWORD
from tests.trading.helpers import paper_account
from trading.models import Withdrawal

pytestmark = pytest.mark.browser

# EIP-55's own test case, typed in lower case as a wallet app might show it.
LEDGER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def _code(user) -> str:
    """What the trader's app shows now and the server takes now: a step not used yet, inside the
    window the device accepts (its tolerance around now plus the drift it learned). The shared
    `unused_totp_code` ignores the drift, which a day's jump of the clock turns into a refusal."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    while True:
        now_step = int(time.time()) // 30
        for step in (now_step, now_step + 1, now_step - 1):
            if step > device.last_t and abs(step - (now_step + device.drift)) <= device.tolerance:
                return pyotp.TOTP(device.manual_key).at(step * 30)
        time.sleep(0.5)  # every code of this window was used: the app shows the next one soon


def _sign_in(page, user, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/"))
    page.get_by_label("Code").fill(_code(user))
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))


def test_a_trader_whitelists_an_address_waits_out_the_cooldown_withdraws_and_reads_the_alerts(
    page, secured_owner, settings
):
    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 24
    account = paper_account(secured_owner)  # 10,000 USDT to withdraw from
    _sign_in(page, secured_owner, "/security/withdrawal-addresses/")
    expect(page.get_by_role("heading", name="Withdrawal addresses")).to_be_visible()
    expect(page.get_by_test_id("withdrawal-addresses-empty")).to_be_visible()

    form = page.locator("#add-withdrawal-address")
    form.get_by_label("Asset").select_option("USDT")
    network = form.locator('select[name="network"]')
    expect(network).to_have_value("USDT/ETH")  # only USDT's networks are offered, the first chosen
    expect(network.locator('option[value="BTC/BTC"]')).to_be_disabled()
    expect(form.locator('input[name="memo"]')).to_be_hidden()  # Ethereum has no memo
    form.get_by_label("Address").fill(LEDGER.lower())
    form.get_by_label("Label").fill("Ledger")
    form.get_by_label("Two-factor code").fill(_code(secured_owner))
    form.get_by_role("button", name="Add the address").click()

    expect(page.get_by_role("status").filter(has_text="“Ledger” is on your whitelist")).to_be_visible()
    row = page.get_by_test_id("withdrawal-address-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("USDT")
    expect(row).to_contain_text("0x5aAeb6…1BeAed")  # stored with its EIP-55 checksum capitals
    expect(row.get_by_test_id("withdrawal-address-status")).to_contain_text("Cooling down until")
    expect(row.locator("[data-countdown]")).to_have_text(re.compile(r"^2[34] h \d+ min \d+ s left$"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "security-withdrawal-address-cooling-down.png"), full_page=True)

    page.goto("/wallet/")
    expect(page.get_by_test_id("address-states")).to_contain_text("Cooling down until")

    address = WithdrawalAddress.objects.get(user=secured_owner)
    with time_machine.travel(address.usable_from + timedelta(minutes=1), tick=True):
        # The next day: the session ended while the trader was away.
        _sign_in(page, secured_owner, "/security/withdrawal-addresses/")
        status = page.get_by_test_id("withdrawal-address-status")
        expect(status).to_contain_text("Usable")
        expect(status).not_to_contain_text("Cooling down")

        page.goto("/wallet/")
        withdraw = page.get_by_test_id("withdraw-form")
        withdraw.locator('select[name="account"]').select_option(str(account.pk))
        withdraw.locator('select[name="network"]').select_option("USDT/ETH")
        withdraw.locator('select[name="destination"]').select_option(str(address.pk))
        withdraw.get_by_label("Amount").fill("25")
        withdraw.get_by_label("Two-factor code").fill(_code(secured_owner))
        withdraw.get_by_role("button", name="Request the withdrawal").click()

        requested = re.compile(r"Withdrawal of 25(\.0+)? USDT requested")
        expect(page.get_by_role("status").filter(has_text=requested)).to_be_visible()
        expect(page.get_by_test_id("withdrawal-row")).to_have_count(1)
        withdrawal = Withdrawal.objects.get(account=account)
        assert (withdrawal.destination_id, withdrawal.address) == (address.pk, LEDGER)

        page.goto("/notifications/")
        alerts = page.get_by_test_id("notification-row")
        expect(alerts.filter(has_text="Withdrawal address added: Ledger")).to_be_visible()
        expect(alerts.filter(has_text=re.compile(r"Withdrawal requested: 25(\.0+)? USDT"))).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "security-notification-centre.png"), full_page=True)

    assert page.console_errors == [], page.console_errors
