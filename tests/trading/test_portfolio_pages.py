"""The money pages: the dashboard's portfolio card, the portfolio (holdings, allocation, PnL by average
cost, the equity history), the transactions with their filters and CSV files, and the trading accounts
with the paper reset.

Holdings come from orders the paper engine filled (placed through the service, prices published as
the publisher does), so the pages show what trading leaves behind, not rows written for the test.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.helpers import text
from tests.trading.helpers import paper_account, publish
from trading.models import Balance, EntryKind, LedgerEntry, OrderStatus
from trading.selectors import portfolio_for
from trading.services.accounts import exchange_account_open
from trading.services.orders import order_place
from trading.services.portfolio import equity_snapshot_take

pytestmark = pytest.mark.django_db
D = Decimal


def buy_btc(account, quantity: str = "0.1"):
    return order_place(
        actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="market", quantity=D(quantity)
    ).order


@pytest.fixture
def paper(owner):
    publish({"BTC/USDT": "65000", "ETH/USDT": "3000"})
    return paper_account(owner)


def test_the_portfolio_values_each_holding_with_its_cost_basis_and_pnl_by_average_cost(owner_client, owner, paper):
    bought = buy_btc(paper)
    publish({"BTC/USDT": "70000"})

    page = owner_client.get("/portfolio/")

    assert page.status_code == 200
    shown = text(page)
    btc = re.search(r'data-testid="holding-row" data-asset="BTC" data-ticker="BTC/USDT">(.*?)</tr>', shown).group(1)
    assert 'data-testid="holding-quantity">0.1<' in btc
    assert 'data-testid="holding-value">7,000.00<' in btc, "0.1 BTC at 70,000"
    paid = bought.filled_quote + bought.fee_total  # the fee, paid in USDT, is part of what it cost
    assert f"{paid / D('0.1'):,.2f}" in btc, "the cost basis is what was paid per unit on average"
    assert f"+{D('7000') - paid:,.2f}" in btc, "unrealised: the value less what it cost"
    portfolio = portfolio_for(owner)
    assert f'data-testid="total-value"><strong>{portfolio.total_value:,.2f}</strong> USDT' in shown
    assert "PnL by the average cost method" in shown
    assert len(re.findall(r'data-testid="allocation-item"', shown)) == 2 and "BTC <strong>" in shown
    assert "Binance (live)" in shown, "where the prices come from"
    assert 'hx-trigger="cv-orders from:body, cv-prices from:body"' in shown, "follows orders and prices"
    assert '<a href="/portfolio/" aria-current="page">Portfolio</a>' in shown


def test_the_equity_history_draws_a_line_through_the_daily_snapshots(owner_client, owner, paper):
    buy_btc(paper)
    today = timezone.now().date()
    for days_ago, price in ((2, "60000"), (1, "62000"), (0, "70000")):
        publish({"BTC/USDT": price})
        equity_snapshot_take(user=owner, day=today - timedelta(days=days_ago))

    page = text(owner_client.get("/portfolio/"))

    line = re.search(r'<polyline class="equity-line" points="([^"]+)"', page)
    assert line and len(line.group(1).split()) == 3, "one point a day"
    first, last = portfolio_value_at(owner, today - timedelta(days=2)), portfolio_value_at(owner, today)
    assert f"from {first:,.2f} to {last:,.2f} USDT" in page


def portfolio_value_at(owner, day) -> Decimal:
    return owner.equity_snapshots.get(date=day).total_value


def test_one_snapshot_is_not_yet_a_line_and_the_page_says_when_the_next_comes(owner_client, owner, paper):
    equity_snapshot_take(user=owner)

    page = text(owner_client.get("/portfolio/"))

    assert "One day recorded so far: the line starts with the second." in page and "equity-line" not in page


def test_the_dashboard_shows_the_total_value_allocation_pnl_and_live_prices(owner_client, owner, paper):
    buy_btc(paper)
    publish({"BTC/USDT": "60000"})

    page = text(owner_client.get("/"))

    portfolio = portfolio_for(owner)
    assert portfolio.total_unrealized_pnl < 0, "bought at 65,000, now 60,000"
    assert f'data-testid="total-value"><strong>{portfolio.total_value:,.2f}</strong>' in page
    assert f'data-testid="unrealized-pnl">\N{MINUS SIGN}{-portfolio.total_unrealized_pnl:,.2f} USDT' in page
    assert 'class="change-down" data-testid="unrealized-pnl"' in page
    assert 'data-testid="realized-pnl">0.00 USDT' in page and "average cost method" in page
    assert 'data-testid="allocation-item"' in page and 'data-testid="ticker-strip"' in page
    assert 'id="dashboard-portfolio"' in page and 'hx-select="#dashboard-portfolio"' in page


def test_the_dashboard_of_someone_without_an_account_has_no_portfolio_card(owner_client):
    page = text(owner_client.get("/"))

    assert 'data-testid="ticker-strip"' in page and 'data-testid="dashboard-portfolio"' not in page


def test_transactions_list_the_deposit_the_trade_and_its_fee_and_filter_them(owner_client, paper):
    buy_btc(paper)

    page = owner_client.get("/transactions/")

    kinds = re.findall(r'data-testid="transaction-row" data-entry-id="\d+">.*?<td>(\w+)</td>', text(page))
    assert sorted(kinds) == ["Deposit", "Fee", "Trade", "Trade"], "USDT out, BTC in, the fee, the deposit"
    fees = text(owner_client.get("/transactions/", {"kind": "fee"}))
    assert fees.count('data-testid="transaction-row"') == 1
    btc = text(owner_client.get("/transactions/", {"asset": "btc"}))
    assert btc.count('data-testid="transaction-row"') == 1 and "+0.1<" in btc
    bad = text(owner_client.get("/transactions/", {"kind": "gift"}))
    assert "Correct the filters below to see your transactions." in bad
    assert 'href="/transactions/export.csv?kind=fee"' in fees, "the file holds what the page lists"


def test_the_csv_files_hold_every_row_the_filters_match(owner_client, paper):
    order = buy_btc(paper)
    buy_btc(paper, "0.05")

    answer = owner_client.get("/transactions/export.csv", {"kind": "trade", "asset": "BTC"})
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert answer["Content-Type"].startswith("text/csv")
    assert sorted(row["amount"] for row in rows) == ["0.05", "0.1"]

    trades = owner_client.get("/trades/export.csv", {"account": paper.pk})
    fills = list(csv.DictReader(io.StringIO(b"".join(trades.streaming_content).decode())))
    assert len(fills) == 2 and str(order.pk) in {row["order_id"] for row in fills}

    refused = owner_client.get("/transactions/export.csv", {"created_after": "yesterday"})
    assert refused.status_code == 400 and "The filters were not understood" in text(refused)


def test_the_accounts_page_shows_each_accounts_balances_and_the_reservations(owner_client, paper):
    order_place(
        actor=TEST_ACTOR,
        account=paper,
        symbol="BTC/USDT",
        side="buy",
        type="limit",
        quantity=D("0.01"),
        price=D("60000"),
    )

    page = text(owner_client.get("/trading-accounts/"))

    usdt = Balance.objects.get(account=paper, asset="USDT")
    row = re.search(r'data-testid="balance-row" data-asset="USDT">(.*?)</tr>', page).group(1)
    assert f'data-testid="balance-total">{usdt.total.normalize():,f}<' in row
    assert f'data-testid="balance-available">{usdt.available.normalize():,f}<' in row and usdt.locked > 0
    assert f"/trading-accounts/{paper.pk}/reset/" in page


def test_resetting_the_paper_account_asks_first_then_cancels_its_orders_and_restores_the_starting_balance(
    owner_client, paper
):
    buy_btc(paper)
    resting = order_place(
        actor=TEST_ACTOR, account=paper, symbol="ETH/USDT", side="buy", type="limit", quantity=D("1"), price=D("2000")
    ).order
    url = f"/trading-accounts/{paper.pk}/reset/"

    asked = text(owner_client.get(url))
    assert "Reset Paper account?" in asked and "its 1 open order is cancelled" in asked
    assert Balance.objects.get(account=paper, asset="BTC").total == D("0.1"), "asking changes nothing"

    done = owner_client.post(url, follow=True)

    assert done.redirect_chain == [("/trading-accounts/", 302)]
    assert "Paper account is back to 10000 USDT" in text(done)
    assert Balance.objects.get(account=paper, asset="USDT").total == D("10000")
    assert Balance.objects.get(account=paper, asset="BTC").total == 0
    resting.refresh_from_db()
    assert resting.status == OrderStatus.CANCELLED
    assert LedgerEntry.objects.filter(account=paper, kind=EntryKind.RESET).exists()


def test_only_the_owners_paper_account_resets(
    owner_client, outsider_client, owner, paper, exchange_emulator, binance_keys
):
    exchange = exchange_account_open(actor=TEST_ACTOR, connection=connect(owner, binance_keys))

    assert owner_client.get(f"/trading-accounts/{exchange.pk}/reset/").status_code == 404
    assert owner_client.post(f"/trading-accounts/{exchange.pk}/reset/").status_code == 404
    assert outsider_client.post(f"/trading-accounts/{paper.pk}/reset/").status_code == 404
    assert not LedgerEntry.objects.filter(kind=EntryKind.RESET).exists()
