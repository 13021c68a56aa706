"""The live price websocket's numbers in Redis (the cache's server, db 1), shared by every ws process.

Open connections are leases, not a bare counter: a counter that a process increments and then
dies without decrementing stays wrong forever, and a per-IP cap built on it would lock that
address out. Each connection is one member (its channel name) of two sorted sets, scored with
the time its lease runs out; the consumer renews it on every heartbeat, releases it on
disconnect, and a lease nobody renews (its process died) simply expires and stops counting.

    ws:prices:ip:<ip>         sorted set: the open connections of one client IP (the cap's count)
    ws:prices:clients         sorted set: every open connection (the stats' `clients`)
    ws:prices:messages_sent   integer: tick messages sent (see tick_recorded)
    ws:prices:refused         integer: connections refused by the per-IP cap
    ws:prices:last_tick       ISO time of the last tick published
    market:publisher:lock     the publisher's lock (exchanges.market.publisher)

Taking a lease is one Lua script (drop expired leases, count, refuse or add): atomic, so a
burst of connections from one address cannot slip past the cap between a count and an add.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import redis
from django.conf import settings

from cryptovault.ratelimits import redis_client

PREFIX = "ws:prices:"
CLIENTS_KEY = f"{PREFIX}clients"
MESSAGES_SENT_KEY = f"{PREFIX}messages_sent"
REFUSED_KEY = f"{PREFIX}refused"
LAST_TICK_KEY = f"{PREFIX}last_tick"
PUBLISHER_LOCK_KEY = "market:publisher:lock"

# KEYS: ip set, clients set, refused counter. ARGV: now, lease expiry, member, cap, key ttl (s).
_OPEN = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  redis.call('INCR', KEYS[3])
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

# KEYS: clients set, messages counter, last tick. ARGV: now, tick time (ISO).
_TICK = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local clients = redis.call('ZCARD', KEYS[1])
redis.call('INCRBY', KEYS[2], clients)
redis.call('SET', KEYS[3], ARGV[2])
return clients
"""


@lru_cache(maxsize=8)
def _script(client: redis.Redis, source: str):
    return client.register_script(source)


def ip_key(ip: str) -> str:
    return f"{PREFIX}ip:{ip}"


def lease_seconds() -> float:
    """How long a connection counts without renewal: three heartbeats, one more than a client
    may miss before the consumer drops it, so a live connection never lapses."""
    return 3 * settings.WS_HEARTBEAT_SECONDS


def connection_open(*, ip: str, member: str, cap: int) -> bool:
    """Take a lease for one connection from `ip`; False (and counted as refused) at the cap."""
    now, ttl = time.time(), lease_seconds()
    script = _script(redis_client(), _OPEN)
    taken = script(keys=[ip_key(ip), CLIENTS_KEY, REFUSED_KEY], args=[now, now + ttl, member, cap, int(ttl) + 1])
    return bool(taken)


def connection_renew(*, ip: str, member: str) -> None:
    now, ttl = time.time(), lease_seconds()
    pipeline = redis_client().pipeline(transaction=True)
    pipeline.zadd(ip_key(ip), {member: now + ttl})
    pipeline.expire(ip_key(ip), int(ttl) + 1)
    pipeline.zadd(CLIENTS_KEY, {member: now + ttl})
    pipeline.execute()


def connection_close(*, ip: str, member: str) -> None:
    pipeline = redis_client().pipeline(transaction=True)
    pipeline.zrem(ip_key(ip), member)
    pipeline.zrem(CLIENTS_KEY, member)
    pipeline.execute()


def tick_recorded(at: datetime) -> int:
    """Note a published tick: its time, and one message for each client connected now.

    Counted here, by the publisher, in one round trip per tick, rather than by the consumers
    (one Redis write per message would cost more than the fan-out it measures). So
    `messages_sent` counts tick messages offered to the connected clients; snapshots, pings and
    replies are not counted, and a client that unsubscribed from every symbol still counts.
    """
    script = _script(redis_client(), _TICK)
    return int(script(keys=[CLIENTS_KEY, MESSAGES_SENT_KEY, LAST_TICK_KEY], args=[time.time(), at.isoformat()]))


@dataclass(frozen=True)
class WsStats:
    clients: int
    messages_sent: int
    refused: int
    last_tick: datetime | None
    publisher_running: bool


def ws_stats() -> WsStats:
    pipeline = redis_client().pipeline(transaction=True)
    pipeline.zremrangebyscore(CLIENTS_KEY, "-inf", time.time())
    pipeline.zcard(CLIENTS_KEY)
    pipeline.mget(MESSAGES_SENT_KEY, REFUSED_KEY, LAST_TICK_KEY)
    pipeline.exists(PUBLISHER_LOCK_KEY)
    _, clients, (sent, refused, last_tick), running = pipeline.execute()
    return WsStats(
        clients=int(clients),
        messages_sent=int(sent or 0),
        refused=int(refused or 0),
        last_tick=datetime.fromisoformat(last_tick.decode()) if last_tick else None,
        publisher_running=bool(running),
    )
