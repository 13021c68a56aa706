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
