"""Each private chat's pace in Redis, shared by the processes of one bot (the throttle's
`SharedPace`): a key per chat, `PACE_PREFIX` + the chat's keyed hash, holding the moment
its next message may go, with a TTL that ends then. The hash is the one its conversation's
key has (a Redis Cluster hash tag), so both live in one slot."""

from __future__ import annotations

from typing import Any

from bot.storage import KeyMaker
from bot.storage.redis import AnyRedis, unavailable_as_store_errors

__all__ = ["PACE_PREFIX", "PACE_SCRIPT", "RedisPace"]

#: Redis keys of the per-chat pace: the prefix, then the chat's keyed hash.
PACE_PREFIX = "dcb:p:"

PACE_SCRIPT = """
-- Book this moment in one chat's pace, if it is free.
-- KEYS[1]  the chat's pace key: the next free moment, in ms of Redis's clock
-- ARGV[1]  the interval between two messages, in ms
-- Free: book now (the next free moment becomes now + interval, and the key expires then)
-- and return 0. Busy: book nothing and return the ms until it is free. Redis's clock is
-- the one clock every process shares.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free > now then
  return free - now
end
redis.call('SET', KEYS[1], string.format('%d', now + tonumber(ARGV[1])), 'PX', ARGV[1])
return 0
"""


class RedisPace:
    """`SharedPace` on the store's Redis client. Both methods raise `StoreUnavailable` when
    Redis cannot be reached."""

    def __init__(self, client: AnyRedis, keys: KeyMaker) -> None:
        self._client: Any = client
        self._keys = keys
        self._script = client.register_script(PACE_SCRIPT)

    async def book(self, chat_id: int, interval: float) -> float:
        """0.0 when this moment is booked for the chat, else the seconds until it is free."""
        key, ms = self._keys.for_chat(chat_id), round(interval * 1000)
        async with unavailable_as_store_errors():
            waited = await self._script(keys=[key], args=[ms])
        return max(0, int(waited)) / 1000

    async def forget(self, chat_id: int) -> None:
        async with unavailable_as_store_errors():
            await self._client.delete(self._keys.for_chat(chat_id))
