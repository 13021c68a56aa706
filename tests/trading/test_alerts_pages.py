"""The alerts page (/alerts/): the owner's list with its filters, the new-alert form on the same page,
and cancelling after a confirmation. Another user's alert is not found (tests/access_matrix.py)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.helpers import text
from tests.trading.helpers import REPLAYED, an_alert, fire_at
from trading.models import AlertStatus, PriceAlert
from trading.services import alerts as alert_services

pytestmark = pytest.mark.django_db
PAGE = "/alerts/"
ROW = re.compile(r'data-testid="alert-row" data-alert-id="(\d+)"')


def listed(response) -> list[int]:
    return [int(pk) for pk in ROW.findall(response.content.decode())]


def test_the_page_lists_only_the_owners_alerts_newest_first_with_what_fired_them(owner_client, owner, outsider):
    older = an_alert(owner, threshold="60000", note="half out")
    newer = an_alert(owner, symbol="ETH/USDT", kind="change_down", threshold="7.5")
    an_alert(outsider, threshold="1")
    fire_at("BTC/USDT", "61000.25", change="1.5", **REPLAYED)

    page = owner_client.get(PAGE)

    assert page.status_code == 200
    assert listed(page) == [newer.pk, older.pk]
    shown = text(page)
    assert "ETH/USDT down 7.5% or more in 24 h" in shown and "BTC/USDT at or above 60,000" in shown
    assert "at 61,000.25" in shown and "Replay of Binance candles from 2025-03-04" in shown, "fired from a replay"
    assert "half out" in shown
    assert '<a href="/alerts/" aria-current="page">Alerts</a>' in page.content.decode(), "in the navigation"
    assert f"/alerts/{newer.pk}/cancel/" in shown and f"/alerts/{older.pk}/cancel/" not in shown, "only active ones"


def test_setting_an_alert_from_the_page_stores_it_and_says_what_was_set(owner_client, owner):
    answer = owner_client.post(
        PAGE, {"symbol": "SOL/USDT", "kind": "below", "threshold": "142.5", "note": "buy the dip"}, follow=True
    )

    alert = PriceAlert.objects.get(user=owner)
    assert (alert.symbol, alert.kind, alert.threshold, alert.note, alert.status) == (
        "SOL/USDT",
        "below",
        Decimal("142.5"),
        "buy the dip",
        AlertStatus.ACTIVE,
    )
    assert answer.redirect_chain == [(PAGE, 302)]
    assert "Alert set: SOL/USDT at or below 142.5." in text(answer)
    assert listed(answer) == [alert.pk]


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"symbol": "PEPE/USDT", "kind": "above", "threshold": "1"}, "Select a valid choice"),
        ({"symbol": "BTC/USDT", "kind": "sideways", "threshold": "1"}, "Select a valid choice"),
        ({"symbol": "BTC/USDT", "kind": "above", "threshold": "0"}, "Enter a threshold greater than 0."),
        ({"symbol": "BTC/USDT", "kind": "below", "threshold": "-3"}, "Enter a threshold greater than 0."),
        ({"symbol": "BTC/USDT", "kind": "above", "threshold": "5000000000000"}, "at most 1,000,000,000,000"),
        ({"symbol": "BTC/USDT", "kind": "change_up", "threshold": "2000"}, "at most 1,000%"),
        ({"symbol": "BTC/USDT", "kind": "above", "threshold": "lots"}, "Enter a number."),
        ({"symbol": "BTC/USDT", "kind": "above", "threshold": "10", "note": "n" * 201}, "at most 200 characters"),
        ({"symbol": "BTC/USDT", "kind": "above", "threshold": "10", "note": "tab\there"}, "printable"),
    ],
)
def test_an_alert_the_rules_refuse_is_shown_on_the_form_and_nothing_is_stored(owner_client, form, says):
    answer = owner_client.post(PAGE, form)

    assert answer.status_code == 200
    assert says in answer.content.decode()
    assert 'class="errorlist' in answer.content.decode()
    assert not PriceAlert.objects.exists()


def test_the_form_says_when_the_account_has_as_many_alerts_as_it_may(owner_client, owner, monkeypatch):
    monkeypatch.setattr(alert_services, "MAX_ACTIVE_ALERTS_PER_USER", 2)
    an_alert(owner)
    an_alert(owner)

    answer = owner_client.post(PAGE, {"symbol": "BTC/USDT", "kind": "above", "threshold": "80000"})

    assert "You have 2 active alerts, the most we keep per account." in text(answer)
    assert PriceAlert.objects.filter(user=owner).count() == 2


def test_the_filters_narrow_the_list_and_a_bad_one_is_explained(owner_client, owner):
    btc = an_alert(owner, threshold="60000")
    eth = an_alert(owner, symbol="ETH/USDT", kind="below", threshold="100")
    sol = an_alert(owner, symbol="SOL/USDT", kind="change_up", threshold="5")
    fire_at("BTC/USDT", "65000", change="1.5", **REPLAYED)

    assert listed(owner_client.get(PAGE, {"status": "active"})) == [sol.pk, eth.pk]
    assert listed(owner_client.get(PAGE, {"status": "fired"})) == [btc.pk]
    assert listed(owner_client.get(PAGE, {"kind": "change_up"})) == [sol.pk]
    assert listed(owner_client.get(PAGE, {"symbol": "ETH/USDT"})) == [eth.pk]
    nothing = owner_client.get(PAGE, {"symbol": "ETH/USDT", "status": "fired"})
    assert listed(nothing) == [] and "No alert matches these filters." in text(nothing)

    bad = owner_client.get(PAGE, {"status": "snoozed"})
    assert listed(bad) == [] and "Correct the filters below to see your alerts." in text(bad)


def test_cancelling_asks_first_and_then_stops_the_alert(owner_client, owner):
    alert = an_alert(owner, threshold="65000", note="stop watching")
    url = f"/alerts/{alert.pk}/cancel/"

    asked = owner_client.get(url)
    assert asked.status_code == 200 and "Cancel this alert?" in text(asked)
    assert "BTC/USDT at or above 65,000" in text(asked)
    assert PriceAlert.objects.get(pk=alert.pk).status == AlertStatus.ACTIVE, "asking changes nothing"

    done = owner_client.post(url, follow=True)
    assert done.redirect_chain == [(PAGE, 302)]
    assert "Alert cancelled: BTC/USDT at or above 65,000." in text(done)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CANCELLED
    assert "Cancelled" in text(done) and f"/alerts/{alert.pk}/cancel/" not in text(done)


def test_an_alert_that_fired_before_the_cancel_says_it_fired_and_stays_fired(owner_client, owner):
    alert = an_alert(owner, threshold="65000")
    url = f"/alerts/{alert.pk}/cancel/"
    owner_client.get(url)  # the owner opens the confirmation...
    fire_at("BTC/USDT", "65001", change="1.5", **REPLAYED)  # ...the price gets there first...

    answer = owner_client.post(url)  # ...then the owner confirms

    assert answer.status_code == 200
    assert "already fired" in text(answer) and "it stays fired" in text(answer)
    assert PriceAlert.objects.get(pk=alert.pk).status == AlertStatus.FIRED


def test_the_page_asks_a_visitor_to_sign_in(client):
    answer = client.get(PAGE)
    assert answer.status_code == 302 and answer.url.startswith("/accounts/login/")
