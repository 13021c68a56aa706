"""Every list page and list endpoint, with the number of queries one request costs.

tests/test_list_queries.py asks each list once with one row and again with five, and expects
exactly `queries` both times on top of what any request of that client costs before its view
runs (for a signed-in browser its session and allauth's session row, pinned once in that module;
nothing for a JWT). The pin catches an N+1 (a cost that grows with the rows) and any query a
change adds, and a change to the middleware does not break it list by list. A list with a known
N+1 says so with `per_row` until it is fixed (a test that no list has one stays an expected
failure meanwhile). Every API operation the schema documents as a list (an array, or a page of
`results`) must be listed here; list pages are listed by hand.

To pin a new list, add one entry under its app's heading:

    ListRoute("trading:orders", add_row=an_order, queries=2, rows=b'data-testid="order-row"'),

`add_row(user)` adds one row to the list `user` sees (pass `who="staff"` for a staff list, whose
rows belong to anyone). Pages are asked with a signed-in session, /api/ routes with a JWT.
`rows` counts a page's rows in its HTML; an API list counts its JSON (`results` when paginated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from accounts.models import User
from exchanges.models import ConnectionCheck, ExchangeConnection
from security.audit import audit_record
from tests.access_matrix import a_browser_session, an_api_key
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR, UserFactory
from tests.fakes.authenticator import turn_on_totp, verify_email_of


@dataclass(frozen=True)
class ListRoute:
    name: str  # the URL name with its namespaces
    add_row: Callable[[User], Any]  # one more row in the list the user (owner, or staff) sees
    queries: int  # the view's own queries (beyond what any request of the client costs), however many rows
    who: Literal["owner", "staff"] = "owner"
    rows: bytes | None = None  # for a page: what each row's HTML holds once
    per_row: int = 0  # queries each further row adds: 0, but for a known N+1 waiting for its fix
    kwargs: Callable[[Any], dict[str, Any]] | None = None  # the URL's arguments, from the first row added


# --- accounts --------------------------------------------------------------------------------------------
def an_account(staff: User) -> User:
    """Someone else's account, verified and with 2FA, so every column of the staff lists has work to do."""
    user = UserFactory()
    verify_email_of(user)
    turn_on_totp(user)
    return user


# --- security --------------------------------------------------------------------------------------------
def an_audit_record(user: User) -> None:
    audit_record("auth.password_changed", actor=TEST_ACTOR, user=user)


def a_withdrawal_address(user: User) -> Any:
    """A whitelisted EVM address, a new one each call (lowercase hex: valid, stored checksummed)."""
    from security.services.whitelist import withdrawal_address_add

    count = user.withdrawal_addresses.count()
    return withdrawal_address_add(
        actor=TEST_ACTOR.signed_in_as(user),
        asset="ETH",
        network="ETH",
        address=f"0x{count + 1:040x}",
        label=f"Wallet {count + 1}",
    )


# --- exchanges -------------------------------------------------------------------------------------------
def a_connection(user: User) -> ExchangeConnection:
    keys = {"api_key": "list-key-0001", "secret": "list-secret-0001"}
    count = ExchangeConnection.objects.visible_to(user).count()
    return connect(user, keys, nickname=f"List {count + 1}", save_untested=True)


def a_connection_audit_record(user: User) -> None:
    audit_record("exchange.tested", actor=TEST_ACTOR, user=user, exchange="binance", result="ok")


def a_check(user: User) -> ConnectionCheck:
    """One more check of the user's first connection (made on the first call)."""
    connection = ExchangeConnection.objects.visible_to(user).first() or a_connection(user)
    return ConnectionCheck.objects.create(connection=connection, trigger="manual", ok=True, code="ok", latency_ms=40)


