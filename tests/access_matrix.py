"""The owner/outsider access matrix: every route that reaches an object by an id in its URL.

tests/test_access_matrix.py walks the URL resolver (pages and API, through every include) and
the OpenAPI schema, and fails naming any route with an id that is not listed here. So a new
route cannot ship without being tried: for each method it answers, a signed-in outsider must
get 404 for the owner's object (and leave it as it was), and the owner must get through.

To register a route, add one entry below, under its app's heading:

    OwnedRoute("trading:order_cancel", make=an_order, methods=("POST",)),

`make(user)` creates an object that `user` owns (through the app's services or factories) and
returns it; its primary key fills the route's one URL argument (pass `kwargs=` for routes with
several). Routes under /api/ are tried with JWT clients, pages with signed-in sessions.
Routes only staff may use go in STAFF_ROUTES (403 for everyone else); routes whose ids are not
objects a signed-in user owns go in EXCLUDED, with the reason. The matrix cannot open websockets:
a websocket route with an id needs its own owner/outsider test, named in EXCLUDED_PREFIXES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from allauth.usersessions.models import UserSession
from django.db.models import Model
from django.test import Client

from accounts.models import ApiKey, User
from accounts.services.api_keys import api_key_create
from exchanges.models import ExchangeConnection
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR
from tests.helpers import PASSWORD

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class OwnedRoute:
    """A route that reaches one user-owned object by its id."""

    name: str  # the URL name with its namespaces: "accounts:session_revoke", "v1:auth-api-key"
    make: Callable[[User], Model]  # an object owned by the given user
    methods: tuple[str, ...]  # every method the route answers; any other must be a 405
    kwargs: Callable[[Model], dict[str, Any]] | None = None  # default: {the route's one argument: pk}
    data: dict[str, Any] = field(default_factory=dict)  # the body sent with POST, PUT and PATCH
    # What "left as it was" means beyond the row itself (compared field by field in any case).
    still_intact: Callable[[Model], bool] = lambda obj: True


@dataclass(frozen=True)
class StaffRoute:
    """A route for staff holding a permission: 403 for every other signed-in user."""

    name: str
    make: Callable[[User], Model]  # the object, owned by (or being) a user who is not staff
    methods: tuple[str, ...]
    kwargs: Callable[[Model], dict[str, Any]] | None = None
    data: dict[str, Any] = field(default_factory=dict)


# --- accounts --------------------------------------------------------------------------------------------
def a_browser_session(user: User) -> UserSession:
    """The user signed in from another browser, through the sign-in page."""
    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0")
    answer = browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert answer.status_code == 302, answer.content
    return UserSession.objects.get(session_key=browser.session.session_key)


def an_api_key(user: User) -> ApiKey:
    key, _ = api_key_create(actor=TEST_ACTOR, user=user, name="Matrix", scopes=["read"])
    return key


def still_signed_in(session: UserSession) -> bool:
    return session.exists()


def the_user(user: User) -> User:
    return user


# --- exchanges -------------------------------------------------------------------------------------------
def an_exchange_connection(user: User) -> ExchangeConnection:
    """A connection saved past a failing test (no key issued on the emulator): every route still has a row."""
    keys = {"api_key": "matrix-key-0001", "secret": "matrix-secret-0001"}
    return connect(user, keys, nickname=f"Matrix {user.pk}", save_untested=True)


OWNED_ROUTES: list[OwnedRoute] = [
    OwnedRoute("accounts:session_revoke", make=a_browser_session, methods=("POST",), still_intact=still_signed_in),
    OwnedRoute("accounts:api_key_revoke", make=an_api_key, methods=("POST",)),
    OwnedRoute("v1:auth-session", make=a_browser_session, methods=("DELETE",), still_intact=still_signed_in),
    OwnedRoute("v1:auth-api-key", make=an_api_key, methods=("GET", "DELETE")),
    OwnedRoute(
        "v1:exchanges:connection-detail",
        make=an_exchange_connection,
        methods=("GET", "PATCH", "DELETE"),
        data={"nickname": "Renamed"},
    ),
    OwnedRoute("v1:exchanges:connection-check", make=an_exchange_connection, methods=("POST",)),
    OwnedRoute("v1:exchanges:connection-checks", make=an_exchange_connection, methods=("GET",)),
    OwnedRoute(
        "exchanges:connection_edit",
        make=an_exchange_connection,
        methods=("GET", "POST"),
        data={"nickname": "Renamed", "features": ["trading"]},
    ),
    OwnedRoute("exchanges:connection_test", make=an_exchange_connection, methods=("POST",)),
    OwnedRoute("exchanges:connection_rotate", make=an_exchange_connection, methods=("GET", "POST")),
    OwnedRoute("exchanges:connection_revoke", make=an_exchange_connection, methods=("GET", "POST")),
]

STAFF_ROUTES: list[StaffRoute] = [
    StaffRoute("v1:auth-user", make=the_user, methods=("GET",)),
]

# Routes with ids that are not a signed-in user's objects: matched by URL name, or by where the
# route starts for whole sites (the admin's patterns are partly unnamed).
EXCLUDED: dict[str, str] = {
    "account_reset_password_from_key": "allauth's password-reset link: a signed token for a visitor who is "
    "signed out, checked by allauth (tests/accounts/test_api_passwords.py)",
    "account_confirm_email": "allauth's email-confirmation link: a signed key, not an object id "
    "(tests/accounts/test_pages_verification.py)",
    "v1:exchanges:connection-rotate": "rotation needs a fresh second factor, which the matrix's owner lacks (a 403 "
    "before the id is read would hide nothing); tests/exchanges/test_api.py tries the outsider's 404 and the "
    "owner's rotation with a secured token",
    "v1:exchanges:market-detail": "a market by its symbol (BTC-USDT): public data every signed-in user reads, "
    "not an object anyone owns (tests/exchanges/market/test_api.py)",
    "v1:exchanges:market-candles": "a market's candles by symbol: public data (tests/exchanges/market/test_api.py)",
    "v1:exchanges:market-indicators": "a market's indicators by symbol: public data "
    "(tests/exchanges/market/test_api.py)",
    "v1:exchanges:market-orderbook": "a market's order book by symbol: public data "
    "(tests/exchanges/market/test_api.py)",
    "market:chart": "a market's chart page by symbol: public data (tests/exchanges/market/test_pages.py)",
    "exchanges:guide": "an exchange's guide, by its catalogue id (binance, kucoin, ...): public to every "
    "signed-in trader, not an object anyone owns (tests/exchanges/test_pages.py)",
}
EXCLUDED_PREFIXES: dict[str, str] = {
    "admin/": "Django's admin: staff only, each ModelAdmin's queryset starts from the staff gate "
    "(cryptovault.admin_gate); tests/accounts/test_admin.py tries it as support, admin and trader",
}


# --- trading ---------------------------------------------------------------------------------------------
def a_price_alert(user: User) -> Model:
    """An active alert far above any price, so no tick fires it while the matrix runs."""
    from decimal import Decimal

    from trading.services.alerts import alert_create

    return alert_create(actor=TEST_ACTOR, user=user, symbol="BTC/USDT", kind="above", threshold=Decimal("9999999"))


OWNED_ROUTES += [
    OwnedRoute("v1:trading:alert-detail", make=a_price_alert, methods=("GET", "DELETE")),
    OwnedRoute("trading:alert_cancel", make=a_price_alert, methods=("GET", "POST")),
]


def a_paper_account(user: User) -> Model:
    from trading.services.accounts import paper_account_open

    return paper_account_open(actor=TEST_ACTOR, user=user)


def an_open_order(user: User) -> Model:
    """A paper limit buy far below the market: it rests, open, reserving its quote."""
    from decimal import Decimal

    from tests.trading.helpers import publish
    from trading.services.orders import order_place

    publish({"BTC/USDT": "65000"})
    return order_place(
        actor=TEST_ACTOR,
        account=a_paper_account(user),
        symbol="BTC/USDT",
        side="buy",
        type="limit",
        quantity=Decimal("0.002"),
        price=Decimal("10000"),
    ).order


def never_reset(account: Model) -> bool:
    return not account.ledger_entries.filter(kind="reset").exists()


def still_open_and_reserved(order: Model) -> bool:
    order.refresh_from_db()
    return order.is_open and order.reserved_amount > 0 and order.account.balances.get(asset="USDT").locked > 0


OWNED_ROUTES += [
    OwnedRoute("trading:order_detail", make=an_open_order, methods=("GET",)),
    OwnedRoute(
        "trading:order_cancel", make=an_open_order, methods=("GET", "POST"), still_intact=still_open_and_reserved
    ),
    OwnedRoute("trading:paper_reset", make=a_paper_account, methods=("GET", "POST"), still_intact=never_reset),
]

OWNED_ROUTES += [
    OwnedRoute("v1:trading:account-detail", make=a_paper_account, methods=("GET",)),
    OwnedRoute(
        "v1:trading:account-reset",
        make=a_paper_account,
        methods=("POST",),
        data={"confirm": True},
        still_intact=never_reset,
    ),
    OwnedRoute("v1:trading:order-detail", make=an_open_order, methods=("GET",)),
    OwnedRoute("v1:trading:order-cancel", make=an_open_order, methods=("POST",), still_intact=still_open_and_reserved),
]


# --- analytics: backtests --------------------------------------------------------------------------------
def a_queued_backtest(user: User) -> Model:
    """A backtest row still queued (no worker runs in the matrix), so the owner's cancel succeeds."""
    from datetime import UTC, datetime

    from analytics.models import Backtest

    return Backtest.objects.create(
        user=user,
        strategy="sma_cross",
        params={"fast": 10, "slow": 30},
        symbol="BTC/USDT",
        timeframe="1d",
        start=datetime(2023, 1, 1, tzinfo=UTC),
        end=datetime(2023, 12, 31, tzinfo=UTC),
        execution={"fee": 0.001},
    )


