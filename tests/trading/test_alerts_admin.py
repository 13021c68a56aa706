"""The price alerts admin, as staff use it: everyone's alerts with owner, market, status and what fired
them, filtered and searched; nothing added, edited or deleted; active alerts cancelled only through
the audited service, marked as done by staff. Traders never get in."""

from __future__ import annotations

import pytest
from django.test import Client

from security.models import AuditEvent
from tests.trading.helpers import REPLAYED, an_alert, fire_at
from trading.models import AlertStatus, PriceAlert

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/trading/pricealert/"


def listed(browser: Client, query: str = "") -> set[int]:
    page = browser.get(CHANGELIST + query)
    assert page.status_code == 200
    return {alert.pk for alert in page.context["cl"].result_list}


def test_staff_see_everyones_alerts_filter_and_search_them_and_read_what_fired_them(admin_browser, owner, outsider):
    fired = an_alert(owner, threshold="60000", note="rebalance")
    waiting = an_alert(outsider, symbol="ETH/USDT", kind="change_down", threshold="8")
    fire_at("BTC/USDT", "60500", **REPLAYED)

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
    fire_at("BTC/USDT", "65000", **REPLAYED)

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
