"""/ws/prices as browsers meet it: through the whole ASGI application (Origin check, auth, routing)
on the real channels-redis layer, with prices from the exchange emulator through ccxt.

Most tests drive it in-process with `PricesSocket`, the ASGI websocket client that Channels'
WebsocketCommunicator is (channels.testing itself cannot be imported without daphne, which the
project does not install), with the client address set in the scope as a server sets it; the burst
test goes over TCP to uvicorn (AsgiTestServer) with the `websockets` client.
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest
import websockets
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from rest_framework.test import APIClient

from cryptovault.asgi import application
from cryptovault.events import PRICES_GROUP, broadcast
from exchanges.market import stats
from exchanges.market.consumers import CLOSE_HEARTBEAT_MISSED, CLOSE_TOO_MANY_CONNECTIONS
from exchanges.market.publisher import publish_tick

# Transactional: Channels closes "old" database connections around every consumer handler, which
# would close the connection a rolled-back test transaction runs on.
pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://127.0.0.1"
PEER = "198.51.100.7"


class PricesSocket(ApplicationCommunicator):
    """One /ws/prices connection to the ASGI application, as uvicorn would open it."""

    def __init__(self, headers: list[tuple[bytes, bytes]], ip: str):
        scope = {
            "type": "websocket",
            "path": "/ws/prices/",
            "query_string": b"",
            "headers": headers,
            "subprotocols": [],
            "client": (ip, 50123),  # the peer address the server saw
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 10) -> tuple[bool, int | None]:
        """(True, None) when accepted, (False, close code) when refused at the handshake."""
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(timeout)
        if answer["type"] == "websocket.close":
            return False, answer.get("code", 1000)
        assert answer["type"] == "websocket.accept", answer
        return True, None

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def send_json_to(self, data) -> None:
        await self.send_to(json.dumps(data))

    async def receive_json_from(self, timeout: float = 10) -> dict:
        answer = await self.receive_output(timeout)
        assert answer["type"] == "websocket.send", answer
        return json.loads(answer["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 10) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def prices_socket(ip: str = PEER, origin: str | None = ORIGIN, forwarded_for: str | None = None) -> PricesSocket:
    headers = [(b"host", b"127.0.0.1")] + ([(b"origin", origin.encode())] if origin else [])
    if forwarded_for:
        headers.append((b"x-forwarded-for", forwarded_for.encode()))
    return PricesSocket(headers, ip)


async def opened(socket) -> dict:
    """Connect, and return the first message (the snapshot)."""
    connected, code = await socket.connect(timeout=10)
    assert connected, f"refused with {code}"
    return await socket.receive_json_from(timeout=10)


async def refused(socket) -> int:
    """Connect, expect a refusal at the handshake, and return its close code."""
    connected, code = await socket.connect(timeout=10)
    assert not connected
    await socket.disconnect()
    return code


async def next_of_type(socket, kind: str, timeout: float = 10) -> dict:
    """The next message of this type, skipping heartbeat pings."""
    deadline = time.monotonic() + timeout
    while True:
        message = await socket.receive_json_from(timeout=max(0.01, deadline - time.monotonic()))
        if message["type"] == kind:
            return message
        assert message["type"] == "ping", message


async def publish() -> None:
    await sync_to_async(publish_tick)()


def snapshot_on_connecting() -> dict:
    """The snapshot a new client is sent as it connects (its socket closed after)."""

    async def scenario():
        socket = prices_socket()
        snapshot = await opened(socket)
        await socket.disconnect()
        return snapshot

    return async_to_sync(scenario)()


def symbols_of(message: dict) -> list[str]:
    return [tick["symbol"] for tick in message["payload"]["ticks"]]


def test_an_anonymous_client_gets_a_snapshot_of_every_symbol_at_once(exchange_emulator, settings):
    exchange_emulator.set_price("binance", "BTC", "65432.1")

    snapshot = snapshot_on_connecting()
    assert snapshot["type"] == "snapshot"
    assert symbols_of(snapshot) == settings.MARKET_SYMBOLS
    btc = snapshot["payload"]["ticks"][0]
    assert Decimal(btc["last"]) == Decimal("65432.1")
    assert btc["source_label"]  # every price says where it came from


def test_the_snapshot_is_the_last_tick_once_the_publisher_ran(exchange_emulator):
    exchange_emulator.set_price("binance", "ETH", "3100")
    published = publish_tick()
    exchange_emulator.set_price("binance", "ETH", "2900")  # moved since: the next tick will say so

    snapshot = snapshot_on_connecting()
    eth = next(tick for tick in snapshot["payload"]["ticks"] if tick["symbol"] == "ETH/USDT")
    assert Decimal(eth["last"]) == Decimal("3100")
    assert len(snapshot["payload"]["ticks"]) == len(published)


def test_a_subscriber_receives_only_the_symbols_it_follows(exchange_emulator, settings):
    async def scenario():
        narrow, everything = prices_socket(), prices_socket(ip="203.0.113.9")
        await opened(narrow)
        await opened(everything)

        await narrow.send_json_to({"action": "subscribe", "symbols": ["btc-usdt", "ETH/USDT"]})
        assert await next_of_type(narrow, "subscribed") == {
            "type": "subscribed",
            "payload": {"symbols": ["BTC/USDT", "ETH/USDT"]},
        }
        await publish()
        first_narrow, first_everything = await next_of_type(narrow, "tick"), await next_of_type(everything, "tick")

        await narrow.send_json_to({"action": "unsubscribe", "symbols": ["ETHUSDT"]})
        assert (await next_of_type(narrow, "subscribed"))["payload"]["symbols"] == ["BTC/USDT"]
        await publish()
        second_narrow = await next_of_type(narrow, "tick")

        await narrow.disconnect()
        await everything.disconnect()
        return first_narrow, first_everything, second_narrow

    first_narrow, first_everything, second_narrow = async_to_sync(scenario)()
    assert symbols_of(first_narrow) == ["BTC/USDT", "ETH/USDT"]
    assert symbols_of(first_everything) == settings.MARKET_SYMBOLS
    assert symbols_of(second_narrow) == ["BTC/USDT"]


def test_unknown_symbols_and_malformed_messages_get_an_error_and_change_nothing(exchange_emulator):
    async def scenario():
        socket = prices_socket()
        await opened(socket)
        await socket.send_json_to({"action": "subscribe", "symbols": ["SOL/USDT"]})
        await next_of_type(socket, "subscribed")

        replies = []
        await socket.send_json_to({"action": "subscribe", "symbols": ["DOGE/USDT", "NOPE/USDT"]})
        replies.append(await next_of_type(socket, "error"))
        await socket.send_to(text_data="{not json")
        replies.append(await next_of_type(socket, "error"))
        await socket.send_json_to({"action": "subscribe", "symbols": "BTC/USDT"})
        replies.append(await next_of_type(socket, "error"))
        await socket.send_json_to({"action": "buy"})
        replies.append(await next_of_type(socket, "error"))

        await publish()  # still connected, still following SOL alone
        tick = await next_of_type(socket, "tick")
        await socket.disconnect()
        return replies, tick

    replies, tick = async_to_sync(scenario)()
    unknown, bad_json, bad_message, unknown_action = (reply["payload"] for reply in replies)
    assert unknown["code"] == "unknown_symbol" and unknown["symbols"] == ["NOPE/USDT"]
    assert bad_json["code"] == "bad_json"
    assert bad_message["code"] == "bad_message"
    assert unknown_action["code"] == "unknown_action"
    assert symbols_of(tick) == ["SOL/USDT"]


def test_a_client_that_stops_answering_pings_is_dropped_and_frees_its_slot(exchange_emulator, settings):
    settings.WS_HEARTBEAT_SECONDS = 0.2
    settings.WS_PRICES_MAX_PER_IP = 1

    async def scenario():
        silent = prices_socket()
        await opened(silent)
        pings = [await silent.receive_json_from(timeout=2), await silent.receive_json_from(timeout=2)]
        closed = await silent.receive_output(timeout=2)  # the third beat: two pings unanswered
        clients_after = await sync_to_async(stats.ws_stats)()
        await silent.disconnect()

        again = prices_socket()  # the cap of one: only possible because the slot was freed
        await opened(again)
        await again.disconnect()
        return pings, closed, clients_after.clients

    pings, closed, clients_after = async_to_sync(scenario)()
    assert pings == [{"type": "ping"}, {"type": "ping"}]
    assert closed == {"type": "websocket.close", "code": CLOSE_HEARTBEAT_MISSED}
    assert clients_after == 0


def test_a_client_answering_pings_stays_connected(exchange_emulator, settings):
    settings.WS_HEARTBEAT_SECONDS = 0.2

    async def scenario():
        socket = prices_socket()
        await opened(socket)
        for _ in range(5):  # well past the two missed pings that drop a silent client
            assert await socket.receive_json_from(timeout=2) == {"type": "ping"}
            await socket.send_json_to({"type": "pong"})
        await publish()
        tick = await next_of_type(socket, "tick")
        await socket.disconnect()
        return tick

    assert async_to_sync(scenario)()["type"] == "tick"


def test_one_address_may_hold_only_so_many_connections(exchange_emulator, settings):
    settings.WS_PRICES_MAX_PER_IP = 2

    async def scenario():
        first, second = prices_socket(), prices_socket()
        await opened(first)
        await opened(second)
        over = await refused(prices_socket())
        elsewhere = prices_socket(ip="203.0.113.50")  # another address has its own allowance
        await opened(elsewhere)
        await first.disconnect()
        after_a_disconnect = prices_socket()
        await opened(after_a_disconnect)
        for socket in (second, elsewhere, after_a_disconnect):
            await socket.disconnect()
        return over

    assert async_to_sync(scenario)() == CLOSE_TOO_MANY_CONNECTIONS
    assert stats.ws_stats().refused == 1


def test_a_client_cannot_escape_the_cap_by_writing_x_forwarded_for(exchange_emulator, settings):
    settings.WS_PRICES_MAX_PER_IP = 1
    settings.TRUSTED_PROXY_COUNT = 0

    async def scenario():
        first = prices_socket(forwarded_for="192.0.2.1")
        await opened(first)
        second = await refused(prices_socket(forwarded_for="192.0.2.2"))
        await first.disconnect()
        return second

    assert async_to_sync(scenario)() == CLOSE_TOO_MANY_CONNECTIONS


def test_behind_our_proxy_each_forwarded_client_has_its_own_allowance(exchange_emulator, settings):
    settings.WS_PRICES_MAX_PER_IP = 1
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"

    async def scenario():
        one = prices_socket(ip=proxy, forwarded_for="192.0.2.1")
        other = prices_socket(ip=proxy, forwarded_for="6.6.6.6, 192.0.2.2")  # the left end is the client's own
        await opened(one)
        await opened(other)
        again = await refused(prices_socket(ip=proxy, forwarded_for="192.0.2.1"))
        await one.disconnect()
        await other.disconnect()
        return again

    assert async_to_sync(scenario)() == CLOSE_TOO_MANY_CONNECTIONS


def test_a_lease_left_by_a_dead_process_expires(settings):
    settings.WS_HEARTBEAT_SECONDS = 0.1
    assert stats.connection_open(ip=PEER, member="dead-process-channel", cap=1)
    assert not stats.connection_open(ip=PEER, member="new-channel", cap=1)
    time.sleep(3 * 0.1 + 0.1)  # nobody renewed it
    assert stats.connection_open(ip=PEER, member="new-channel", cap=1)


@pytest.mark.parametrize("origin", ["https://evil.example", None])
def test_a_page_from_another_site_cannot_open_the_socket(origin):
    async def scenario():
        return await refused(prices_socket(origin=origin))

    assert async_to_sync(scenario)() != CLOSE_TOO_MANY_CONNECTIONS  # refused by the Origin check, not the cap
    assert stats.ws_stats().refused == 0


def test_a_burst_of_ticks_reaches_every_client_in_order(asgi_server, exchange_emulator):
    """Group events skip Channels' per-message thread hop: none is lost or reordered for it."""
    clients, ticks = 20, 40
    publish_tick()  # the snapshot every client gets first

    async def scenario():
        headers = {"Origin": asgi_server.url}
        sockets = await asyncio.gather(
            *(
                websockets.connect(f"{asgi_server.ws_url}/ws/prices/", additional_headers=headers)
                for _ in range(clients)
            )
        )
        for socket in sockets:
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "snapshot"

        def burst():
            for number in range(ticks):
                broadcast(PRICES_GROUP, "prices.tick", {"ticks": [{"symbol": "BTC/USDT", "n": number}], "at": "now"})

        await asyncio.to_thread(burst)

        async def numbers(socket) -> list[int]:
            received = []
            while len(received) < ticks:
                message = json.loads(await asyncio.wait_for(socket.recv(), 10))
                if message["type"] == "tick":
                    received.append(message["payload"]["ticks"][0]["n"])
            return received

        received = await asyncio.gather(*(numbers(socket) for socket in sockets))
        await asyncio.gather(*(socket.close() for socket in sockets))
        return received

    assert async_to_sync(scenario)() == [list(range(ticks))] * clients


# --- /api/v1/ws/stats/ -----------------------------------------------------------------------------


def test_staff_see_the_socket_figures(staff_jwt, exchange_emulator):
    async def connected_while(action):
        sockets = [prices_socket(), prices_socket(ip="203.0.113.9")]
        for socket in sockets:
            await opened(socket)
        result = await sync_to_async(action)()
        for socket in sockets:
            await socket.disconnect()
        return result

    def publish_twice_and_read():
        publish_tick()
        publish_tick()
        return staff_jwt.get("/api/v1/ws/stats/")

    answer = async_to_sync(connected_while)(publish_twice_and_read)
    assert answer.status_code == 200, answer.content
    figures = answer.json()
    assert figures["clients"] == 2
    assert figures["messages_sent"] == 4  # two ticks to two clients
    assert figures["last_tick"] is not None
    assert figures["publisher_running"] is False  # publish_tick() was called directly, not by the command
    assert staff_jwt.get("/api/v1/ws/stats/").json()["clients"] == 0  # both left


def test_the_socket_figures_are_for_staff_only(owner_jwt):
    assert owner_jwt.get("/api/v1/ws/stats/").status_code == 403
    assert APIClient().get("/api/v1/ws/stats/").status_code == 401
