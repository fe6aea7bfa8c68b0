"""``RedisStore``: the shared state store on Redis.

One key per conversation holding one record (layout in ``bot.storage.base``);
``compare_and_set`` is a single Lua script, so dedupe, version check, write and TTL
happen atomically in one round trip. Nothing but the caller's opaque key and the
record ever reaches Redis, and neither is logged or put into exception messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from bot.storage.base import (
    ABSENT,
    RECENT_LIMIT,
    CasResult,
    CasStatus,
    Snapshot,
    StoreUnavailable,
    decode_record,
    encode_id,
    first_version_one,
    next_version,
    validate_cas_args,
)

__all__ = ["RedisStore"]

CONNECT_TIMEOUT_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 2.0
POOL_WAIT_SECONDS = 5.0
"""How long a caller waits for a free pooled connection before StoreUnavailable."""
HEALTH_CHECK_INTERVAL_SECONDS = 10

# KEYS[1] conversation key
# ARGV[1] expected version, canonical decimal ("0" = absent)
# ARGV[2] update id in canonical base 36, or "" for none
# ARGV[3] "1" to write, "0" to delete
# ARGV[4] new version (decimal)   ARGV[5] payload   ARGV[6] TTL in milliseconds
# Returns {1, kept ids} on OK, {2, current record} on CONFLICT, {3, current record} on
# DUPLICATE; "" stands for "no record". RECENT_OLDER is filled in from RECENT_LIMIT.
_CAS_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
local version, ids = '0', ''
if raw then
  local a = string.find(raw, '|', 1, true)
  local b = a and string.find(raw, '|', a + 1, true)
  if not b then
    return redis.error_reply('MALFORMED state record')
  end
  version = string.sub(raw, 1, a - 1)
  ids = string.sub(raw, a + 1, b - 1)
else
  raw = ''
end
local uid = ARGV[2]
local list = {}
for id in string.gmatch(ids, '[^,]+') do
  if id == uid then
    return {3, raw}
  end
  list[#list + 1] = id
end
if version ~= ARGV[1] then
  return {2, raw}
end
if ARGV[3] == '0' then
  if raw ~= '' then
    redis.call('DEL', KEYS[1])
  end
  return {1, ''}
end
if uid ~= '' then
  list[#list + 1] = uid
end
local kept = table.concat(list, ',', math.max(1, #list - RECENT_OLDER), #list)
redis.call('SET', KEYS[1], ARGV[4] .. '|' .. kept .. '|' .. ARGV[5], 'PX', ARGV[6])
return {1, kept}
"""

_CAS_SCRIPT = _CAS_SCRIPT.replace("RECENT_OLDER", str(RECENT_LIMIT - 1))

# KEYS[1] a pace key   ARGV[1] interval in ms
# If the pace key's next free moment has come, books now: the next free moment becomes now +
# interval, with a TTL that ends then; returns 0. Otherwise books nothing and returns the
# milliseconds until it comes. The server's clock is the one clock all processes share.
_PACE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free > now then
  return free - now
