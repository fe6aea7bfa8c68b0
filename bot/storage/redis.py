"""``RedisStore``: the shared state store on Redis, through redis-py (``redis.asyncio``,
with hiredis parsing replies).

One key per conversation holding one record (layout in ``bot.storage.base``);
``compare_and_set`` is one Lua script, sent by its SHA (redis-py's ``Script`` loads it
again when a server answers NOSCRIPT), so dedupe, version check, write and TTL happen
atomically in one round trip. The script touches its one key only, so it runs on a single
Redis, behind Sentinel, or on a Redis Cluster alike. Nothing but the caller's opaque key
and the record ever reaches Redis, and neither is logged or put into exception messages.

Behind Sentinel a write counts only once a replica has it too: Redis replicates after it
answers, and a failover drops whatever the old master had not passed on. So there the
script goes with a ``WAIT`` for one replica, still in one round trip (a pipeline). If no
replica confirms, the Sentinels are asked whether the master moved; if it did, the write
is made again on the new one (see ``_on_master``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeAlias

from redis import exceptions as redis_errors
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool

from bot.storage.base import (
    ABSENT,
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

__all__ = ["CAS_SCRIPT", "AnyRedis", "RedisStore", "run_again", "unavailable_as_store_errors"]

logger = logging.getLogger(__name__)

#: A client for one Redis (plain, or the master Sentinel names) or for a Redis Cluster.
AnyRedis: TypeAlias = "Redis | RedisCluster"

CAS_SCRIPT = """
-- Compare-and-set of one conversation record (its layout: bot/storage/base.py):
--   <version>|<update ids in canonical base 36, comma-separated, newest last>|<payload>
-- KEYS[1]  the conversation's key
-- ARGV[1]  the expected version, decimal ("0": absent)
-- ARGV[2]  the update's id in canonical base 36, or "" for none
-- ARGV[3]  "1" to write, "0" to delete
-- ARGV[4]  the new version, decimal   ARGV[5] the payload   ARGV[6] the TTL in milliseconds
-- Returns {1, ids kept} on OK, {2, record} on CONFLICT, {3, record} on DUPLICATE, where
-- "" stands for "no record".
-- Dedupe (as base.is_applied): an id among those kept was applied; so was any id below the
-- smallest kept once LIMIT are kept, because a write forgets the smallest id, never another.

local LIMIT = 4  -- bot.storage.base.RECENT_LIMIT

-- a < b for canonical base-36 integers, exactly: ids may be longer than a Lua double's
-- 53 bits, and bytes are compared one by one so that no locale's collation applies.
local function less(a, b)
  local neg_a, neg_b = string.sub(a, 1, 1) == '-', string.sub(b, 1, 1) == '-'
  if neg_a ~= neg_b then
    return neg_a
  end
  if neg_a then
    a, b = string.sub(b, 2), string.sub(a, 2)
  end
  if #a ~= #b then
    return #a < #b
  end
  for i = 1, #a do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return false