LIST_ROUTES: list[ListRoute] = [
    ListRoute("accounts:sessions", add_row=a_browser_session, queries=2, rows=b'data-testid="session-row"'),
    ListRoute("v1:auth-sessions", add_row=a_browser_session, queries=3),
    ListRoute("accounts:api_keys", add_row=an_api_key, queries=1, rows=b'data-testid="api-key-row"'),
    ListRoute("v1:auth-api-keys", add_row=an_api_key, queries=3),
    ListRoute("v1:auth-users", add_row=an_account, queries=5, who="staff"),  # + the staff second-factor check
    ListRoute(
        "admin:accounts_user_changelist", add_row=an_account, queries=5, who="staff", rows=b'class="action-checkbox"'
    ),
    ListRoute("security:activity", add_row=an_audit_record, queries=3, rows=b'data-testid="activity-row"'),
    ListRoute("v1:security:audit", add_row=an_audit_record, queries=3),
    ListRoute(
        "security:withdrawal_addresses",
        add_row=a_withdrawal_address,
        queries=3,
        rows=b'data-testid="withdrawal-address-row"',
    ),
    ListRoute("v1:security:withdrawal-addresses", add_row=a_withdrawal_address, queries=3),
    ListRoute("exchanges:connections", add_row=a_connection, queries=3, rows=b"data-connection-id="),
    ListRoute("v1:exchanges:connection-list", add_row=a_connection, queries=3),
    ListRoute("v1:exchanges:connection-audit", add_row=a_connection_audit_record, queries=3),
    ListRoute(
        "v1:exchanges:connection-checks",
        add_row=a_check,
        queries=3,
        kwargs=lambda check: {"connection_id": check.connection_id},
    ),
]

# Lists whose rows no user adds, so "one row or many" has no meaning: name, why.
FIXED_LISTS: dict[str, str] = {
    "v1:exchanges:exchange-list": "the exchange catalogue, fixed in code (exchanges/catalogue.py); no query at all",
    "v1:exchanges:market-tickers": "the MARKET_SYMBOLS tickers, from the cache or the exchange; no query at all",
}


# --- trading ---------------------------------------------------------------------------------------------
def a_price_alert(user: User) -> Any:
    from decimal import Decimal

    from trading.services.alerts import alert_create

    return alert_create(actor=TEST_ACTOR, user=user, symbol="ETH/USDT", kind="below", threshold=Decimal("100"))


LIST_ROUTES += [
    ListRoute("trading:alerts", add_row=a_price_alert, queries=2, rows=b'data-testid="alert-row"'),
    ListRoute("v1:trading:alert-list", add_row=a_price_alert, queries=3),
]


def an_order_page_row(user: User) -> Any:
    from tests.access_matrix import an_open_order

    return an_open_order(user)


def a_ledger_entry(user: User) -> Any:
    """One more entry: a 1 USDT adjustment (the first call also opens the paper account, its deposit)."""
    from decimal import Decimal

    from django.db import transaction

    from tests.access_matrix import a_paper_account
    from trading.models import EntryKind
    from trading.services.ledger import lock_balances, post_entry

    account = a_paper_account(user)
    with transaction.atomic():
        balance = lock_balances(account, ["USDT"])["USDT"]
        return post_entry(balance=balance, kind=EntryKind.ADJUSTMENT, amount=Decimal("1"))


LIST_ROUTES += [
    ListRoute("trading:orders", add_row=an_order_page_row, queries=1, rows=b'data-testid="open-order-row"'),
    ListRoute("trading:order_history", add_row=an_order_page_row, queries=3, rows=b'data-testid="order-row"'),
    ListRoute("trading:transactions", add_row=a_ledger_entry, queries=3, rows=b'data-testid="transaction-row"'),
]


# --- trading: accounts, orders, trades, transactions, equity history (API) ---
def a_paper_price() -> None:
    from tests.trading.helpers import publish

    publish({"BTC/USDT": "65000"})


def a_trading_account(user: User) -> Any:
    """The paper account first, then one exchange account per new connection (saved untested)."""
    from trading.models import TradingAccount
    from trading.services.accounts import paper_account_open

    if not TradingAccount.objects.visible_to(user).exists():
        return paper_account_open(actor=TEST_ACTOR, user=user)
    count = TradingAccount.objects.visible_to(user).count()
    keys = {"api_key": "list-key-0002", "secret": "list-secret-0002"}
    return connect(user, keys, nickname=f"Trading {count}", save_untested=True).trading_account


def an_api_order(user: User) -> Any:
    from decimal import Decimal

    from trading.services.accounts import paper_account_open
    from trading.services.orders import order_place

    a_paper_price()
    account = paper_account_open(actor=TEST_ACTOR, user=user)
    return order_place(
        actor=TEST_ACTOR,
        account=account,
        symbol="BTC/USDT",
        side="buy",
        type="limit",
        quantity=Decimal("0.001"),
        price=Decimal("10000"),
    ).order


def a_fill(user: User) -> Any:
    from decimal import Decimal

    from trading.services.accounts import paper_account_open
    from trading.services.orders import order_place

    a_paper_price()
    account = paper_account_open(actor=TEST_ACTOR, user=user)
    return order_place(
        actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="market", quantity=Decimal("0.001")
    ).order


