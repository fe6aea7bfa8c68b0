"""Where subscriptions live: one key per chat (the chat's HMAC, prefix ``dcb:n:``), with the
TTL of the subscription. Two stores with one contract: Redis, and memory for one process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from bot.notices.subscription import Subscription

__all__ = ["NOTICE_PREFIX", "MemorySubscriptions", "RedisSubscriptions", "SubscriptionStore"]

NOTICE_PREFIX = "dcb:n:"

# Replace a subscription only if it is still exactly what the caller read, keeping its TTL:
# two notice runs (or a run and a /forget) never both act on one subscription.
_REPLACE_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""


class SubscriptionStore(Protocol):
    """The subscriptions, by key. Keys come from `KeyMaker(prefix=NOTICE_PREFIX)`."""

    async def put(self, key: str, subscription: Subscription, *, ttl_seconds: int) -> None: ...

    async def get(self, key: str) -> Subscription | None: ...

    async def delete(self, key: str) -> None: ...

    async def replace(self, key: str, old: Subscription, new: Subscription) -> bool:
        """Write `new` if `old` is still stored (TTL kept); False if it changed or went."""
        ...

    def scan(self) -> AsyncIterator[str]:
        """Every subscription's key, each once, in no particular order."""
        ...


class RedisSubscriptions:
    """Subscriptions in Redis (single, Sentinel or Cluster: one key per script)."""

    def __init__(self, redis: Redis | RedisCluster) -> None:
        self._redis = redis
        self._replace = redis.register_script(_REPLACE_LUA)

    async def put(self, key: str, subscription: Subscription, *, ttl_seconds: int) -> None:
        await self._redis.set(key, subscription.encode(), ex=ttl_seconds)

    async def get(self, key: str) -> Subscription | None:
        raw = await self._redis.get(key)
        return None if raw is None else Subscription.decode(raw)

    async def delete(self, key: str) -> None:
        await self._redis.delete(key)

    async def replace(self, key: str, old: Subscription, new: Subscription) -> bool:
        return bool(await self._replace(keys=[key], args=[old.encode(), new.encode()]))

    async def scan(self) -> AsyncIterator[str]:
        async for key in self._redis.scan_iter(match=NOTICE_PREFIX + "*", count=500):
            yield key.decode() if isinstance(key, bytes) else key


class MemorySubscriptions:
    """Subscriptions in this process, with the same expiry."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: dict[str, tuple[float, bytes]] = {}

    def _live(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None or item[0] <= self._clock():
            self._items.pop(key, None)
            return None
        return item[1]

    async def put(self, key: str, subscription: Subscription, *, ttl_seconds: int) -> None:
        self._items[key] = (self._clock() + ttl_seconds, subscription.encode())

    async def get(self, key: str) -> Subscription | None:
        raw = self._live(key)
        return None if raw is None else Subscription.decode(raw)

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def replace(self, key: str, old: Subscription, new: Subscription) -> bool:
        if self._live(key) != old.encode():
            return False
        self._items[key] = (self._items[key][0], new.encode())
        return True

    async def scan(self) -> AsyncIterator[str]:
        for key in list(self._items):
            if self._live(key) is not None:
                yield key
