"""Price alerts through their services: what may be set, cancelling, which ticks reach which alerts,
firing exactly once (across ticks and across two publishers racing), and what a tick costs.

Ticks are real `exchanges.market.feed.Ticker`s, as the publisher sends them.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection

from cryptovault.actor import Actor
from exchanges.errors import UnknownSymbol
from security.models import AuditEvent
from tests.factories import TEST_ACTOR, UserFactory
from tests.trading.helpers import an_alert, tick
from trading.errors import AlertLimitReached, AlertNotActive
from trading.models import AlertStatus, PriceAlert
from trading.services import alerts as alert_services
from trading.services.alerts import alert_cancel, alert_create, alert_fire, alerts_evaluate

pytestmark = pytest.mark.django_db


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- setting an alert ------------------------------------------------------------------------------------
def test_an_alert_on_a_followed_market_is_stored_active_in_the_one_spelling_and_audited(owner):
    alert = alert_create(
        actor=TEST_ACTOR, user=owner, symbol="btc-usdt", kind="above", threshold="70000.5", note="  take profit  "
    )

    alert.refresh_from_db()
    assert (alert.symbol, alert.kind, alert.threshold, alert.status) == (
        "BTC/USDT",
        "above",
        Decimal("70000.5"),
        AlertStatus.ACTIVE,
    )
    assert alert.note == "take profit" and alert.fired_at is None
    assert alert.condition_text == "BTC/USDT at or above 70,000.5"
    record = AuditEvent.objects.get(action="alert.created")
    assert record.user == owner and record.details["alert_id"] == alert.pk and record.details["symbol"] == "BTC/USDT"


def test_a_market_we_do_not_follow_is_refused_on_the_symbol(owner):
    with pytest.raises(UnknownSymbol) as refused:
        an_alert(owner, symbol="PEPE/USDT")
    assert refused.value.field == "symbol" and "PEPE/USDT" in refused.value.message
    assert not PriceAlert.objects.exists()


@pytest.mark.parametrize(
    ("kind", "threshold", "note", "field", "says"),
    [
        ("above", "0", "", "threshold", "greater than 0"),
        ("below", "-5", "", "threshold", "greater than 0"),
        ("above", "1000000000000.01", "", "threshold", "at most 1,000,000,000,000"),
        ("change_up", "1000.5", "", "threshold", "at most 1,000%"),
        ("above", "0.0000000000000000001", "", "threshold", "decimal places"),
        ("sideways", "10", "", "kind", "not a valid choice"),
        ("above", "10", "x" * 201, "note", "at most 200 characters"),
        ("above", "10", "line one\nline two", "note", "printable"),
    ],
)
def test_an_alert_out_of_bounds_is_refused_on_its_field_and_not_stored(owner, kind, threshold, note, field, says):
    with pytest.raises(ValidationError) as refused:
        alert_create(actor=TEST_ACTOR, user=owner, symbol="ETH/USDT", kind=kind, threshold=threshold, note=note)
    assert says in " ".join(errors_of(refused)[field])
    assert not PriceAlert.objects.exists()


def test_the_bounds_themselves_are_accepted(owner):
    assert an_alert(owner, kind="above", threshold="1000000000000").threshold == Decimal(10) ** 12
    assert an_alert(owner, kind="change_up", threshold="1000").threshold == Decimal(1000)
    assert an_alert(owner, kind="change_down", threshold="99.99").threshold == Decimal("99.99")
    assert an_alert(owner, kind="below", threshold="0.000000000000000001").threshold == Decimal("1e-18")


def test_an_account_holds_a_bounded_number_of_active_alerts_and_cancelling_one_makes_room(owner, outsider, monkeypatch):
    monkeypatch.setattr(alert_services, "MAX_ACTIVE_ALERTS_PER_USER", 3)
    first, *_ = [an_alert(owner, threshold=str(70000 + n)) for n in range(3)]

    with pytest.raises(AlertLimitReached) as refused:
        an_alert(owner)
    assert refused.value.status_code == 409 and "3 active alerts" in refused.value.message
    assert an_alert(outsider).status == AlertStatus.ACTIVE, "the cap is per account"

    alert_cancel(actor=TEST_ACTOR, alert=first)
    assert an_alert(owner).status == AlertStatus.ACTIVE
    assert PriceAlert.objects.filter(user=owner, status=AlertStatus.ACTIVE).count() == 3


# --- cancelling ------------------------------------------------------------------------------------------
def test_cancelling_stops_an_active_alert_for_good_and_a_second_cancel_is_refused(owner):
    alert = an_alert(owner, threshold="60000")

    alert_cancel(actor=TEST_ACTOR, alert=alert)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CANCELLED and alert.cancelled_at is not None
    assert AuditEvent.objects.filter(action="alert.cancelled", details__alert_id=alert.pk).count() == 1

    with pytest.raises(AlertNotActive):
        alert_cancel(actor=TEST_ACTOR, alert=alert)
    assert alerts_evaluate(tickers=[tick(last="99000")]) == [], "a cancelled alert never fires"


def test_a_fired_alert_cannot_be_cancelled_and_says_when_it_fired(owner):
    alert = an_alert(owner, threshold="60000")
    alerts_evaluate(tickers=[tick(last="61000")])

    with pytest.raises(AlertNotActive) as refused:
        alert_cancel(actor=TEST_ACTOR, alert=PriceAlert.objects.get(pk=alert.pk))
    assert refused.value.code == "alert_not_active" and "already fired" in refused.value.message
    assert PriceAlert.objects.get(pk=alert.pk).status == AlertStatus.FIRED


# --- which ticks reach which alerts ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "threshold", "last", "change", "fires"),
    [
        ("above", "65000", "64999.99", "0", False),
        ("above", "65000", "65000", "0", True),
        ("above", "65000", "65000.01", "0", True),
        ("below", "60000", "60000.01", "0", False),
        ("below", "60000", "60000", "0", True),
        ("below", "60000", "59000", "0", True),
        ("change_up", "5", "65000", "4.99", False),
        ("change_up", "5", "65000", "5", True),
        ("change_up", "5", "65000", "-7", False),
        ("change_down", "5", "65000", "-4.99", False),
        ("change_down", "5", "65000", "-5", True),
        ("change_down", "5", "65000", "-12.3", True),
        ("change_down", "5", "65000", "7", False),
    ],
)
def test_a_tick_fires_exactly_the_alerts_whose_condition_it_meets(owner, kind, threshold, last, change, fires):
    alert = an_alert(owner, kind=kind, threshold=threshold)

    fired = alerts_evaluate(tickers=[tick(last=last, change=change)])

    alert.refresh_from_db()
    assert (fired == [alert]) is fires
    assert alert.status == (AlertStatus.FIRED if fires else AlertStatus.ACTIVE)


def test_a_tick_reaches_only_its_own_markets_alerts(owner):
    btc = an_alert(owner, symbol="BTC/USDT", threshold="100")
    eth = an_alert(owner, symbol="ETH/USDT", threshold="100")

    fired = alerts_evaluate(tickers=[tick("ETH/USDT", last="3000"), tick("SOL/USDT", last="150")])

    assert fired == [eth]
    btc.refresh_from_db()
    assert btc.status == AlertStatus.ACTIVE


def test_a_fired_alert_keeps_the_price_time_and_source_of_the_tick_that_fired_it(owner):
    alert = an_alert(owner, kind="change_up", threshold="3")
    replay = tick(
        last="66123.45",
        change="3.25",
        source="replay",
        source_label="Replay of Binance candles from 2025-03-04",
    )

    alerts_evaluate(tickers=[replay])

    alert.refresh_from_db()
    assert alert.status == AlertStatus.FIRED and alert.fired_at is not None
    assert (alert.fired_price, alert.fired_change_pct) == (Decimal("66123.45"), Decimal("3.25"))
    assert (alert.fired_source, alert.fired_source_label) == ("replay", "Replay of Binance candles from 2025-03-04")
    record = AuditEvent.objects.get(action="alert.fired")
    assert record.user == owner and record.via == "system"
    assert record.details | {"alert_id": alert.pk, "source": "replay", "price": "66123.45"} == record.details


# --- fire once -------------------------------------------------------------------------------------------
def test_an_alert_fires_once_and_stays_fired_whatever_the_next_ticks_say(owner):
    alert = an_alert(owner, threshold="65000")
    mail.outbox.clear()

    assert alerts_evaluate(tickers=[tick(last="65500")]) == [alert]
    first = PriceAlert.objects.get(pk=alert.pk)
    assert alerts_evaluate(tickers=[tick(last="66000")]) == []
    assert alerts_evaluate(tickers=[tick(last="64000")]) == []
    assert alerts_evaluate(tickers=[tick(last="65100")]) == []

    again = PriceAlert.objects.get(pk=alert.pk)
    assert (again.status, again.fired_at, again.fired_price) == (AlertStatus.FIRED, first.fired_at, Decimal("65500"))
    assert AuditEvent.objects.filter(action="alert.fired").count() == 1


def test_a_publisher_holding_a_stale_copy_of_an_alert_cannot_fire_it_again(owner):
    """The compare-and-swap itself: the slower publisher read the alert as active before the faster one fired it."""
    alert = an_alert(owner, threshold="65000")
    stale = PriceAlert.objects.get(pk=alert.pk)
    assert stale.status == AlertStatus.ACTIVE

    assert alerts_evaluate(tickers=[tick(last="65500")]) == [alert]
    assert alert_fire(actor=Actor.system(), alert=stale, ticker=tick(last="70000")) is False

    alert.refresh_from_db()
    assert alert.fired_price == Decimal("65500"), "the first firing stands"
    assert AuditEvent.objects.filter(action="alert.fired").count() == 1


def test_an_alert_cancelled_after_the_tick_read_it_is_not_fired(owner):
    alert = an_alert(owner, threshold="65000")
    read_by_the_tick = PriceAlert.objects.get(pk=alert.pk)
    alert_cancel(actor=TEST_ACTOR, alert=alert)

    assert alert_fire(actor=Actor.system(), alert=read_by_the_tick, ticker=tick(last="65500")) is False
    assert PriceAlert.objects.get(pk=alert.pk).status == AlertStatus.CANCELLED


@pytest.mark.django_db(transaction=True)
def test_two_publishers_evaluating_the_same_tick_at_once_fire_each_alert_once(owner):
    alerts = [an_alert(owner, threshold=str(60000 + n)) for n in range(12)]
    mail.outbox.clear()
    start, results, failures = threading.Barrier(2), {}, []

    def publisher(name: str) -> None:
        try:
            start.wait(timeout=10)
            results[name] = alerts_evaluate(tickers=[tick(last="65000")])
        except Exception as exc:  # reported below, with the thread's name
            failures.append(f"{name}: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=publisher, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    fired_one, fired_two = ({alert.pk for alert in results[name]} for name in ("one", "two"))
    assert not fired_one & fired_two, "no alert was fired by both"
    assert fired_one | fired_two == {alert.pk for alert in alerts}
    assert AuditEvent.objects.filter(action="alert.fired").count() == 12
    assert len(mail.outbox) == 12, "each owner email sent once"
    assert PriceAlert.objects.filter(status=AlertStatus.FIRED).count() == 12


# --- what a tick costs ---------------------------------------------------------------------------------
def test_a_tick_costs_one_query_however_many_active_alerts_it_does_not_reach(owner, django_assert_num_queries):
    an_alert(owner, threshold="90000")
    ticks = [tick(symbol, last="1000", change="1") for symbol in ("BTC/USDT", "ETH/USDT", "SOL/USDT")]
    with django_assert_num_queries(1):
        assert alerts_evaluate(tickers=ticks) == []

    for n in range(40):
        user = owner if n % 2 else UserFactory()
        an_alert(user, symbol=("BTC/USDT", "ETH/USDT", "SOL/USDT")[n % 3], kind="change_up", threshold="50")
        an_alert(user, symbol="ETH/USDT", kind="below", threshold="10")
    with django_assert_num_queries(1):
        assert alerts_evaluate(tickers=ticks) == []


# Per alert fired: its savepoint, the compare-and-swap, the audit record, the owner's notification
# preferences, the stored notification and its deliveries (accounts.notify), and the savepoint's release.
QUERIES_PER_FIRED_ALERT = 7


def test_each_alert_fired_costs_the_same_few_queries_and_the_rest_nothing(owner, django_assert_num_queries):
    for _ in range(30):
        an_alert(UserFactory(), threshold="90000")
    an_alert(owner, threshold="60000")
    with django_assert_num_queries(1 + QUERIES_PER_FIRED_ALERT):
        assert len(alerts_evaluate(tickers=[tick(last="65000")])) == 1

    for n in range(5):
        an_alert(UserFactory(), kind="below", threshold=str(70000 + n))
    with django_assert_num_queries(1 + 5 * QUERIES_PER_FIRED_ALERT):
        assert len(alerts_evaluate(tickers=[tick(last="65000")])) == 5


@pytest.mark.django_db
def test_a_fall_of_100_percent_or_more_is_refused(owner):
    """Found by a probe: a change_down alert of 100 or 101% was accepted and could never fire."""
    from django.core.exceptions import ValidationError

    from trading.services.alerts import alert_create

    with pytest.raises(ValidationError) as refused:
        alert_create(actor=TEST_ACTOR, user=owner, symbol="BTC/USDT", kind="change_down", threshold=Decimal("100"))
    assert "threshold" in refused.value.message_dict
