"""/wallet/: balances, the withdraw form (addresses with their cooldown state, fee and minimum per network,
the second-factor code), the withdrawals list with its cancel button while pending, the simulated paper
deposit and an exchange account's deposit address with a copy button."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from tests.fakes.authenticator import unused_totp_code
from tests.trading.helpers import paper_account, synced_exchange_account
from tests.trading.wallet_helpers import balance_of, nothing_withdrawn, whitelisted
from trading.models import Withdrawal

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(secured_owner) -> Client:
    client = Client()
    client.force_login(secured_owner)
    return client


@pytest.fixture
def paper(secured_owner):
    return paper_account(secured_owner)


def form_data(paper, address, **fields):
    return {
        "account": paper.pk,
        "network": "USDT/ETH",
        "destination": address.pk,
        "amount": "100",
        "otp_code": unused_totp_code(paper.user),
        **fields,
    }


def test_the_wallet_shows_balances_addresses_with_their_cooldown_and_the_network_figures(browser, paper, secured_owner):
    whitelisted(secured_owner, label="Ledger")
    whitelisted(
        secured_owner,
        asset="BTC",
        network="BTC",
        address="bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        label="Fresh",
        cooled=False,
    )
    page = browser.get("/wallet/").content.decode()
    assert f'data-testid="wallet-balance-row" data-account-id="{paper.pk}" data-asset="USDT"' in page
    assert 'Ledger: <span class="badge badge-good">Usable</span>' in page
    assert 'Fresh: <span class="badge badge-warn">Cooling down until' in page
    assert "USDT on Ethereum (ERC-20): fee 4 USDT, minimum 10 USDT" in page
    assert 'name="otp_code"' in page
    assert 'data-testid="withdrawals-empty"' in page


def test_while_whitelist_only_waits_out_its_switch_off_the_form_offers_only_whitelisted_addresses(
    browser, paper, secured_owner
):
    from datetime import timedelta

    from django.utils import timezone

    secured_owner.withdrawal_whitelist_only = False
    secured_owner.withdrawal_whitelist_off_from = timezone.now() + timedelta(hours=23)
    secured_owner.save(update_fields=["withdrawal_whitelist_only", "withdrawal_whitelist_off_from"])
    page = browser.get("/wallet/").content.decode()
    assert "Whitelist-only withdrawals are on" in page and 'name="address"' not in page

    secured_owner.withdrawal_whitelist_off_from = timezone.now() - timedelta(seconds=1)
    secured_owner.save(update_fields=["withdrawal_whitelist_off_from"])
    page = browser.get("/wallet/").content.decode()
    assert "Whitelist-only withdrawals are on" not in page and 'name="address"' in page


def test_a_withdrawal_requested_on_the_page_is_listed_with_a_cancel_button(browser, paper, secured_owner):
    address = whitelisted(secured_owner)
    answer = browser.post("/wallet/withdraw/", form_data(paper, address, amount="250"))
    assert answer.status_code == 302 and answer.url == "/wallet/"
    withdrawal = Withdrawal.objects.get()
    page = browser.get("/wallet/").content.decode()
    assert "Withdrawal of 250 USDT requested" in page
    assert f'data-id="{withdrawal.pk}" data-status="pending"' in page
    assert f"/wallet/withdrawals/{withdrawal.pk}/cancel/" in page

    confirm = browser.get(f"/wallet/withdrawals/{withdrawal.pk}/cancel/").content.decode()
    assert "Cancel this withdrawal?" in confirm and "goes back to your paper balance" in confirm
    assert browser.post(f"/wallet/withdrawals/{withdrawal.pk}/cancel/").status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == "cancelled" and balance_of(paper) == Decimal("10000")
    page = browser.get("/wallet/", {"status": "cancelled"}).content.decode()
    assert f'data-id="{withdrawal.pk}" data-status="cancelled"' in page
    assert f"/wallet/withdrawals/{withdrawal.pk}/cancel/" not in page


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        pytest.param({"otp_code": "000000"}, "code", id="wrong code"),
        pytest.param({"otp_code": ""}, "Enter a current code", id="no code"),
        pytest.param({"amount": "5"}, "minimum withdrawal", id="below the minimum"),
        pytest.param({"amount": "20000"}, "Insufficient USDT", id="over the balance"),
        pytest.param({"network": "BTC/BTC"}, "choose one for BTC", id="address of another network"),
    ],
)
def test_a_refused_withdrawal_is_shown_on_the_form_and_nothing_is_written(browser, paper, secured_owner, fields, words):
    address = whitelisted(secured_owner)
    answer = browser.post("/wallet/withdraw/", form_data(paper, address, **fields))
    assert answer.status_code == 200
    assert words in answer.content.decode()
    assert nothing_withdrawn(paper)


def test_a_simulated_deposit_on_the_page(browser, paper):
    answer = browser.post("/wallet/deposit/", {"asset": "USDT", "amount": "500"})
    assert answer.status_code == 302
    assert balance_of(paper) == Decimal("10500")
    refused = browser.post("/wallet/deposit/", {"asset": "USDT", "amount": "1000000"})
    assert refused.status_code == 200 and "at most" in refused.content.decode()
    assert balance_of(paper) == Decimal("10500")


def test_the_deposit_address_is_shown_with_a_copy_button(browser, secured_owner, emulated_exchanges, binance_keys):
    account = synced_exchange_account(secured_owner, binance_keys)
    page = browser.get("/wallet/deposit-address/", {"account": account.pk, "network": "USDT/BSC"}).content.decode()
    assert 'data-testid="deposit-address"' in page
    assert 'data-copy-target="deposit-address-value"' in page
    assert '<code id="deposit-address-value">0x' in page
