"""The price alerts admin, as staff use it: everyone's alerts with owner, market, status and what fired
them, filtered and searched; nothing added, edited or deleted; active alerts cancelled only through
the audited service, marked as done by staff. Traders never get in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services.roles import ADMIN, role_assign
from exchanges.market.feed import Ticker
from security.models import AuditEvent
from tests.factories import TEST_ACTOR, UserFactory
from trading.models import AlertStatus, PriceAlert
from trading.services.alerts import alert_create, alerts_evaluate

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/trading/pricealert/"


@pytest.fixture
def admin_browser(db) -> Client:
    """An admin by role (every permission, not a superuser), signed in to the admin site."""
    browser = Client()
    browser.force_login(role_assign(actor=TEST_ACTOR, user=UserFactory(email="ada@example.com"), role=ADMIN))
    return browser


def an_alert(user, symbol="BTC/USDT", kind="above", threshold="70000", note="") -> PriceAlert:
    return alert_create(actor=TEST_ACTOR, user=user, symbol=symbol, kind=kind, threshold=Decimal(threshold), note=note)


def fire_btc_at(last: str) -> None:
    price = Decimal(last)
    ticker = Ticker(
        symbol="BTC/USDT",
        last=price,
        change_24h_pct=Decimal(0),
        high_24h=price,
        low_24h=price,
        volume_24h=Decimal(1),
        quote_volume_24h=price,
        source="replay",
        source_label="Replay of Binance candles from 2025-03-04",
        updated_at=timezone.now(),
    )
    alerts_evaluate(tickers=[ticker])


def listed(browser: Client, query: str = "") -> set[int]:
    page = browser.get(CHANGELIST + query)
    assert page.status_code == 200
    return {alert.pk for alert in page.context["cl"].result_list}


def test_staff_see_everyones_alerts_filter_and_search_them_and_read_what_fired_them(admin_browser, owner, outsider):
    fired = an_alert(owner, threshold="60000", note="rebalance")
    waiting = an_alert(outsider, symbol="ETH/USDT", kind="change_down", threshold="8")
    fire_btc_at("60500")

    assert listed(admin_browser) == {fired.pk, waiting.pk}
    assert listed(admin_browser, "?status__exact=fired") == {fired.pk}
    assert listed(admin_browser, "?kind__exact=change_down") == {waiting.pk}
    assert listed(admin_browser, "?q=outsider%40example.com") == {waiting.pk}
    assert listed(admin_browser, "?q=rebalance") == {fired.pk}

    page = admin_browser.get(f"{CHANGELIST}{fired.pk}/change/").content.decode()
    assert "Replay of Binance candles from 2025-03-04" in page and "rebalance" in page
    assert 'name="threshold"' not in page, "read-only: no field to edit"


def test_nothing_is_added_or_deleted_in_the_admin(admin_browser, owner):
    alert = an_alert(owner)
    assert admin_browser.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_browser.post(f"{CHANGELIST}{alert.pk}/delete/", {"post": "yes"}).status_code == 403
    assert b"delete_selected" not in admin_browser.get(CHANGELIST).content
    assert PriceAlert.objects.filter(pk=alert.pk).exists()


def test_cancelling_from_the_admin_goes_through_the_service_and_skips_what_is_not_active(admin_browser, owner):
    active = an_alert(owner, threshold="90000")
    fired = an_alert(owner, threshold="1000")
    fire_btc_at("65000")

    answer = admin_browser.post(
        CHANGELIST, {"action": "cancel", "_selected_action": [active.pk, fired.pk]}, follow=True
    )

    assert "Cancelled 1 alert(s)." in answer.content.decode()
    assert PriceAlert.objects.get(pk=active.pk).status == AlertStatus.CANCELLED
    assert PriceAlert.objects.get(pk=fired.pk).status == AlertStatus.FIRED, "fired alerts stay fired"
    record = AuditEvent.objects.get(action="alert.cancelled")
    assert record.user == owner and record.via == "admin" and record.details["by_staff"] is True


def test_a_trader_cannot_open_the_alerts_admin(owner_client, owner):
    an_alert(owner)
    answer = owner_client.get(CHANGELIST)
    assert answer.status_code in (302, 403)
    assert b"BTC/USDT" not in answer.content
