"""The portfolio: holdings per asset across accounts, valued at the current prices, by average cost.

Balances are written the way the ledger writes them (entries through `trading.services.ledger`, the
average cost and realised PnL as a fill leaves them); prices are real Tickers, handed over or
published as the publisher does. A portfolio reads one query of balances and never an order.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, publish, tick
from trading.models import Balance, EntryKind, Execution, Fill, Order, TradingAccount
from trading.portfolio import value_portfolio
from trading.selectors import portfolio_for
from trading.services.accounts import exchange_account_close, exchange_account_open
from trading.services.ledger import lock_balances, post_entry
from trading.services.orders import order_place

D = Decimal


def holds(account, asset: str, quantity: str, *, cost_basis: str = "0", realized: str = "0", locked: str = "0"):
    """`account` comes to hold `quantity` of `asset` bought at `cost_basis` on average (an adjustment
    entry, then the average and realised PnL as the fill that bought it would leave them)."""
    with transaction.atomic():
        balance = lock_balances(account, [asset])[asset]
        if D(quantity) != balance.total:
            post_entry(balance=balance, kind=EntryKind.ADJUSTMENT, amount=D(quantity) - balance.total)
        Balance.objects.filter(pk=balance.pk).update(
            cost_basis=D(cost_basis), realized_pnl=D(realized), locked=D(locked)
        )


def prices(**last: str) -> list:
    """Tickers for {"BTC": "65000"} as the publisher sends them (24 h change 0 unless given as (price, pct))."""
    made = []
    for base, value in last.items():
        price, change = value if isinstance(value, tuple) else (value, "0")
        made.append(tick(f"{base}/USDT", price, change))
    return made


def exchange_account(user, keys) -> TradingAccount:
    return exchange_account_open(actor=TEST_ACTOR, connection=connect(user, keys))


@pytest.mark.django_db
def test_an_asset_held_in_two_accounts_is_one_holding_at_the_quantity_weighted_average_cost(
    owner, exchange_emulator, binance_keys
):
    paper, exchange = paper_account(owner), exchange_account(owner, binance_keys)
    holds(paper, "BTC", "1", cost_basis="60000")
    holds(exchange, "BTC", "3", cost_basis="40000", locked="0.5")

    btc = portfolio_for(owner, tickers=prices(BTC="50000")).holding("BTC")

    assert btc.quantity == 4 and btc.locked == D("0.5") and btc.available == D("3.5")
    assert btc.cost_basis == 45000, "(1 x 60,000 + 3 x 40,000) / 4"
    assert btc.price == 50000 and btc.value == 200000
    assert btc.unrealized_pnl == 20000, "(50,000 - 45,000) x 4"
    assert {(share.account_id, share.quantity, share.cost_basis) for share in btc.accounts} == {
        (paper.pk, 1, 60000),
        (exchange.pk, 3, 40000),
    }


@pytest.mark.django_db
def test_values_allocation_and_totals_add_up_in_usdt_largest_holding_first(owner):
    paper = paper_account(owner)  # 10,000 USDT
    holds(paper, "BTC", "0.1", cost_basis="65000")
    holds(paper, "ETH", "2", cost_basis="3000")

    portfolio = portfolio_for(owner, tickers=prices(BTC="70000", ETH="2500"))

    assert [(h.asset, h.value, h.allocation_pct) for h in portfolio.holdings] == [
        ("USDT", 10000, D("45.45")),
        ("BTC", 7000, D("31.82")),
        ("ETH", 5000, D("22.73")),
    ]
    assert portfolio.total_value == 22000
    assert portfolio.total_unrealized_pnl == -500, "BTC +500, ETH -1,000, USDT nothing"
    assert portfolio.method == "average cost"


@pytest.mark.django_db
def test_usdt_is_worth_one_and_carries_no_profit_or_loss(owner):
    paper_account(owner)
    usdt = portfolio_for(owner, tickers=prices(BTC="70000")).holding("USDT")
    assert (usdt.price, usdt.value, usdt.cost_basis, usdt.unrealized_pnl) == (1, 10000, 1, 0)


@pytest.mark.django_db
def test_realised_profit_stays_in_the_totals_after_the_asset_is_sold_off(owner, exchange_emulator, binance_keys):
    paper, exchange = paper_account(owner), exchange_account(owner, binance_keys)
    holds(paper, "ETH", "0", cost_basis="0", realized="350")  # all sold, at a profit
    holds(exchange, "BTC", "1", cost_basis="60000", realized="-120.5")

    portfolio = portfolio_for(owner, tickers=prices(BTC="60000", ETH="3000"))

    eth = portfolio.holding("ETH")
    assert (eth.quantity, eth.value, eth.realized_pnl, eth.unrealized_pnl) == (0, 0, 350, 0)
    assert portfolio.holding("BTC").realized_pnl == D("-120.5")
    assert portfolio.total_realized_pnl == D("229.5")


@pytest.mark.django_db
def test_the_24h_change_is_the_markets_change_applied_to_what_is_held(owner):
    paper = paper_account(owner)
    holds(paper, "BTC", "0.1", cost_basis="100000")
    holds(paper, "ETH", "2", cost_basis="2000")

    portfolio = portfolio_for(owner, tickers=prices(BTC=("110000", "10"), ETH=("2500", "-50")))

    btc, eth = portfolio.holding("BTC"), portfolio.holding("ETH")
    assert (btc.change_24h_pct, btc.change_24h_value) == (10, 1000), "11,000 now, 10,000 a day ago"
    assert (eth.change_24h_pct, eth.change_24h_value) == (-50, -5000), "5,000 now, 10,000 a day ago"
    assert portfolio.change_24h_value == -4000
    # 26,000 now (10,000 USDT + 11,000 + 5,000); 30,000 a day ago: down 13.33%.
    assert portfolio.change_24h_pct == D("-13.33")


@pytest.mark.django_db
def test_an_asset_without_a_followed_market_is_listed_unvalued_and_says_so(owner):
    paper = paper_account(owner)
    holds(paper, "PEPE", "1000000", cost_basis="0.00001")
    holds(paper, "BTC", "1", cost_basis="60000")

    # BTC/USDT is followed but has no price in this tick either.
    portfolio = portfolio_for(owner, tickers=prices(ETH="3000"))

    pepe, btc = portfolio.holding("PEPE"), portfolio.holding("BTC")
    assert pepe.price is None and pepe.value is None and pepe.unrealized_pnl is None
    assert pepe.quantity == 1000000 and pepe.cost_basis == D("0.00001")
    assert "PEPE has no followed market" in pepe.note
    assert btc.price is None and "No price for BTC/USDT" in btc.note
    assert portfolio.total_value == 10000, "only what has a price is counted"
    assert portfolio.holding("USDT").allocation_pct == 100
    assert set(portfolio.unpriced_assets) == {"PEPE", "BTC"}
    assert [h.asset for h in portfolio.holdings][-2:] == ["BTC", "PEPE"], "unvalued holdings come last"


@pytest.mark.django_db
def test_a_sold_off_asset_without_a_market_is_not_called_unvalued(owner):
    holds(paper_account(owner), "PEPE", "0", realized="12")
    portfolio = portfolio_for(owner, tickers=prices(BTC="60000"))
    pepe = portfolio.holding("PEPE")
    assert (pepe.value, pepe.realized_pnl, pepe.note) == (0, 12, "")
    assert portfolio.unpriced_assets == () and portfolio.total_realized_pnl == 12


@pytest.mark.django_db
def test_prices_are_the_publishers_last_tick_and_the_portfolio_names_their_source(owner):
    holds(paper_account(owner), "BTC", "0.5", cost_basis="60000")
    publish({"BTC/USDT": "64000", "ETH/USDT": "3000"})

    portfolio = portfolio_for(owner)

    assert portfolio.holding("BTC").value == 32000
    assert portfolio.prices_source_label == "Binance (live)"


@pytest.mark.django_db
def test_without_a_recent_tick_the_market_feed_prices_the_portfolio_and_says_it_is_the_replay(owner):
    holds(paper_account(owner), "BTC", "0.5", cost_basis="60000")

    btc = portfolio_for(owner).holding("BTC")  # MARKET_DATA_EXCHANGE=replay here (conftest)

    assert btc.price is not None and btc.price > 0 and btc.value == btc.price * D("0.5")
    assert portfolio_for(owner).prices_source_label.startswith("Replay of Binance candles")


@pytest.mark.django_db
def test_a_closed_exchange_accounts_balances_are_not_holdings(owner, exchange_emulator, binance_keys):
    paper, exchange = paper_account(owner), exchange_account(owner, binance_keys)
    holds(exchange, "BTC", "2", cost_basis="30000")
    holds(paper, "BTC", "1", cost_basis="60000")
    exchange_account_close(actor=TEST_ACTOR, connection=exchange.connection)

    btc = portfolio_for(owner, tickers=prices(BTC="60000")).holding("BTC")

    assert btc.quantity == 1 and [share.account_id for share in btc.accounts] == [paper.pk]


@pytest.mark.django_db
def test_another_users_balances_never_reach_a_portfolio(owner, outsider):
    holds(paper_account(outsider), "BTC", "5", cost_basis="1")
    paper_account(owner)

    portfolio = portfolio_for(owner, tickers=prices(BTC="60000"))

    assert portfolio.holding("BTC") is None and portfolio.total_value == 10000


@pytest.mark.django_db
def test_the_portfolio_serialises_to_strings_never_floats(owner):
    holds(paper_account(owner), "BTC", "0.25", cost_basis="60000")
    holds(paper_account(owner), "PEPE", "10")

    data = json.loads(json.dumps(portfolio_for(owner, tickers=prices(BTC=("64000", "2.5"))).as_dict()))

    assert data["method"] == "average cost" and data["quote_currency"] == "USDT"
    assert data["total_value"] == "26000" and data["total_unrealized_pnl"] == "1000"
    btc = next(h for h in data["holdings"] if h["asset"] == "BTC")
    assert btc["value"] == "16000" and btc["cost_basis"] == "60000" and btc["change_24h_pct"] == "2.5"
    assert btc["accounts"][0]["quantity"] == "0.25"
    pepe = next(h for h in data["holdings"] if h["asset"] == "PEPE")
    assert pepe["price"] is None and pepe["note"]
    assert data["unpriced_assets"] == ["PEPE"]


@pytest.mark.django_db
def test_a_user_with_no_accounts_has_an_empty_portfolio_worth_nothing(owner):
    portfolio = portfolio_for(owner, tickers=prices(BTC="60000"))
    assert portfolio.holdings == () and portfolio.total_value == 0 and portfolio.change_24h_pct is None


@pytest.mark.django_db
def test_two_buys_and_a_sale_through_the_paper_engine_value_by_average_cost(owner, settings):
    settings.PRICE_TICK_SECONDS = 60  # the ticks below stay the price while the orders are placed
    account = paper_account(owner)
    for price, side, quantity in (("60000", "buy", "0.05"), ("70000", "buy", "0.05"), ("80000", "sell", "0.04")):
        publish({"BTC/USDT": price})
        order_place(actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side=side, type="market", quantity=quantity)
    bought, sold = list(Fill.objects.filter(order__side="buy")), Fill.objects.get(order__side="sell")
    assert {fill.fee_asset for fill in (*bought, sold)} == {"USDT"}

    portfolio = portfolio_for(owner)

    btc, usdt = portfolio.holding("BTC"), portfolio.holding("USDT")
    basis = sum(fill.quote_quantity + fill.fee for fill in bought) / sum(fill.quantity for fill in bought)
    assert 65000 < basis < 65100, "the two prices' average, with slippage and fees"
    assert btc.quantity == D("0.06") and abs(btc.cost_basis - basis) < D("1e-12")
    assert abs(btc.realized_pnl - (sold.quote_quantity - sold.fee - basis * sold.quantity)) < D("1e-12")
    assert abs(btc.unrealized_pnl - (80000 - basis) * D("0.06")) < D("1e-12")
    assert portfolio.total_value == usdt.quantity + 80000 * D("0.06")
    assert usdt.quantity == Balance.objects.get(account=account, asset="USDT").total


def orders_in_bulk(account, count: int) -> None:
    Order.objects.bulk_create(
        [
            Order(
                user_id=account.user_id,
                account=account,
                client_order_id=f"bulk-{number}",
                request_fingerprint="0" * 64,
                symbol="BTC/USDT",
                base_asset="BTC",
                quote_asset="USDT",
                side="buy",
                type="limit",
                quantity=D("0.001"),
                price=D("10000"),
                status="filled" if number % 2 else "cancelled",
                execution=Execution.PAPER,
            )
            for number in range(count)
        ],
        batch_size=2000,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("assets", "orders"), [(2, 10), (50, 10_000)])
def test_a_portfolio_costs_one_query_for_two_assets_or_fifty_and_never_reads_orders(
    owner, assets, orders, django_assert_num_queries
):
    paper = paper_account(owner)
    bases = ["BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK", "BNB"]
    bases += [f"TOKEN{number}" for number in range(40)]
    for base in bases[: assets - 1]:
        holds(paper, base, "2", cost_basis="10")
    orders_in_bulk(paper, orders)  # closed ones: the engine has nothing to do on the tick
    market = publish({f"{base}/USDT": "11" for base in bases[:10]})

    with CaptureQueriesContext(connection) as seen, django_assert_num_queries(1):
        portfolio = portfolio_for(owner, tickers=market)

    assert len(portfolio.holdings) == assets
    assert not any("trading_order" in query["sql"] for query in seen.captured_queries)
    assert portfolio.holding("BTC").unrealized_pnl == 2, "(11 - 10) x 2"


def test_valuation_is_pure_and_reads_only_what_it_is_given():
    """No database here: `value_portfolio` values balances it is handed (an API or a task may batch)."""
    account = TradingAccount(pk=7, name="Paper account", kind="paper")
    rows = [
        Balance(account=account, asset="BTC", total=D("2"), locked=D("0"), cost_basis=D("100"), realized_pnl=D("5")),
        Balance(account=account, asset="USDT", total=D("50"), locked=D("10")),
    ]
    portfolio = value_portfolio(rows, {t.symbol: t for t in prices(BTC="150")})
    assert portfolio.total_value == 350 and portfolio.total_unrealized_pnl == 100
    assert portfolio.holding("USDT").available == 40
