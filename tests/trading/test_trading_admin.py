"""The trading admin, as staff use it: everyone's accounts, balances, ledger, orders, fills and equity
snapshots, filtered and searched, all read-only; the ledger can be neither added to, edited nor deleted
from. Open orders are cancelled and paper accounts reset only through the audited services, marked as
done by staff. Support reads and acts on nothing; staff without the permissions, and traders, see nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services.roles import SUPPORT, role_assign
from security.models import AuditEvent
from tests.factories import TEST_ACTOR, UserFactory
from tests.helpers import admin_signed_in
from tests.trading.helpers import paper_account, publish
from trading.models import (
    Balance,
    EntryKind,
    EquitySnapshot,
    Fill,
    LedgerEntry,
    Order,
    OrderStatus,
    TradingAccount,
)
from trading.services.orders import order_place
from trading.services.portfolio import equity_snapshot_take

pytestmark = pytest.mark.django_db

TRADING_MODELS = [TradingAccount, Balance, LedgerEntry, Order, Fill, EquitySnapshot]
ORDERS = "/admin/trading/order/"
LEDGER = "/admin/trading/ledgerentry/"
ACCOUNTS = "/admin/trading/tradingaccount/"


def changelist(model) -> str:
    return f"/admin/trading/{model._meta.model_name}/"


def listed(browser: Client, url: str) -> list:
    page = browser.get(url)
    assert page.status_code == 200, url
    return list(page.context["cl"].result_list)


def a_market_buy(user, quote="1000", symbol="BTC/USDT") -> Order:
    return order_place(
        actor=TEST_ACTOR,
        account=paper_account(user),
        symbol=symbol,
        side="buy",
        type="market",
        quote_amount=Decimal(quote),
    ).order


def a_resting_limit_buy(user, price="50000", quantity="0.01") -> Order:
    return order_place(
        actor=TEST_ACTOR,
        account=paper_account(user),
        symbol="BTC/USDT",
        side="buy",
        type="limit",
        quantity=Decimal(quantity),
        price=Decimal(price),
    ).order


@pytest.fixture
def trading_history(owner, outsider):
    """Two traders with paper accounts, fills, a resting order each and a day's equity snapshot."""
    publish({"BTC/USDT": "65000", "ETH/USDT": "3000"})
    history = {
        "filled": a_market_buy(owner),
        "eth": a_market_buy(outsider, quote="600", symbol="ETH/USDT"),
        "resting": a_resting_limit_buy(owner),
        "outsiders_resting": a_resting_limit_buy(outsider, price="48000"),
    }
    equity_snapshot_take(user=owner)
    equity_snapshot_take(user=outsider)
    return history


@pytest.fixture
def support_browser(db) -> Client:
    browser = Client()
    admin_signed_in(browser, role_assign(actor=TEST_ACTOR, user=UserFactory(email="sam@example.com"), role=SUPPORT))
    return browser


def test_staff_see_everyones_orders_and_ledger_filtered_and_searched(admin_browser, trading_history, owner, outsider):
    orders = {order.pk for order in listed(admin_browser, ORDERS)}
    assert orders == set(Order.objects.values_list("pk", flat=True)) and len(orders) == 4

    open_orders = listed(admin_browser, ORDERS + "?status__exact=open")
    assert {order.pk for order in open_orders} == {
        trading_history["resting"].pk,
        trading_history["outsiders_resting"].pk,
    }
    assert {o.pk for o in listed(admin_browser, ORDERS + "?type__exact=market&side__exact=buy")} == {
        trading_history["filled"].pk,
        trading_history["eth"].pk,
    }
    assert {o.pk for o in listed(admin_browser, ORDERS + "?symbol__exact=ETH%2FUSDT")} == {trading_history["eth"].pk}
    assert {o.pk for o in listed(admin_browser, ORDERS + "?execution__exact=paper")} == orders
    assert {o.user_id for o in listed(admin_browser, ORDERS + "?q=outsider%40example.com")} == {outsider.pk}

    fees = listed(admin_browser, LEDGER + "?kind__exact=fee")
    assert fees and all(entry.kind == EntryKind.FEE for entry in fees)
    btc = listed(admin_browser, LEDGER + "?asset__exact=BTC")
    assert {entry.account.user_id for entry in btc} == {owner.pk}, "only the owner bought BTC"
    deposits = listed(admin_browser, LEDGER + "?kind__exact=deposit&account__kind__exact=paper")
    assert {entry.account.user_id for entry in deposits} == {owner.pk, outsider.pk}
    assert {e.account.user_id for e in listed(admin_browser, LEDGER + "?q=owner%40example.com")} == {owner.pk}

    page = admin_browser.get(f"{ORDERS}{trading_history['filled'].pk}/change/").content.decode()
    assert "owner@example.com" in page and "Paper engine" in page
    assert 'name="quantity"' not in page and 'name="status"' not in page, "read-only: nothing to edit"


