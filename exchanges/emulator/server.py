"""The loopback HTTP server behind `Emulator`, and the switches tests and the demo turn.

ccxt's real clients reach it over TCP exactly as they reach the exchanges (see
`exchanges.endpoints.point_at`), so signing, error mapping, timeouts and refused connections are
ccxt's own code paths, not a mock's. Binance answers under `/binance`, KuCoin under `/kucoin`.
The server runs on daemon threads, so a forgotten emulator never keeps a process alive.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlsplit

from exchanges.emulator import market
from exchanges.emulator.binance import Binance
from exchanges.emulator.kucoin import Kucoin
from exchanges.emulator.state import FAULTS, WITHDRAWAL_COMPLETED, WITHDRAWAL_FAILED, ApiKey, ExchangeState, Withdrawal
from exchanges.emulator.wire import Request, Response

logger = logging.getLogger("exchanges.emulator")

EXCHANGES = ("binance", "kucoin")


class _Server(ThreadingHTTPServer):
    """Tracks open connections so `stop()` also cuts kept-alive ones: a stopped exchange must
    refuse the next request even from a client whose connection pool still holds a socket."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        logger.debug("exchange emulator: connection from %s ended abruptly", client_address[0], exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args) -> None:
        pass  # the one line per request is ours, without the query string

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_PUT = do_GET

    def _serve(self) -> None:
        emulator = self.server.emulator
        url = urlsplit(self.path)
        prefix, _, rest = url.path.lstrip("/").partition("/")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        logger.debug("%s %s", self.command, url.path)
        if prefix not in EXCHANGES:
            self._send(Response(404))
            return
        request = Request(self.command, "/" + rest, url.query, body, self.headers, self.client_address[0])
        self._send(emulator.answer(prefix, request))

    def _send(self, response: Response) -> None:
        body = response.encode()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout); nothing to answer