def still_queued(backtest: Model) -> bool:
    backtest.refresh_from_db()
    return backtest.status == "queued"


OWNED_ROUTES += [
    OwnedRoute("analytics:backtest_detail", make=a_queued_backtest, methods=("GET",)),
    OwnedRoute("analytics:backtest_cancel", make=a_queued_backtest, methods=("GET", "POST"), still_intact=still_queued),
    OwnedRoute("v1:backtests:backtest-detail", make=a_queued_backtest, methods=("GET",)),
    OwnedRoute("v1:backtests:backtest-cancel", make=a_queued_backtest, methods=("POST",), still_intact=still_queued),
]


# --- backups ---------------------------------------------------------------------------------------------
def a_backup_record(user: User) -> Model:
    """A finished backup's record; no object behind it (the matrix's requests stop before storage)."""
    import uuid

    from django.db import connection
    from django.utils import timezone

    from backups.models import Backup

    now = timezone.now()
    return Backup.objects.create(
        kind="manual",
        engine="postgresql" if connection.vendor == "postgresql" else "sqlite",  # this database's, or refused
        status="succeeded",
        storage_name=f"backups/matrix-{uuid.uuid4().hex}.cvbk",
        checksum="0" * 64,
        size=1,
        started_at=now,
        finished_at=now,
    )