end

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
local list, smallest = {}, nil
for id in string.gmatch(ids, '[^,]+') do
  if id == uid then
    return {3, raw}
  end
  list[#list + 1] = id
  if smallest == nil or less(id, smallest) then
    smallest = id
  end
end
if uid ~= '' and #list >= LIMIT and less(uid, smallest) then
  return {3, raw}
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
  if #list > LIMIT then
    local at = 1
    for i = 2, #list do
      if less(list[i], list[at]) then
        at = i
      end
    end
    table.remove(list, at)
  end
end
local kept = table.concat(list, ',')
redis.call('SET', KEYS[1], ARGV[4] .. '|' .. kept .. '|' .. ARGV[5], 'PX', ARGV[6])
return {1, kept}
"""

#: Behind Sentinel: how long a write waits for a replica to confirm it (ms). A replica that
#: is up confirms within a network round trip; this is only waited in full while none is.
WAIT_MS = 100
#: How long the Sentinels may take to report a promotion after the replica stopped
#: confirming writes, and how long a master found alone is then trusted without asking.
FAILOVER_SECONDS = 2.0
ALONE_SECONDS = 10.0
TAKEOVER_SECONDS = 10.0
_ATTEMPTS = 4  # a first try, a master that moved, NOSCRIPT on the new one, and once more

_STATUS = {1: CasStatus.OK, 2: CasStatus.CONFLICT, 3: CasStatus.DUPLICATE}

# Server replies that mean "cannot serve now" rather than "your request is wrong"
# (a replica during a failover, a cluster resharding, a server still loading...).
_UNAVAILABLE_REPLIES = (
    "LOADING",
    "BUSY",
    "MISCONF",
    "MASTERDOWN",
    "NOREPLICAS",
    "TRYAGAIN",
    "READONLY",
    "CLUSTERDOWN",
)


@contextlib.asynccontextmanager
async def unavailable_as_store_errors() -> AsyncIterator[None]:
    """Turns redis-py's "cannot serve now" errors into ``StoreUnavailable`` (with the error
    class only: the caller needs no more than "the store is down")."""
    try:
        yield
    except (
        redis_errors.ConnectionError,  # refused, reset, auth, no master known to Sentinel
        redis_errors.TimeoutError,
        redis_errors.ClusterError,
        redis_errors.RedisClusterException,  # e.g. a slot no node serves right now
        OSError,
    ) as exc:
        raise StoreUnavailable(f"redis unavailable ({type(exc).__name__})") from exc
    except redis_errors.ResponseError as exc:
        if str(exc).startswith(_UNAVAILABLE_REPLIES):
            raise StoreUnavailable(f"redis unavailable ({type(exc).__name__})") from exc
        raise


async def run_again(client: Any, reply: Any, script: str, keys: list[str], args: list[Any]) -> Any:
    """A pipeline's reply to one script; when it was NOSCRIPT (Redis restarted and lost its
    scripts), that script loaded and run again alone, its error returned in place of its
    reply as in the pipeline. Only that one: the pipeline's others have run, and running them
    again would spend a budget twice, or answer DUPLICATE to a write's own update."""
    if not isinstance(reply, redis_errors.NoScriptError):
        return reply
    sha = await client.script_load(script)
    try:
        return await client.evalsha(sha, len(keys), *keys, *args)
    except redis_errors.ResponseError as exc:
        return exc