class Emulator:
    """Binance and KuCoin on one loopback port, with in-memory keys, balances and orders.

    `Emulator(port=0)` picks a free port. Use it as a context manager or call `start()`/`stop()`;
    a stopped emulator can be started again on the same port (an exchange coming back).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, fee_rate: Decimal = Decimal("0.001")) -> None:
        self.host, self.port = host, port
        self.states = {name: ExchangeState(name, fee_rate) for name in EXCHANGES}
        self._handlers: dict[str, Binance | Kucoin] = {
            "binance": Binance(self.states["binance"]),
            "kucoin": Kucoin(self.states["kucoin"]),
        }
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._calls: deque[tuple[str, str, str]] = deque(maxlen=10_000)  # bounded: the demo runs for hours
        self._calls_lock = threading.Lock()
        self._source: Callable[[], Mapping[str, Decimal | market.Candle]] | None = (
            None  # what `follow` takes prices from
        )
        self._source_lock = threading.Lock()
        self._follower: tuple[threading.Thread, threading.Event] | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _Server((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="exchange-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open connections: clients now get "connection refused"."""
        if self._httpd is None:
            return
        self._stopping.set()  # wakes requests sleeping in the "slow" fault
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, exchange: str) -> str:
        """What `exchanges.endpoints.point_at` takes for that exchange."""
        self._state(exchange)
        return f"{self.url}/{exchange}"

    def api_urls_setting(self) -> str:
        """The `EXCHANGE_API_URLS` value that points the app at this emulator."""
        return ",".join(f"{name}={self.base_url(name)}" for name in EXCHANGES)

    # What the exchanges know -------------------------------------------------------------------

    def add_key(
        self,
        exchange: str,
        *,
        api_key: str,
        secret: str,
        passphrase: str | None = None,
        allowed_ips: list[str] | tuple[str, ...] | None = None,
        can_withdraw: bool = False,
        can_trade: bool = True,
        balances: dict[str, str | Decimal] | None = None,
        account: str | None = None,
    ) -> ApiKey:
        """Issue an API key. `allowed_ips=None` is unrestricted; `balances` defaults to
        10000 USDT and 0.5 BTC. Keys naming the same `account` share its funds (key rotation);
        `balances` given for an existing account replaces its free balances."""
        return self._state(exchange).add_key(
            api_key=api_key,
            secret=secret,
            passphrase=passphrase,
            allowed_ips=allowed_ips,
            can_withdraw=can_withdraw,
            can_trade=can_trade,
            balances=balances,
            account=account,
        )

    def remove_key(self, exchange: str, api_key: str) -> None:
        """Revoke a key at the exchange: its next request is refused as an unknown key."""
        state = self._state(exchange)
        with state.lock:
            state.keys.pop(api_key, None)

    def balance(self, exchange: str, api_key: str, asset: str) -> tuple[Decimal, Decimal]:
        """(free, locked) of the key's account."""
        state = self._state(exchange)
        with state.lock:
            return state.keys[api_key].account.balance(asset)

    def set_balances(self, exchange: str, api_key: str, balances: dict[str, str | Decimal]) -> None:
        """Replace the free balances of the key's account, as a deposit or a withdrawal on the exchange
        would (what is locked by open orders stays locked)."""
        state = self._state(exchange)
        with state.lock:
            state.keys[api_key].account.free = {asset: Decimal(str(amount)) for asset, amount in balances.items()}

    def withdrawals(self, exchange: str, api_key: str) -> list[Withdrawal]:
        """The withdrawals the key's account asked for, oldest first."""
        state = self._state(exchange)
        with state.lock:
            return state.withdrawals_of(state.keys[api_key].account)

    def settle_withdrawals(self, exchange: str, *, failed: bool = False) -> list[Withdrawal]:
        """Finish every processing withdrawal: sent on chain (a txid), or failed and refunded."""
        return self._state(exchange).settle_withdrawals(WITHDRAWAL_FAILED if failed else WITHDRAWAL_COMPLETED)

    def set_limits(
        self,
        exchange: str,
        base: str,
        *,
        min_qty: Decimal | str | None = None,
        min_notional: Decimal | str | None = None,
    ) -> None:
        """Tighten a pair's minimums in the matching engine only, as when the exchange changes its filters
        after a client loaded its markets: the next order under them is refused (LOT_SIZE, NOTIONAL)."""
        state = self._state(exchange)
        with state.lock:
            limits = state.limits.setdefault(_base(base), {})
            if min_qty is not None:
                limits["min_qty"] = Decimal(str(min_qty))
            if min_notional is not None:
                limits["min_notional"] = Decimal(str(min_notional))

    def set_fault(
        self, exchange: str, fault: str | None, *, seconds: float | None = None, only: str | None = None
    ) -> None:
        """None, "maintenance" (HTTP 503), "rate_limited" (HTTP 429) or "slow" (every answer
        waits `seconds`, 5 by default: longer than the client's timeout). `stop()` is "down".
        `only="POST /api/v3/order"` limits the fault to that method and path (placing an order times
        out while markets and balances answer); a slow request is still carried out once it wakes,
        as a real exchange may take an order whose answer never reached the client."""
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS}")
        state = self._state(exchange)
        with state.lock:
            state.fault = fault
            state.fault_only = only
            if seconds is not None:
                state.slow_seconds = seconds

    def set_clock_offset(self, exchange: str, seconds: float) -> None:
        """Run the exchange's clock ahead (positive) or behind, as when the caller's clock drifts."""
        self._state(exchange).clock_offset_ms = int(seconds * 1000)

    def price(self, exchange: str, base: str) -> Decimal:
        return self._state(exchange).price(_base(base))

    def set_price(self, exchange: str, base: str, price: Decimal | str) -> None:
        """Move a pair ("BTC", "BTC/USDT", "BTCUSDT" or "BTC-USDT"); resting LIMIT orders it
        reaches fill."""
        self._state(exchange).set_price(_base(base), Decimal(str(price)))

    def follow(self, prices: Callable[[], Mapping[str, Decimal | market.Candle]], *, every: float = 1.0) -> Self:
        """Take every pair's price from `prices()` on both exchanges: now, before each answer (so an
        order fills at the source's price of that moment), and every `every` seconds on a daemon
        thread (so resting LIMIT orders fill as the price passes them, through `set_price`, even while
        nobody asks). Each value is a price ({"BTC": Decimal(...)}) or the pair's last 24 hours as a
        `market.Candle` closing at the price, which the tickers' 24h figures then show. The offline
        demo follows the replay the site shows (`follow.replay_days`). `unfollow()` or `reset()`
        stops; the prices stay where they were until `reset()`."""
        self.unfollow()
        with self._source_lock:
            self._source = prices
        try:
            self._catch_up(quiet=False)  # a source that cannot answer at all fails here, not in every request
        except Exception:
            self.unfollow()
            raise
        stopped = threading.Event()
        thread = threading.Thread(
            target=self._follow_loop, args=(stopped, every), name="exchange-emulator-prices", daemon=True
        )
        self._follower = (thread, stopped)
        thread.start()
        return self

    def unfollow(self) -> None:
        follower, self._follower = self._follower, None
        with self._source_lock:
            self._source = None
        if follower is not None:
            thread, stopped = follower
            stopped.set()
            thread.join(timeout=5)

    @property
    def following(self) -> bool:
        return self._source is not None

    def _follow_loop(self, stopped: threading.Event, every: float) -> None:
        while not stopped.wait(every):
            self._catch_up()

    def _catch_up(self, *, quiet: bool = True) -> None:
        """Set the source's current prices; one caller at a time, so an older price never lands last.
        A source that fails once (`quiet`) leaves the prices where they were rather than fail the answer."""
        with self._source_lock:
            if self._source is None:
                return
            try:
                prices = self._source()
            except Exception:
                if not quiet:
                    raise
                logger.exception("exchange emulator: the followed prices could not be read; keeping the last ones")
                return
            for symbol, value in prices.items():
                base = _base(symbol)
                for state in self.states.values():
                    if isinstance(value, market.Candle):
                        state.set_day(base, value)
                    else:
                        state.set_price(base, Decimal(str(value)))

    def reset(self) -> None:
        """Back to a fresh exchange: no keys, no orders, no faults, the snapshot's prices (not following)."""
        self.unfollow()
        for state in self.states.values():
            state.reset()
        with self._calls_lock:
            self._calls.clear()

    def calls(self, exchange: str | None = None) -> list[tuple[str, str]]:
        """(method, path) of the requests answered since the last reset (the last 10,000), oldest first."""
        with self._calls_lock:
            return [(method, path) for name, method, path in self._calls if exchange in (None, name)]

    # Serving -----------------------------------------------------------------------------------

    def answer(self, exchange: str, request: Request) -> Response:
        state, handler = self.states[exchange], self._handlers[exchange]
        with self._calls_lock:
            self._calls.append((exchange, request.method, request.path))
        with state.lock:
            fault, slow_seconds = state.fault, state.slow_seconds
            if state.fault_only is not None and state.fault_only != f"{request.method} {request.path}":
                fault = None
        if fault == "slow" and self._stopping.wait(slow_seconds):
            return Response(503)
        if fault in ("maintenance", "rate_limited"):
            return handler.fault(fault)
        if self._source is not None:
            self._catch_up()
        if not handler.knows(request):
            logger.warning("exchange emulator: %s has no %s %s", exchange, request.method, request.path)
        return handler.handle(request)

    def _state(self, exchange: str) -> ExchangeState:
        try:
            return self.states[exchange]
        except KeyError:
            raise ValueError(f"the emulator serves {', '.join(EXCHANGES)}, not {exchange!r}") from None


def _base(symbol: str) -> str:
    base = symbol.split("/")[0].split("-")[0]
    if base not in market.PAIRS:
        base = base.removesuffix(market.QUOTE)
    if base not in market.PAIRS:
        raise ValueError(f"the emulator lists {', '.join(market.PAIRS)} against USDT, not {symbol!r}")
    return base
