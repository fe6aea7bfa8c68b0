"""``RedisStore``: the shared state store on Redis.

One key per conversation holding one record (layout in ``bot.storage.base``);
``compare_and_set`` is a single Lua script, so dedupe, version check, write and TTL
happen atomically in one round trip. Nothing but the caller's opaque key and the
record ever reaches Redis, and neither is logged or put into exception messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.storage.base import (
    ABSENT,
    RECENT_LIMIT,
    Booking,
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
from bot.storage.resp import Arg, Endpoint, ReplyError, RespClient, Script

__all__ = ["RedisStore"]

CONNECT_TIMEOUT_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 2.0

# The pace of one chat, shared by processes: if the pace key's next free moment has come,
# book now (the next free moment becomes now + interval, with a TTL that ends then) and
# give 0; otherwise book nothing and give the milliseconds until it comes. The server's
# clock is the one clock all processes share.
_BOOK_LUA = """
local function book(key, interval)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local free = tonumber(redis.call('GET', key) or '0')
  if free > now then
    return free - now
  end
  redis.call('SET', key, string.format('%d', now + tonumber(interval)), 'PX', interval)
  return 0
end
"""

# KEYS[1] conversation key   KEYS[2] (optional) a pace key to book with a write
# ARGV[1] expected version, canonical decimal ("0" = absent)
# ARGV[2] update id in canonical base 36, or "" for none
# ARGV[3] "1" to write, "0" to delete
# ARGV[4] new version (decimal)   ARGV[5] payload   ARGV[6] TTL in milliseconds
# ARGV[7] (with KEYS[2]) the pace's interval in milliseconds
# Returns {1, kept ids[, booked]} on OK, {2, current record} on CONFLICT, {3, current
# record} on DUPLICATE; "" stands for "no record". RECENT_OLDER is filled in from
# RECENT_LIMIT.
_CAS_SCRIPT = (
    _BOOK_LUA
    + """
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
if KEYS[2] then
  return {1, kept, book(KEYS[2], ARGV[7])}
end
return {1, kept}
"""
)

_CAS_SCRIPT = _CAS_SCRIPT.replace("RECENT_OLDER", str(RECENT_LIMIT - 1))

# KEYS[1] a pace key   ARGV[1] interval in ms   (see _BOOK_LUA)
_PACE_SCRIPT = _BOOK_LUA + "return book(KEYS[1], ARGV[1])"

_STATUS = {1: CasStatus.OK, 2: CasStatus.CONFLICT, 3: CasStatus.DUPLICATE}

# Server replies that mean "cannot serve now" rather than "your request is wrong".
_UNAVAILABLE_REPLIES = ("LOADING", "BUSY", "MISCONF", "MASTERDOWN", "NOREPLICAS", "TRYAGAIN")
_RETRY_PAUSE = 0.01  # seconds before trying a lost connection's command on a new one


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OSError):  # ConnectionError, TimeoutError, refused, TLS errors
        return True
    return isinstance(exc, ReplyError) and str(exc).startswith(_UNAVAILABLE_REPLIES)


async def _once_more(call: Callable[[], Awaitable[Any]]) -> Any:
    """Run `call`, translating errors; a connection lost is tried once more on a new one
    (Redis restarted, or closed an idle socket). Trying a compare-and-set again is safe:
    if the first did land, the second sees the new version and reports DUPLICATE (with an
    update id) or CONFLICT, never a second write. A timeout is not tried again, so a caller
    waits at most one timeout."""
    for attempt in (1, 2):
        try:
            return await call()
        except ConnectionError:
            if attempt == 2:
                raise StoreUnavailable("redis unavailable (ConnectionError)") from None
            await asyncio.sleep(_RETRY_PAUSE)
        except Exception as exc:
            if _is_unavailable(exc):
                # Only the error class: the caller needs no more than "the store is down".
                raise StoreUnavailable(f"redis unavailable ({type(exc).__name__})") from exc
            raise
    raise AssertionError  # unreachable


class RedisStore:
    """``StateStore`` on Redis. Safe to share between tasks and processes."""

    def __init__(
        self,
        client: RespClient,
        *,
        ttl_seconds: int,
        first_version: Callable[[], int] = first_version_one,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._client = client
        self._ttl_ms = str(int(ttl_seconds * 1000))
        self._cas = Script(client, _CAS_SCRIPT)
        self._pace = Script(client, _PACE_SCRIPT)
        self._first_version = first_version

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        ttl_seconds: int,
        first_version: Callable[[], int] = first_version_one,
    ) -> RedisStore:
        """A store on one pipelined connection with short timeouts: a dead server becomes
        ``StoreUnavailable`` quickly, and the store recovers by itself once Redis is back."""
        client = RespClient(
            Endpoint.from_url(url),
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            timeout=SOCKET_TIMEOUT_SECONDS,
        )
        return cls(client, ttl_seconds=ttl_seconds, first_version=first_version)

    async def get(self, key: str) -> Snapshot:
        raw = await _once_more(lambda: self._client.call(b"GET", key))
        return decode_record(raw)

    async def compare_and_set(
        self,
        key: str,
        *,
        expected: int,
        data: bytes | None,
        update_id: int | None = None,
        booking: Booking | None = None,
    ) -> CasResult:
        payload = validate_cas_args(expected, data)
        version = next_version(expected, self._first_version)
        args: list[Arg] = [
            str(expected),
            "" if update_id is None else encode_id(update_id),
            b"0" if payload is None else b"1",
            str(version),
            b"" if payload is None else payload,
            self._ttl_ms,
        ]
        keys: list[Arg] = [key]
        if booking is not None and payload is not None:
            keys.append(booking.key)
            args.append(str(round(booking.interval * 1000)))
        try:
            reply = await _once_more(lambda: self._cas(keys, args))
        except ReplyError as exc:
            if "MALFORMED" in str(exc):
                raise ValueError("malformed state record") from None
            raise
        code, body = int(reply[0]), bytes(reply[1])
        status = _STATUS[code]
        if status is not CasStatus.OK:
            return CasResult(status, decode_record(body or None))
        if payload is None:
            return CasResult(status, ABSENT)
        recent = tuple(int(i, 36) for i in body.split(b",")) if body else ()
        booked = max(0, int(reply[2])) / 1000 if len(reply) > 2 else None
        return CasResult(status, Snapshot(version, payload, recent), booked)

    async def delete(self, key: str) -> None:
        await _once_more(lambda: self._client.call(b"DEL", key))

    async def book_slot(self, key: str, *, interval: float) -> float:
        """Book this moment in a pace shared by processes, if it is free: 0.0 when booked,
        else the seconds until it is free (nothing booked).

        ``key`` holds the next free moment, ``interval`` seconds after the last booking, with
        a TTL that ends then. Spaces a chat's messages across processes (see
        ``bot.adapters.telegram.throttle``).
        """
        ms = str(round(interval * 1000))
        waited = await _once_more(lambda: self._pace([key], [ms]))
        return max(0, int(waited)) / 1000

    async def ping(self) -> bool:
        try:
            return bool(await self._client.call(b"PING") == b"PONG")
        except Exception:
            return False

    async def close(self) -> None:
        await self._client.close()
