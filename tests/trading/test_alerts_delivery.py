"""A fired alert reaches its owner: on /ws/events (the real socket, through uvicorn and the Redis
channel layer), by email as their notification settings say, and saying where the price came from.
The price feed drives it: `price_tick` from the publisher fires alerts, and a failure there never
stops the publisher."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from decimal import Decimal

import pytest
import websockets
from asgiref.sync import async_to_sync
from django.core import mail

from accounts.models import NotificationChannel, NotificationPreference
from exchanges.market.feed import Ticker
from exchanges.market.publisher import publish_tick
from exchanges.market.signals import price_tick
from tests.live_events import GroupListener, session_cookie_for
from tests.trading.helpers import REPLAYED, an_alert, tick
from trading.models import AlertStatus, PriceAlert
from trading.services.alerts import alerts_evaluate


@pytest.fixture
def evaluate(django_capture_on_commit_callbacks):
    """Evaluate one round of tickers as the publisher's receiver does, its after-commit work done."""

    def run(*tickers: Ticker) -> list[PriceAlert]:
        with django_capture_on_commit_callbacks(execute=True):
            return alerts_evaluate(tickers=list(tickers))

    return run


# --- the real socket -------------------------------------------------------------------------------------
def test_a_fired_alert_reaches_its_owners_open_pages_on_ws_events_once_and_nobody_elses(asgi_server, owner, outsider):
    alert = an_alert(owner, threshold="65000", note="sell a third")
    an_alert(outsider, threshold="90000")
    cookies = session_cookie_for(owner), session_cookie_for(outsider)

    async def connect(cookie: str):
        socket = await websockets.connect(
            f"{asgi_server.ws_url}/ws/events/",
            additional_headers={"Origin": asgi_server.url, "Cookie": cookie},
            open_timeout=10,
        )
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connected"
        return socket

    async def received(socket, timeout: float) -> list[dict]:
        messages = []
        while True:
            try:
                messages.append(json.loads(await asyncio.wait_for(socket.recv(), timeout)))
            except TimeoutError:
                return messages

    async def scenario():
        mine, theirs = await connect(cookies[0]), await connect(cookies[1])
        await asyncio.to_thread(alerts_evaluate, tickers=[tick(last="65250.5")])
        await asyncio.to_thread(alerts_evaluate, tickers=[tick(last="66000")])  # the next tick: nothing new
        got, others = await received(mine, 3), await received(theirs, 0.5)
        await mine.close()
        await theirs.close()
        return got, others

    got, others = async_to_sync(scenario)()

    assert [message["type"] for message in got] == ["notification", "alert.fired"]
    told, fired = got[0]["payload"], got[1]["payload"]
    assert told["event_type"] == "alerts" and told["alert_id"] == alert.pk
    assert told["title"] == "BTC/USDT at 65,250.5"
    assert "BTC/USDT reached 65,250.5" in told["body"] and "Binance (live)" in told["body"]
    assert "sell a third" in told["body"]
    assert fired["id"] == alert.pk and fired["status"] == "fired" and fired["fired_price"] == "65250.5"
    assert others == [], "the outsider's pages hear nothing of the owner's alert"


# --- email and in-app, as the owner chose ---------------------------------------------------------------
@pytest.mark.django_db
def test_by_default_a_fired_alert_is_told_in_the_app_and_by_email(owner, evaluate):
    an_alert(owner, kind="change_down", threshold="5")
    mail.outbox.clear()

    with GroupListener(owner) as listener:
        evaluate(tick(last="58000", change="-6.4"))
        events = listener.events()

    assert [event for event, _ in events] == ["notification", "alert.fired"]
    (email,) = mail.outbox
    assert email.to == [owner.email] and "BTC/USDT -6.4% in 24 h" in email.subject
    assert "BTC/USDT down 5% or more in 24 h" in email.body and "Binance (live)" in email.body