end
redis.call('SET', KEYS[1], string.format('%d', now + tonumber(ARGV[1])), 'PX', ARGV[1])
return 0
"""

_STATUS = {1: CasStatus.OK, 2: CasStatus.CONFLICT, 3: CasStatus.DUPLICATE}

# Server replies that mean "cannot serve now" rather than "your request is wrong".
_UNAVAILABLE_REPLIES = ("LOADING", "BUSY", "MISCONF", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN")


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(
        exc,
        redis_errors.ConnectionError  # also BusyLoading, MaxConnections, auth failures
        | redis_errors.TimeoutError
        | redis_errors.OutOfMemoryError
        | redis_errors.ReadOnlyError
        | OSError,  # includes the builtin TimeoutError raised by asyncio timeouts
    ):
        return True
    return isinstance(exc, redis_errors.ResponseError) and str(exc).startswith(_UNAVAILABLE_REPLIES)


@contextlib.contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if _is_unavailable(exc):
            # Only the error class: redis messages carry addresses, never keys, but the
            # caller needs no more than "the store is down".
            raise StoreUnavailable(f"redis unavailable ({type(exc).__name__})") from exc
        raise


class RedisStore:
    """``StateStore`` on Redis. Safe to share between tasks and processes."""

    def __init__(
        self,
        client: Redis,
        *,
        ttl_seconds: int,
        first_version: Callable[[], int] = first_version_one,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        if client.connection_pool.connection_kwargs.get("decode_responses"):
            raise ValueError("the Redis client must return bytes (decode_responses=False)")
        self._client = client
        self._ttl_ms = str(int(ttl_seconds * 1000))
        self._cas = client.register_script(_CAS_SCRIPT)
        self._pace = client.register_script(_PACE_SCRIPT)
        self._first_version = first_version

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        ttl_seconds: int,
        max_connections: int = 64,
        first_version: Callable[[], int] = first_version_one,
    ) -> RedisStore:
        """A store with its own blocking pool and short timeouts.

        The blocking pool makes a burst beyond ``max_connections`` wait for a free
        connection (the default pool raises instead). Short timeouts turn a dead server
        into ``StoreUnavailable`` quickly; broken pooled connections are replaced on
        their next use, so the store recovers by itself once Redis is back.
        """
        pool: BlockingConnectionPool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=POOL_WAIT_SECONDS,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_keepalive=True,
            health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
            # One quick retry on a fresh connection covers a socket the server closed
            # (restart, idle timeout). Retrying compare-and-set is safe: if the first
            # attempt did land, the retry sees the new version and reports DUPLICATE
            # (with an update id) or CONFLICT, never a second write. Timeouts are not
            # retried, so a caller waits at most one socket timeout per attempt.
            retry=Retry(
                ExponentialWithJitterBackoff(base=0.01, cap=0.1),
                retries=1,
                supported_errors=(redis_errors.ConnectionError,),
            ),
        )
        return cls(Redis.from_pool(pool), ttl_seconds=ttl_seconds, first_version=first_version)

    async def get(self, key: str) -> Snapshot:
        with _translate_errors():
            raw = await self._client.get(key)
        if isinstance(raw, str):  # excluded by the constructor check; narrows the type
            raise TypeError("the Redis client must return bytes")
        return decode_record(raw)

    async def compare_and_set(
        self, key: str, *, expected: int, data: bytes | None, update_id: int | None = None
    ) -> CasResult:
        payload = validate_cas_args(expected, data)
        version = next_version(expected, self._first_version)
        args: list[Any] = [
            str(expected),
            "" if update_id is None else encode_id(update_id),
            b"0" if payload is None else b"1",
            str(version),
            b"" if payload is None else payload,
            self._ttl_ms,
        ]
        with _translate_errors():
            try:
                reply = await self._cas(keys=[key], args=args)
            except redis_errors.ResponseError as exc:
                if str(exc).startswith("MALFORMED"):
                    raise ValueError("malformed state record") from exc
                raise
        code, body = int(reply[0]), bytes(reply[1])
        status = _STATUS[code]
        if status is not CasStatus.OK:
            return CasResult(status, decode_record(body or None))
        if payload is None:
            return CasResult(status, ABSENT)
        recent = tuple(int(i, 36) for i in body.split(b",")) if body else ()
        return CasResult(status, Snapshot(version, payload, recent))

    async def delete(self, key: str) -> None:
        with _translate_errors():
            await self._client.delete(key)

    async def book_slot(self, key: str, *, interval: float) -> float:
        """Book this moment in a pace shared by processes, if it is free: 0.0 when booked,
        else the seconds until it is free (nothing booked).

        ``key`` holds the next free moment, ``interval`` seconds after the last booking, with
        a TTL that ends then. Spaces a chat's messages across processes (see
        ``bot.adapters.telegram.throttle``).
        """
        with _translate_errors():
            waited = await self._pace(keys=[key], args=[str(round(interval * 1000))])
        return max(0, int(waited)) / 1000

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except Exception:
            return False

    async def close(self) -> None:
        with _translate_errors():
            await self._client.aclose(close_connection_pool=True)