STAFF_ROUTES += [
    StaffRoute("v1:backups:backup-verify", make=a_backup_record, methods=("POST",)),
    StaffRoute(
        "v1:backups:backup-restore",
        make=a_backup_record,
        methods=("POST",),
        data={"target": "scratch", "database": "cv_backups_scratch_matrix"},
    ),
]


# --- security: the withdrawal whitelist -------------------------------------------------------------------
def a_withdrawal_address(user: User) -> Model:
    """Whitelisted by an operator's command (no second factor to give); cooling down as any new one."""
    from security.services.whitelist import withdrawal_address_add

    return withdrawal_address_add(
        actor=TEST_ACTOR.signed_in_as(user),
        asset="BTC",
        network="BTC",
        address="bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        label="Matrix",
    )


def still_whitelisted(address: Model) -> bool:
    address.refresh_from_db()
    return address.removed_at is None


OWNED_ROUTES += [
    OwnedRoute(
        "security:withdrawal_address_remove",
        make=a_withdrawal_address,
        methods=("GET", "POST"),
        still_intact=still_whitelisted,
    ),
]
EXCLUDED["v1:security:withdrawal-address"] = (
    "removing needs a fresh second factor, which the matrix's owner lacks (a 403 before the id is read would "
    "hide nothing); tests/security/test_whitelist_api.py tries the outsider's 404 for GET and DELETE and the "
    "owner's removal with a secured client"
)