class RedisStore:
    """``StateStore`` on Redis. Safe to share between tasks and processes.

    The client is built by ``bot.compose`` (URL, TLS, Sentinel or Cluster, timeouts and
    retries); the store owns it and closes it.
    """

    def __init__(
        self,
        client: AnyRedis,
        *,
        ttl_seconds: int,
        first_version: Callable[[], int] = first_version_one,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._client: Any = client  # the two client classes share the calls used here
        self._ttl_ms = str(int(ttl_seconds * 1000))
        self._cas = client.register_script(CAS_SCRIPT)
        self._first_version = first_version
        pool = getattr(client, "connection_pool", None)
        self._sentinel = pool if isinstance(pool, SentinelConnectionPool) else None
        self._alone_until = 0.0  # see _master_moved

    @property
    def client(self) -> AnyRedis:
        """The redis-py client, for other parts that keep data next to the conversations
        (the Telegram adapter's per-chat pace)."""
        return self._client  # type: ignore[no-any-return]

    async def get(self, key: str) -> Snapshot:
        async with unavailable_as_store_errors():
            raw = await self._client.get(key)
        return decode_record(raw)

    async def compare_and_set(
        self,
        key: str,
        *,
        expected: int,
        data: bytes | None,
        update_id: int | None = None,
    ) -> CasResult:
        args, read = self.cas_command(key, expected=expected, data=data, update_id=update_id)
        reply: Any
        try:
            async with unavailable_as_store_errors():
                if self._sentinel is None:
                    reply = await self._cas(keys=[key], args=args)
                else:
                    reply = await self._on_master(self._cas.sha, key, args)
        except redis_errors.ResponseError as exc:  # "cannot serve now" is raised above
            reply = exc
        return read(reply)

    def cas_command(
        self,
        key: str,
        *,
        expected: int,
        data: bytes | None,
        update_id: int | None = None,
    ) -> tuple[list[Any], Callable[[Any], CasResult]]:
        """``compare_and_set`` taken apart, for a caller that sends it in one pipeline with
        other commands on the same slot: the arguments of ``CAS_SCRIPT`` (its one key is
        `key`; by SHA: ``cas_sha``), and what turns its reply (or the error in its place)
        into the result."""
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

        def read(reply: Any) -> CasResult:
            if isinstance(reply, Exception):
                if "MALFORMED" in str(reply):
                    raise ValueError("malformed state record") from None
                raise reply
            status = _STATUS[int(reply[0])]
            body = bytes(reply[1])
            if status is not CasStatus.OK:
                return CasResult(status, decode_record(body or None))
            if payload is None:
                return CasResult(status, ABSENT)
            recent = tuple(int(i, 36) for i in body.split(b",")) if body else ()
            return CasResult(status, Snapshot(version, payload, recent))

        return args, read

    @property
    def cas_sha(self) -> str:
        """The SHA1 of ``CAS_SCRIPT``, for EVALSHA."""
        return str(self._cas.sha)

    @property
    def shares_pipelines(self) -> bool:
        """Whether a caller may pipeline ``cas_command`` with its own commands: on one plain
        Redis (behind Sentinel a write needs its WAIT; a Cluster routes per slot)."""
        return self._sentinel is None and isinstance(self._client, Redis)

    async def _on_master(self, sha: str, key: str, args: list[Any]) -> Any:
        """The script by SHA on the master Sentinel names, with WAIT for one replica in the
        same round trip. If no replica confirms and the Sentinels come to name another
        master (``_master_moved``), every connection is dropped and the script runs again
        there (safe: it is a compare-and-set); if they do not, the replicas are down and
        the write stands on the master, as it would on a single Redis."""
        pool = self._sentinel
        assert pool is not None
        for _ in range(_ATTEMPTS):
            before = pool.master_address
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.evalsha(sha, 1, key, *args)
                pipe.wait(1, WAIT_MS)
                reply, replicas = await pipe.execute(raise_on_error=False)
            if isinstance(reply, redis_errors.NoScriptError):
                await self._client.script_load(CAS_SCRIPT)  # a new master, or a restart
                continue
            for result in (reply, replicas):
                if isinstance(result, Exception):
                    raise result
            if int(replicas) >= 1:
                return reply
            if not await self._master_moved(before or pool.master_address):
                return reply
            logger.warning("redis: the master moved; writing again on the new one")
            # None may stay on the old master: the idle ones go now, those other tasks
            # are using go when released (cutting them mid-command breaks redis-py).
            await pool.disconnect(inuse_connections=False)
            await pool.update_active_connections_for_reconnect()  # type: ignore[no-untyped-call]
        raise StoreUnavailable("redis unavailable (the master keeps moving)")

    async def _master_moved(self, used: object) -> bool:
        """Whether the Sentinels name another master than `used`. A promotion is reported a
        second or so after the promoted replica stops confirming writes (more on a loaded
        machine), first by the Sentinel that made it, then by the others, so all are asked,
        again and again for up to ``FAILOVER_SECONDS``; then the pool's own choice is given
        as long to agree. A Sentinel in the middle of a failover (its flag
        ``failover_in_progress``) means the promotion is under way: then the Sentinels are
        given up to ``TAKEOVER_SECONDS`` to name the new master, and if they do not, the store
        is unavailable (the write on `used` would be lost with it). After no move, for
        ``ALONE_SECONDS``, a master without replicas is taken as it is (no replica in sync:
        no failover can come)."""
        pool = self._sentinel
        assert pool is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (0.0 if loop.time() < self._alone_until else FAILOVER_SECONDS)
        failing = False
        while True:
            moved, failing_over = await self._sentinels_say(used)
            if moved:
                settled = loop.time() + FAILOVER_SECONDS
                while loop.time() < settled:
                    if await pool.get_master_address() != used:  # type: ignore[no-untyped-call]
                        break
                    await asyncio.sleep(0.1)
                return True
            if failing_over and not failing:
                logger.warning("redis: a failover is under way; waiting for the new master")
                failing = True
                deadline = loop.time() + TAKEOVER_SECONDS
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.1)
        if failing:
            raise StoreUnavailable("redis unavailable (a failover under way, not yet announced)")
        if loop.time() >= self._alone_until:
            logger.warning("redis: no replica confirms writes; the master has them alone")
        self._alone_until = loop.time() + ALONE_SECONDS
        return False

    async def _sentinels_say(self, used: object) -> tuple[bool, bool]:
        """Whether any Sentinel names a master other than `used` (one that cannot be reached
        names none), and whether any is in the middle of a failover of this service."""
        pool = self._sentinel
        assert pool is not None
        moved = failing_over = False
        for sentinel in pool.sentinel_manager.sentinels:
            try:
                state = await sentinel.sentinel_master(pool.service_name)
            except redis_errors.RedisError:
                continue
            moved = moved or (state["ip"], state["port"]) != used
            flags = state.get("flags", "")  # a string over RESP2, a set over RESP3
            flags = flags if isinstance(flags, set) else set(str(flags).split(","))
            failing_over = failing_over or "failover_in_progress" in flags
        return moved, failing_over

    async def delete(self, key: str) -> None:
        async with unavailable_as_store_errors():
            await self._client.delete(key)

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._client.aclose()
