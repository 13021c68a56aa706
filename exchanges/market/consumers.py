"""/ws/prices: live prices for anyone, signed in or not.

The protocol (JSON text frames):

    server → client
      {"type": "snapshot", "payload": {"ticks": [ticker, ...], "at": iso}}   first, on connect: every symbol
      {"type": "tick", "payload": {"ticks": [ticker, ...], "at": iso}}       each tick, only subscribed symbols
      {"type": "subscribed", "payload": {"symbols": ["BTC/USDT", ...]}}      after (un)subscribe: the symbols now sent
      {"type": "ping"}                                                       every WS_HEARTBEAT_SECONDS
      {"type": "error", "payload": {"code": ..., "message": ...}}            a message it could not act on
    client → server
      {"action": "subscribe", "symbols": ["BTC/USDT", "eth-usdt"]}   any form exchanges.market.symbols reads
      {"action": "unsubscribe", "symbols": [...]}
      {"type": "pong"}                                               the answer to each ping

A client receives every symbol until it subscribes; from its first subscribe on, only the symbols
it subscribed to (unsubscribing first narrows "every symbol"). Error codes: `bad_json`,
`bad_message`, `unknown_action`, `unknown_symbol` (with `symbols`: the ones not followed; nothing
changes), `snapshot_unavailable`. A client that leaves two pings unanswered is closed with 4000.

Connections are capped per client IP (WS_PRICES_MAX_PER_IP, a lease in Redis: exchanges.market.stats);
one over the cap is refused at the handshake (closed before accept: HTTP 403, close code 4029 in
ASGI). The Origin was checked against ALLOWED_HOSTS by cryptovault.asgi before this runs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from cryptovault.clientip import client_ip
from cryptovault.events import PRICES_GROUP
from exchanges.errors import UnknownSymbol
from exchanges.market import stats
from exchanges.market.publisher import TICK_EVENT, last_tick_payload
from exchanges.market.symbols import market_symbols, parse_symbol

logger = logging.getLogger(__name__)

CLOSE_HEARTBEAT_MISSED = 4000
CLOSE_TOO_MANY_CONNECTIONS = 4029
MISSED_PINGS_ALLOWED = 2
MAX_FRAME_CHARACTERS = 4096
MAX_SYMBOLS_PER_MESSAGE = 50


def scope_client_ip(scope: dict[str, Any]) -> str:
    """The client IP by cryptovault.clientip's one rule: the peer, unless TRUSTED_PROXY_COUNT proxies
    of ours put it in X-Forwarded-For (read from the right, as for HTTP requests)."""
    peer = (scope.get("client") or ("",))[0] or ""
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"]
    meta = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": ",".join(forwarded)}
    return client_ip(SimpleNamespace(META=meta))  # type: ignore[arg-type]  # reads only .META


def _redis(function):
    """A Redis call off the event loop (redis-py is blocking); no database, so no thread affinity."""
    return sync_to_async(function, thread_sensitive=False)


class PricesConsumer(AsyncJsonWebsocketConsumer):
    """Forwards price ticks, filtered by the client's subscription; writes nothing but its lease."""

    async def connect(self):
        self.ip = scope_client_ip(self.scope)
        self.subscribed: set[str] | None = None  # None: every symbol
        self.unanswered_pings = 0
        self.closing = False
        self.leased = False
        self.heartbeat: asyncio.Task | None = None
        try:
            self.leased = await _redis(stats.connection_open)(
                ip=self.ip, member=self.channel_name, cap=settings.WS_PRICES_MAX_PER_IP
            )
        except Exception:
            logger.exception("Cannot count /ws/prices connections in Redis; refusing")
        if not self.leased:
            self.closing = True
            await self.close(code=CLOSE_TOO_MANY_CONNECTIONS)  # before accept(): refused at the handshake
            return
        # Joined before the snapshot is read: a tick published meanwhile waits behind it, none is missed.
        await self.channel_layer.group_add(PRICES_GROUP, self.channel_name)
        await self.accept()
        try:
            snapshot = await _redis(last_tick_payload)()  # the cache or the exchange: no database
        except Exception:
            logger.exception("No snapshot for a /ws/prices client")
            await self._error("snapshot_unavailable", "Prices are not available right now; the next tick brings them.")
        else:
            await self._send({"type": "snapshot", "payload": snapshot})
        self.heartbeat = asyncio.create_task(self._beat(settings.WS_HEARTBEAT_SECONDS))

    async def disconnect(self, code):
        if self.heartbeat is not None and self.heartbeat is not asyncio.current_task():
            self.heartbeat.cancel()
        await self._leave()

    async def dispatch(self, message):
        # Group events touch no database, so they skip Channels' thread hop to close old database
        # connections (about half the CPU per message under fan-out); every other handler keeps it.
        if message["type"] == "event.message":
            await self.event_message(message)
        else:
            await super().dispatch(message)

    async def event_message(self, message):
        if self.closing:
            return
        if message["event"] != TICK_EVENT:
            await self._send({"type": message["event"], "payload": message["payload"]})
            return
        payload = message["payload"]
        if self.subscribed is not None:
            ticks = [tick for tick in payload["ticks"] if tick["symbol"] in self.subscribed]
            if not ticks:
                return
            payload = {**payload, "ticks": ticks}
        await self._send({"type": "tick", "payload": payload})

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None or len(text_data) > MAX_FRAME_CHARACTERS:
            await self._error("bad_message", f"Send JSON text frames of at most {MAX_FRAME_CHARACTERS} characters.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_json", "That frame is not JSON.")
            return
        if not isinstance(content, dict):
            await self._error(
                "bad_message", 'Send a JSON object, e.g. {"action": "subscribe", "symbols": ["BTC/USDT"]}.'
            )
        elif content.get("type") == "pong":
            self.unanswered_pings = 0
        elif content.get("action") in ("subscribe", "unsubscribe"):
            await self._change_subscription(content["action"], content.get("symbols"))
        else:
            await self._error(
                "unknown_action", 'Known: {"action": "subscribe"|"unsubscribe", ...} and {"type": "pong"}.'
            )

    async def _change_subscription(self, action: str, symbols: Any) -> None:
        if (
            not isinstance(symbols, list)
            or not 0 < len(symbols) <= MAX_SYMBOLS_PER_MESSAGE
            or not all(isinstance(symbol, str) for symbol in symbols)
        ):
            await self._error("bad_message", f'"symbols" must be a list of 1 to {MAX_SYMBOLS_PER_MESSAGE} symbols.')
            return
        parsed, unknown = set(), []
        for text in symbols:
            try:
                parsed.add(parse_symbol(text))
            except UnknownSymbol:
                unknown.append(text[:32])
        if unknown:
            await self._error(
                "unknown_symbol",
                f"Not followed here: {', '.join(unknown)}. Known: {', '.join(market_symbols())}.",
                symbols=unknown,
            )
            return
        if action == "subscribe":
            self.subscribed = (self.subscribed or set()) | parsed
        else:
            self.subscribed = (set(market_symbols()) if self.subscribed is None else self.subscribed) - parsed
        followed = [symbol for symbol in market_symbols() if symbol in self.subscribed]
        await self._send({"type": "subscribed", "payload": {"symbols": followed}})

    async def _beat(self, interval: float) -> None:
        """Ping every `interval`; close a client that left two pings unanswered, and keep the lease alive."""
        while not self.closing:
            await asyncio.sleep(interval)
            if self.closing:
                return
            if self.unanswered_pings >= MISSED_PINGS_ALLOWED:
                await self._leave()  # the lease first: the close lets disconnect() run and cancel this task
                await self.close(code=CLOSE_HEARTBEAT_MISSED)
                return
            self.unanswered_pings += 1
            await self._send({"type": "ping"})
            try:
                await _redis(stats.connection_renew)(ip=self.ip, member=self.channel_name)
            except Exception:
                logger.exception("Cannot renew a /ws/prices lease; it expires unless the next heartbeat renews it")

    async def _leave(self) -> None:
        """Stop sending, release the lease and leave the group (once, whichever comes first)."""
        self.closing = True
        if self.leased:
            self.leased = False
            try:
                await _redis(stats.connection_close)(ip=self.ip, member=self.channel_name)
            except Exception:
                logger.exception("Cannot release a /ws/prices lease; it expires on its own")
            await self.channel_layer.group_discard(PRICES_GROUP, self.channel_name)

    async def _error(self, code: str, message: str, **details: Any) -> None:
        await self._send({"type": "error", "payload": {"code": code, "message": message, **details}})

    async def _send(self, content: dict[str, Any]) -> None:
        """Send unless closing; a peer gone mid-send (the server raises) ends sending, not the consumer."""
        if self.closing:
            return
        try:
            await self.send_json(content)
        except OSError:  # uvicorn's ClientDisconnected: its disconnect event follows and runs disconnect()
            await self._leave()