# --- security: IP allowlist ------------------------------------------------------------------------------
def an_ip_allowlist_entry(user: User) -> Model:
    """An entry holding the test client's address (127.0.0.1), so the owner's own requests are allowed."""
    from cryptovault.actor import Actor
    from security.services.ip_allowlist import ip_allowlist_add

    return ip_allowlist_add(actor=Actor.for_command("tests", user=user), network="127.0.0.0/8", label="Matrix")


OWNED_ROUTES += [
    OwnedRoute("security:allowlist_remove", make=an_ip_allowlist_entry, methods=("GET", "POST")),
]
EXCLUDED["v1:security:ip-allowlist-entry"] = (
    "removing an entry needs a fresh second factor, which the matrix's owner lacks (a 403 before the id is read "
    "would hide nothing); tests/security/test_ip_allowlist.py tries the outsider's 404 on GET and DELETE and the "
    "owner's removal with a secured token"
)


# --- trading: the wallet (withdrawals) --------------------------------------------------------------------
def a_pending_withdrawal(user: User) -> Model:
    """A paper withdrawal of 100 USDT, pending (cancellable), to a whitelisted address past its cooldown."""
    from datetime import timedelta

    from django.utils import timezone

    from security.models import WithdrawalAddress
    from security.services.whitelist import withdrawal_address_add
    from trading.services.withdrawals import withdrawal_request

    actor = TEST_ACTOR.signed_in_as(user)
    address = WithdrawalAddress.objects.filter(user=user, label="Matrix", removed_at__isnull=True).first()
    if address is None:
        address = withdrawal_address_add(
            actor=actor,
            asset="USDT",
            network="ETH",
            address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            label="Matrix",
        )
        WithdrawalAddress.objects.filter(pk=address.pk).update(usable_from=timezone.now() - timedelta(seconds=1))
    return withdrawal_request(
        actor=actor, account=a_paper_account(user), asset="USDT", network="ETH", amount="100", destination_id=address.pk
    )


def still_pending(withdrawal: Model) -> bool:
    withdrawal.refresh_from_db()
    return withdrawal.status == "pending" and not withdrawal.ledger_entries.filter(amount__gt=0).exists()


OWNED_ROUTES += [
    OwnedRoute(
        "wallet:withdrawal_cancel", make=a_pending_withdrawal, methods=("GET", "POST"), still_intact=still_pending
    ),
    OwnedRoute("v1:wallet:withdrawal-detail", make=a_pending_withdrawal, methods=("GET",)),
    OwnedRoute("v1:wallet:withdrawal-cancel", make=a_pending_withdrawal, methods=("POST",), still_intact=still_pending),
]


# --- accounts: the notification centre --------------------------------------------------------------------
def a_notification(user: User) -> Model:
    from accounts.notify import notify

    return notify(user=user, event="security.api_key_created", context={"key_name": "Matrix"})


def still_unread(notification: Model) -> bool:
    notification.refresh_from_db()
    return notification.read_at is None


OWNED_ROUTES += [
    OwnedRoute("notifications:read", make=a_notification, methods=("POST",), still_intact=still_unread),
    OwnedRoute("v1:notification-read", make=a_notification, methods=("POST",), still_intact=still_unread),
]
