"""Trading on the paper account in a real browser: place a limit order from the trade ticket (its fields,
live estimate and confirmation), see it open, see it fill when the price moves, with the open orders and
the portfolio (another tab) following without a reload, then cancel another order after a confirmation.
No console error and no CSP violation along the way.

Prices are the loopback exchange emulator's, read through real ccxt; the price move is one tick of the
real publisher (run from a thread of the test: Playwright's event loop owns this one), which the paper
engine receives as every `price_tick` receiver does and whose order events reach the pages through
/ws/events. The published tick stays the current price for the whole journey (PRICE_TICK_SECONDS is
long), so what fills and at which price never depends on timing.
"""

from __future__ import annotations

import re
import threading

import pytest
from django import db
from playwright.sync_api import expect

from exchanges.market.publisher import publish_tick
from tests.browser.conftest import ARTIFACTS
from tests.helpers import PASSWORD
from tests.trading.helpers import paper_account
from trading.models import Order, OrderStatus

pytestmark = pytest.mark.browser


def _price_moves_to(emulator, **prices: str) -> None:
    """The exchange's prices move and the publisher sends one tick, from a thread of its own (its
    broadcasts go through async_to_sync, which refuses to run beside Playwright's event loop)."""
    for base, price in prices.items():
        emulator.set_price("binance", base, price)
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            publish_tick()
        except BaseException as error:  # handed to the test thread, which fails on it
            errors.append(error)
        finally:
            db.connection.close()

    worker = threading.Thread(target=publish)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive() and not errors, errors