def a_ledger_row(user: User) -> Any:
    """The opening deposit first, then one adjustment entry per call."""
    from decimal import Decimal

    from django.db import transaction

    from trading.models import EntryKind, TradingAccount
    from trading.services.accounts import paper_account_open
    from trading.services.ledger import lock_balances, post_entry

    if not TradingAccount.objects.visible_to(user).exists():
        return paper_account_open(actor=TEST_ACTOR, user=user)
    account = paper_account_open(actor=TEST_ACTOR, user=user)
    with transaction.atomic():
        balance = lock_balances(account, ["USDT"])["USDT"]
        return post_entry(balance=balance, kind=EntryKind.ADJUSTMENT, amount=Decimal(1), note="list test")


def an_equity_snapshot(user: User) -> Any:
    from datetime import date, timedelta

    from trading.models import EquitySnapshot
    from trading.services.portfolio import equity_snapshot_take

    days = EquitySnapshot.objects.visible_to(user).count()
    return equity_snapshot_take(user=user, day=date(2026, 1, 1) + timedelta(days=days))


LIST_ROUTES += [
    ListRoute("v1:trading:account-list", add_row=a_trading_account, queries=3),
    ListRoute("v1:trading:order-list", add_row=an_api_order, queries=3),
    ListRoute("v1:trading:trade-list", add_row=a_fill, queries=3),
    ListRoute("v1:trading:transaction-list", add_row=a_ledger_row, queries=3),
    ListRoute("v1:trading:portfolio-history", add_row=an_equity_snapshot, queries=3),
]


# --- analytics: backtests --------------------------------------------------------------------------------
def a_backtest(user: User) -> Any:
    from tests.access_matrix import a_queued_backtest

    return a_queued_backtest(user)


LIST_ROUTES += [
    ListRoute("analytics:backtests", add_row=a_backtest, queries=2, rows=b'data-testid="backtest-row"'),
    ListRoute("v1:backtests:backtest-list", add_row=a_backtest, queries=3),
    ListRoute(
        "admin:analytics_backtest_changelist", add_row=a_backtest, queries=6, who="staff", rows=b'class="field-__str__"'
    ),
]


# --- backups ---------------------------------------------------------------------------------------------
def a_backup(staff: User) -> Any:
    from tests.access_matrix import a_backup_record

    return a_backup_record(staff)


LIST_ROUTES += [
    ListRoute("v1:backups:backup-list", add_row=a_backup, queries=4, who="staff"),  # + the staff second-factor check
    ListRoute(
        "admin:backups_backup_changelist", add_row=a_backup, queries=11, who="staff", rows=b'class="action-checkbox"'
    ),
]


# --- security: IP allowlist ------------------------------------------------------------------------------
def an_ip_allowlist_row(user: User) -> Any:
    from cryptovault.actor import Actor
    from security.models import IpAllowlistEntry
    from security.services.ip_allowlist import ip_allowlist_add

    count = IpAllowlistEntry.objects.visible_to(user).count()
    return ip_allowlist_add(actor=Actor.for_command("tests", user=user), network=f"10.{count}.0.0/16", label="List")


LIST_ROUTES += [
    ListRoute("security:allowlist", add_row=an_ip_allowlist_row, queries=1, rows=b'data-testid="allowlist-row"'),
    ListRoute("v1:security:ip-allowlist", add_row=an_ip_allowlist_row, queries=2),  # no pages: at most 50 rows
]


# --- trading: the wallet ----------------------------------------------------------------------------------
def a_withdrawal(user: User) -> Any:
    from tests.access_matrix import a_pending_withdrawal

    return a_pending_withdrawal(user)


LIST_ROUTES += [
    ListRoute("wallet:wallet", add_row=a_withdrawal, queries=9, rows=b'data-testid="withdrawal-row"'),
    ListRoute("v1:wallet:withdrawal-list", add_row=a_withdrawal, queries=3),
    ListRoute(
        "admin:trading_withdrawal_changelist",
        add_row=a_withdrawal,
        queries=7,
        who="staff",
        rows=b'class="action-checkbox"',
    ),
]


# --- accounts: the notification centre --------------------------------------------------------------------
def a_notification(user: User) -> Any:
    from tests.access_matrix import a_notification as made

    return made(user)


LIST_ROUTES += [
    ListRoute("notifications:list", add_row=a_notification, queries=2, rows=b'data-testid="notification-row"'),
    ListRoute("v1:notifications", add_row=a_notification, queries=3),
]