def test_every_trading_list_answers_for_every_filter_choice_and_every_row_page(admin_browser, trading_history):
    for model in TRADING_MODELS:
        url = changelist(model)
        page = admin_browser.get(url)
        assert page.status_code == 200, url
        cl = page.context["cl"]
        assert cl.result_count >= 2, f"{url} lists the rows of both traders"
        for spec in cl.filter_specs:
            for choice in spec.choices(cl):
                answer = admin_browser.get(url + choice["query_string"])
                assert answer.status_code == 200, (url, choice["query_string"])
        assert admin_browser.get(url + "?q=owner%40example.com").status_code == 200
        for row in model.objects.all()[:5]:
            assert admin_browser.get(f"{url}{row.pk}/change/").status_code == 200, (url, row.pk)


def test_the_ledger_cannot_be_added_to_edited_or_deleted_from_the_admin(admin_browser, trading_history, owner):
    entry = LedgerEntry.objects.filter(account__user=owner, kind=EntryKind.DEPOSIT).get()
    amount = entry.amount

    assert admin_browser.get(f"{LEDGER}add/").status_code == 403
    edit = admin_browser.post(f"{LEDGER}{entry.pk}/change/", {"amount": "1000000", "asset": "USDT", "kind": "deposit"})
    assert edit.status_code == 403
    assert admin_browser.post(f"{LEDGER}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = admin_browser.get(LEDGER)
    assert f'href="{LEDGER}add/"' not in listing.content.decode(), "no Add button"
    assert listing.context["action_form"] is None or "delete_selected" not in dict(
        listing.context["action_form"].fields["action"].choices
    ), "no bulk delete"
    page = admin_browser.get(f"{LEDGER}{entry.pk}/change/").content.decode()
    assert 'name="amount"' not in page and 'name="_save"' not in page

    entry.refresh_from_db()
    assert entry.amount == amount
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_no_trading_model_can_be_added_changed_or_deleted_in_the_admin(admin_browser, trading_history):
    for model in TRADING_MODELS:
        url = changelist(model)
        assert admin_browser.get(f"{url}add/").status_code == 403, url
        row = model.objects.first()
        assert admin_browser.post(f"{url}{row.pk}/delete/", {"post": "yes"}).status_code == 403, url
        assert model.objects.filter(pk=row.pk).exists()


def test_a_list_costs_the_same_queries_for_one_row_or_many(admin_browser, owner, outsider):
    publish({"BTC/USDT": "65000", "ETH/USDT": "3000"})
    a_market_buy(owner)

    def queries(url: str) -> int:
        admin_browser.get(url)  # the first request of a session also records the session (allauth)
        with CaptureQueriesContext(connection) as captured:
            assert admin_browser.get(url).status_code == 200
        return len(captured)

    one = {model: queries(changelist(model)) for model in TRADING_MODELS}
    for _ in range(3):
        a_market_buy(outsider, quote="300")
        a_resting_limit_buy(owner)
    equity_snapshot_take(user=owner)
    equity_snapshot_take(user=outsider)
    many = {model: queries(changelist(model)) for model in TRADING_MODELS}
    assert many == one


def test_staff_cancel_selected_open_orders_through_the_service_and_filled_ones_are_left_alone(
    admin_browser, trading_history, owner
):
    resting, filled = trading_history["resting"], trading_history["filled"]
    usdt = Balance.objects.get(account__user=owner, asset="USDT")
    assert usdt.locked > 0, "the resting buy holds its reservation"

    answer = admin_browser.post(
        ORDERS, {"action": "cancel_open", "_selected_action": [resting.pk, filled.pk]}, follow=True
    )

    assert "Cancelled 1 order(s)." in answer.content.decode()
    resting.refresh_from_db()
    filled.refresh_from_db()
    assert resting.status == OrderStatus.CANCELLED and resting.reserved_amount == 0
    assert filled.status == OrderStatus.FILLED, "a filled order stays filled"
    usdt.refresh_from_db()
    assert usdt.locked == 0, "the reservation went back to the available balance"
    record = AuditEvent.objects.get(action="order.cancelled")
    assert record.user == owner and record.via == "admin" and record.details["by_staff"] is True


def test_cancelling_both_legs_of_an_oco_cancels_it_once(admin_browser, owner):
    publish({"BTC/USDT": "65000"})
    a_market_buy(owner, quote="2000")
    limit_leg = order_place(
        actor=TEST_ACTOR,
        account=paper_account(owner),
        symbol="BTC/USDT",
        side="sell",
        type="oco",
        quantity=Decimal("0.01"),
        price=Decimal("70000"),
        stop_price=Decimal("60000"),
    ).order
    legs = list(Order.objects.filter(oco_group=limit_leg.oco_group))
    assert len(legs) == 2

    answer = admin_browser.post(
        ORDERS, {"action": "cancel_open", "_selected_action": [leg.pk for leg in legs]}, follow=True
    )

    text = answer.content.decode()
    assert "Cancelled 1 order(s)." in text and "1 closed meanwhile (or with their OCO sibling)." in text
    assert {leg.status for leg in Order.objects.filter(oco_group=limit_leg.oco_group)} == {OrderStatus.CANCELLED}
    assert Balance.objects.get(account__user=owner, asset="BTC").locked == 0


def test_resetting_a_paper_account_asks_first_then_goes_through_the_service(admin_browser, trading_history, owner):
    account = paper_account(owner)
    before = Balance.objects.get(account=account, asset="USDT").total
    assert before < Decimal(10000)

    question = admin_browser.post(ACCOUNTS, {"action": "reset_paper", "_selected_action": [account.pk]})
    assert question.status_code == 200
    assert (
        "Reset these paper accounts?" in question.content.decode() and "owner@example.com" in question.content.decode()
    )
    assert Balance.objects.get(account=account, asset="USDT").total == before, "nothing happens before the yes"

    done = admin_browser.post(
        ACCOUNTS, {"action": "reset_paper", "_selected_action": [account.pk], "confirmed": "yes"}, follow=True
    )

    assert "Reset 1 paper account(s)." in done.content.decode()
    balances = {b.asset: b for b in Balance.objects.filter(account=account)}
    assert balances["USDT"].total == Decimal(10000) and balances["USDT"].locked == 0
    assert balances["BTC"].total == 0
    assert Order.objects.get(pk=trading_history["resting"].pk).status == OrderStatus.CANCELLED
    record = AuditEvent.objects.get(action="paper.reset")
    assert record.user == owner and record.via == "admin" and record.details["by_staff"] is True


def test_an_accounts_page_shows_its_balances_and_no_secret_of_its_connection(admin_browser, trading_history, owner):
    account = paper_account(owner)
    page = admin_browser.get(f"{ACCOUNTS}{account.pk}/change/").content.decode()
    assert "USDT" in page and "BTC" in page and "cost basis" in page.lower()
    assert 'name="balances-0-total"' not in page, "balances are shown, not editable"


def test_support_reads_every_trading_list_and_is_offered_no_action(support_browser, trading_history):
    for model in TRADING_MODELS:
        assert support_browser.get(changelist(model)).status_code == 200, model
    listing = support_browser.get(ORDERS).content.decode()
    assert "cancel_open" not in listing
    resting = trading_history["resting"]
    support_browser.post(ORDERS, {"action": "cancel_open", "_selected_action": [resting.pk]})
    resting.refresh_from_db()
    assert resting.status == OrderStatus.OPEN


def test_staff_without_the_view_permissions_and_traders_get_nothing(owner_client, trading_history):
    outsider_staff = Client()
    outsider_staff.force_login(UserFactory(email="newhire@example.com", is_staff=True))
    for model in TRADING_MODELS:
        for browser in (outsider_staff, owner_client):
            answer = browser.get(changelist(model))
            assert answer.status_code in (302, 403), (model, answer.status_code)
            assert b"owner@example.com" not in answer.content and b"BTC/USDT" not in answer.content
    assert outsider_staff.get(f"{ORDERS}{trading_history['filled'].pk}/change/").status_code in (302, 403)


def test_every_trading_model_is_registered_with_the_staff_gate_first():
    from cryptovault.admin_gate import StaffGateAdminMixin

    for model in TRADING_MODELS:
        model_admin = admin.site._registry[model]
        assert type(model_admin).__mro__[1] is StaffGateAdminMixin, model