@pytest.mark.django_db
def test_an_owner_who_turned_alert_emails_off_is_told_only_in_the_app(owner, evaluate):
    NotificationPreference.objects.create(
        user=owner, event_type="alerts", channel=NotificationChannel.EMAIL, enabled=False
    )
    an_alert(owner, threshold="60000")
    mail.outbox.clear()

    with GroupListener(owner) as listener:
        evaluate(tick(last="61000"))
        events = listener.events()

    assert [event for event, _ in events] == ["notification", "alert.fired"]
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_owner_who_wants_alerts_by_email_only_gets_no_notification_in_the_app(owner, evaluate):
    NotificationPreference.objects.create(
        user=owner, event_type="alerts", channel=NotificationChannel.IN_APP, enabled=False
    )
    alert = an_alert(owner, threshold="60000")
    mail.outbox.clear()

    with GroupListener(owner) as listener:
        evaluate(tick(last="61000"))
        events = listener.events()

    # The page's own state event still comes, so an open alerts page is not left showing "active".
    assert events == [("alert.fired", events[0][1])] and events[0][1]["id"] == alert.pk
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_alert_fired_by_the_replay_says_so(owner, evaluate):
    an_alert(owner, symbol="ETH/USDT", kind="below", threshold="2500")
    mail.outbox.clear()
    replay = tick("ETH/USDT", last="2450.25", **REPLAYED)

    with GroupListener(owner) as listener:
        evaluate(replay)
        (notification, fired) = [payload for _, payload in listener.events()]

    assert "Price from Replay of Binance candles from 2025-03-04" in notification["body"]
    assert fired["fired_source"] == "replay"
    assert "Replay of Binance candles from 2025-03-04" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_replayed_price_never_fires_an_alert_where_live_prices_are_configured(owner, evaluate, settings):
    """The exchange blinked and the feed fell back to a replayed day: that price never happened now."""
    settings.MARKET_DATA_EXCHANGE = "binance"
    alert = an_alert(owner, symbol="ETH/USDT", kind="below", threshold="2500")
    evaluate(tick("ETH/USDT", last="2450.25", **REPLAYED))
    alert.refresh_from_db()
    assert alert.status == "active", "still waiting for a real price"
    evaluate(tick("ETH/USDT", last="2450.25"))
    alert.refresh_from_db()
    assert alert.status == "fired"


# --- driven by the price feed ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_price_tick_signal_fires_alerts(owner, django_capture_on_commit_callbacks):
    alert = an_alert(owner, symbol="SOL/USDT", kind="change_up", threshold="10")

    with django_capture_on_commit_callbacks(execute=True):
        price_tick.send(sender=None, tickers=[tick("SOL/USDT", last="180", change="12.5")])

    alert.refresh_from_db()
    assert alert.status == AlertStatus.FIRED and alert.fired_change_pct == Decimal("12.5")


@pytest.mark.django_db
def test_alerts_that_cannot_be_evaluated_are_logged_and_the_publisher_goes_on(owner, caplog):
    alert = an_alert(owner, threshold="60000")
    broken = replace(tick(last="61000"), last=None)  # what a bad answer from a feed could look like

    with caplog.at_level(logging.ERROR, logger="trading.receivers"):
        price_tick.send(sender=None, tickers=[broken])  # does not raise

    assert "could not be evaluated" in caplog.text
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACTIVE, "tried again on the next tick"


@pytest.mark.django_db
def test_one_publisher_tick_from_the_exchange_fires_the_alerts_it_reaches(
    owner, exchange_emulator, django_capture_on_commit_callbacks, settings
):
    """The whole path: the publisher asks the (emulated) exchange, broadcasts, and the alerts fire."""
    settings.MARKET_DATA_EXCHANGE = "binance"
    exchange_emulator.set_price("binance", "BTC", "71234.5")
    reached = an_alert(owner, threshold="71000")
    not_reached = an_alert(owner, threshold="72000")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        tickers = publish_tick()

    btc = next(ticker for ticker in tickers if ticker.symbol == "BTC/USDT")
    assert (btc.source, btc.last) == ("binance", Decimal("71234.5")), btc.source_label
    reached.refresh_from_db()
    not_reached.refresh_from_db()
    assert reached.status == AlertStatus.FIRED and reached.fired_price == btc.last
    assert reached.fired_source == "binance" and reached.fired_source_label == btc.source_label
    assert not_reached.status == AlertStatus.ACTIVE
    assert len(mail.outbox) == 1
