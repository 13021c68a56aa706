"""Websockets through the real ASGI stack: uvicorn, Channels auth, the Redis channel layer."""

import asyncio
import json

import pytest
import websockets
from asgiref.sync import async_to_sync
from django.db import transaction

from cryptovault.events import broadcast, broadcast_on_commit, user_group
from tests.live_events import session_cookie_for


async def connect(server, cookie: str | None):
    headers = {"Origin": server.url}
    if cookie:
        headers["Cookie"] = cookie
    return await websockets.connect(f"{server.ws_url}/ws/events/", additional_headers=headers, open_timeout=10)


async def next_message(socket, timeout: float = 10) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


def test_a_signed_in_user_receives_their_events_after_commit(asgi_server, owner, outsider):
    owner_cookie, outsider_cookie = session_cookie_for(owner), session_cookie_for(outsider)

    async def scenario():
        mine, theirs = await connect(asgi_server, owner_cookie), await connect(asgi_server, outsider_cookie)
        assert (await next_message(mine))["type"] == "connected"
        assert (await next_message(theirs))["type"] == "connected"

        def send_in_transaction():
            with transaction.atomic():
                broadcast_on_commit(user_group(owner.pk), "order.filled", {"order": 7})

        await asyncio.to_thread(send_in_transaction)
        assert await next_message(mine) == {"type": "order.filled", "payload": {"order": 7}}
        with pytest.raises(TimeoutError):
            await next_message(theirs, timeout=1)
        await mine.close()
        await theirs.close()

    async_to_sync(scenario)()


def test_an_event_rolled_back_with_its_transaction_is_never_sent(asgi_server, owner):
    cookie = session_cookie_for(owner)

    async def scenario():
        socket = await connect(asgi_server, cookie)
        await next_message(socket)

        def send_then_roll_back():
            with transaction.atomic():
                broadcast_on_commit(user_group(owner.pk), "order.filled", {"order": 8})
                transaction.set_rollback(True)

        await asyncio.to_thread(send_then_roll_back)
        with pytest.raises(TimeoutError):
            await next_message(socket, timeout=1)
        await socket.close()

    async_to_sync(scenario)()


def test_anonymous_websockets_are_refused_at_the_handshake(asgi_server):
    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refused:
            await connect(asgi_server, None)
        return refused.value.response.status_code

    assert async_to_sync(scenario)() == 403


def test_an_idle_connection_survives_past_the_channel_layer_blocking_timeout(asgi_server, owner):
    """With redis-py 8's default 5 s socket timeout, idle consumers crashed (redis/redis-py#4091)."""
    cookie = session_cookie_for(owner)

    async def scenario():
        socket = await connect(asgi_server, cookie)
        await next_message(socket)
        await asyncio.sleep(7)
        await asyncio.to_thread(broadcast, user_group(owner.pk), "price.tick", {"symbol": "BTC/USDT"})
        message = await next_message(socket)
        await socket.close()
        return message

    assert async_to_sync(scenario)()["payload"] == {"symbol": "BTC/USDT"}


def test_two_hundred_clients_connect_and_all_receive_a_broadcast(asgi_server, owner):
    cookie = session_cookie_for(owner)
    clients = 200

    async def scenario():
        sockets = await asyncio.gather(*(connect(asgi_server, cookie) for _ in range(clients)))
        await asyncio.gather(*(next_message(socket, timeout=30) for socket in sockets))
        await asyncio.to_thread(broadcast, user_group(owner.pk), "balance.changed", {"asset": "USDT"})
        received = await asyncio.gather(
            *(next_message(socket, timeout=30) for socket in sockets), return_exceptions=True
        )
        await asyncio.gather(*(socket.close() for socket in sockets))
        return received

    received = async_to_sync(scenario)()
    delivered = [message for message in received if isinstance(message, dict) and message["type"] == "balance.changed"]
    assert len(delivered) == clients, [message for message in received if not isinstance(message, dict)][:3]


@pytest.mark.parametrize(
    "origin_of",
    [
        lambda url: url.replace("127.0.0.1:", "127.0.0.1:1"),  # another port of the same host
        lambda url: url.replace("http://", "https://"),  # the other scheme
        lambda url: "http://evil.example",
        lambda url: "null",
    ],
    ids=["other-port", "other-scheme", "other-site", "null"],
)
def test_a_page_of_another_origin_cannot_open_a_signed_in_users_events(asgi_server, owner, origin_of):
    """Found by a probe: Channels' host-only check let a page on another port of the host read /ws/events."""
    cookie = session_cookie_for(owner)

    async def scenario():
        headers = {"Origin": origin_of(asgi_server.url), "Cookie": cookie}
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"{asgi_server.ws_url}/ws/events/", additional_headers=headers, open_timeout=10)
        return refused.value.response.status_code

    assert async_to_sync(scenario)() == 403