def _sign_in(page, user, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(next_url)


def _place_limit_buy(page, quantity: str, price: str) -> Order:
    """From the ticket to the order's page: type, review (the estimate), place."""
    page.goto("/trade/?symbol=BTC-USDT")
    form = page.get_by_test_id("trade-form")
    expect(form).to_have_attribute("data-ready", "true")
    form.get_by_label("Order type").select_option("limit")
    form.get_by_label("Buy").check()
    form.get_by_label("Quantity").fill(quantity)
    form.get_by_label("Limit price:", exact=True).fill(price)
    form.get_by_role("button", name="Review the order").click()
    expect(page.get_by_role("heading", name="Confirm the order")).to_be_visible()
    page.get_by_role("button", name="Place the order").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    return Order.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def test_a_limit_order_from_the_ticket_opens_fills_on_a_price_move_and_another_is_cancelled(
    page, owner, exchange_emulator, settings
):
    settings.PRICE_TICK_SECONDS = 600  # the tick below stays the current price until the journey ends
    exchange_emulator.set_price("binance", "BTC", "65000")
    account = paper_account(owner)
    _price_moves_to(exchange_emulator, BTC="65000")
    _sign_in(page, owner, "/trade/?symbol=BTC-USDT")

    # The ticket: the market's live price, the fields each type takes, the estimate as the trader types.
    form = page.get_by_test_id("trade-form")
    expect(form).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("trade-last")).to_have_text("65,000.00")
    expect(page.get_by_role("status").filter(has_text="Connected to the price feed")).to_be_visible()
    form.get_by_label("Order type").select_option("market")
    expect(form.get_by_label("Amount in USDT")).to_be_visible()
    expect(form.get_by_label("Limit price:", exact=True)).to_be_hidden()
    form.get_by_label("Order type").select_option("stop_limit")
    expect(form.get_by_label("Trigger price")).to_be_visible()
    expect(form.get_by_label("Amount in USDT")).to_be_hidden()
    form.get_by_label("Order type").select_option("limit")
    expect(form.get_by_label("Trigger price")).to_be_hidden()
    form.get_by_label("Quantity").fill("0.01")
    form.get_by_label("Limit price:", exact=True).fill("60000")
    expect(page.get_by_test_id("estimate-value")).to_have_text("600.00 USDT")
    expect(page.get_by_test_id("estimate-total")).to_contain_text("USDT")
    page.screenshot(path=str(ARTIFACTS / "trading-ticket.png"), full_page=True)

    # A limit price missing: the ticket says so, with what was typed still there.
    form.get_by_label("Limit price:", exact=True).fill("")
    form.get_by_role("button", name="Review the order").click()
    expect(page.get_by_text("Enter a limit price.")).to_be_visible()
    expect(page.get_by_test_id("trade-form").get_by_label("Quantity")).to_have_value("0.01")

    # Placed after the confirmation: the order's page, open, run by the paper engine.
    filled = _place_limit_buy(page, "0.01", "60000")
    expect(page.get_by_text("Order placed: buy 0.01 BTC/USDT, limit at 60,000.00.")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("Open")
    expect(page.get_by_test_id("order-execution")).to_contain_text("Paper engine")
    other = _place_limit_buy(page, "0.02", "55000")
    assert filled.status == other.status == OrderStatus.OPEN and filled.account_id == account.pk

    # Open orders in this tab, the portfolio in another: both follow the fill without a reload.
    page.goto("/orders/")
    rows = page.get_by_test_id("open-order-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("status").filter(has_text="Live updates on")).to_be_visible()
    portfolio = page.context.new_page()
    portfolio_errors: list[str] = []
    portfolio.on("console", lambda message: message.type == "error" and portfolio_errors.append(message.text))
    portfolio.goto("/portfolio/")
    expect(portfolio.get_by_role("status").filter(has_text="Live updates on")).to_be_visible()
    expect(portfolio.locator('[data-testid="holding-row"][data-asset="BTC"]')).to_have_count(0)
    total_before = portfolio.get_by_test_id("total-value").inner_text()
    for tab in (page, portfolio):
        tab.evaluate("document.body.dataset.sameDocument = 'yes'")  # gone if the page reloads

    _price_moves_to(exchange_emulator, BTC="59500")  # reaches 60,000, not 55,000

    expect(rows).to_have_count(1)
    expect(page.locator(f'[data-order-id="{other.pk}"]')).to_be_visible()
    btc = portfolio.locator('[data-testid="holding-row"][data-asset="BTC"]')
    expect(btc.get_by_test_id("holding-quantity")).to_have_text("0.01")
    expect(btc.get_by_test_id("holding-value")).to_have_text("595.00")  # 0.01 BTC at 59,500
    expect(portfolio.get_by_test_id("total-value")).not_to_have_text(total_before)
    portfolio.screenshot(path=str(ARTIFACTS / "trading-portfolio.png"), full_page=True)
    for tab in (page, portfolio):
        assert tab.evaluate("document.body.dataset.sameDocument") == "yes", "updated in place, not reloaded"
    filled.refresh_from_db()
    assert filled.status == OrderStatus.FILLED and filled.average_price == 60000

    # The filled order's page shows its fill.
    page.goto(f"/orders/{filled.pk}/")
    expect(page.get_by_test_id("order-status")).to_have_text("Filled")
    expect(page.get_by_test_id("fill-row")).to_have_count(1)
    expect(page.get_by_test_id("fill-row")).to_contain_text("60,000.00")
    page.screenshot(path=str(ARTIFACTS / "trading-order.png"), full_page=True)

    # Cancel the other one, after a confirmation.
    page.goto("/orders/")
    page.get_by_role("link", name=f"Cancel order {other.pk}: buy BTC/USDT").click()
    expect(page.get_by_role("heading", name="Cancel this order?")).to_be_visible()
    page.get_by_role("button", name="Cancel the order").click()
    expect(page).to_have_url("/orders/")
    expect(page.get_by_text("Order cancelled: buy BTC/USDT.")).to_be_visible()
    expect(page.get_by_test_id("open-order-row-empty")).to_be_visible()
    other.refresh_from_db()
    assert other.status == OrderStatus.CANCELLED
    page.screenshot(path=str(ARTIFACTS / "trading-orders.png"), full_page=True)

    # The dashboard sums it up: the value, the PnL by average cost, the allocation, the live prices.
    page.goto("/")
    card = page.get_by_test_id("dashboard-portfolio")
    expect(card.get_by_test_id("total-value")).to_have_text(portfolio.get_by_test_id("total-value").inner_text())
    expect(card.get_by_test_id("pnl-method")).to_contain_text("average cost")
    expect(card.get_by_test_id("allocation-item")).to_have_count(2)
    expect(page.get_by_role("status").filter(has_text="Connected to the price feed")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "trading-dashboard.png"), full_page=True)
    assert page.console_errors == [], page.console_errors
    assert portfolio_errors == [], portfolio_errors
