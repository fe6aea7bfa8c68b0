"""Each private chat's pace in Redis, shared by the processes of one bot (the throttle's
`SharedPace`): a key per chat, `PACE_PREFIX` + the chat's keyed hash, holding the moment
its next message may go, with a TTL that ends then. The hash is the one its conversation's
key has (a Redis Cluster hash tag), so both live in one slot.

`BookPaceWithWrite` is the one place where the pace and the conversation meet: when the
replies to an update make a new message (all of them for typed text; for a press, those that
do not edit the pressed message), the conversation's write and the pace's booking go to
Redis in one pipeline, so the answer costs one round trip, not two.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from redis import exceptions as redis_errors

from bot.service import WRITING_REPLIES
from bot.storage import CasResult, KeyMaker, RedisStore, Snapshot
from bot.storage.keys import DEFAULT_PREFIX
from bot.storage.redis import CAS_SCRIPT, AnyRedis, unavailable_as_store_errors

__all__ = [
    "PACE_PREFIX",
    "PACE_SCRIPT",
    "BookPaceWithWrite",
    "RedisPace",
    "book_pace_with_write",
]

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
        """0.0 when this moment is booked for the chat, else the seconds until it is free.
        A booking its conversation's write made a moment ago is used instead of a round
        trip (`BookPaceWithWrite`)."""
        key, ms = self._keys.for_chat(chat_id), round(interval * 1000)
        if _PREBOOKED.take(key):
            return 0.0
        async with unavailable_as_store_errors():
            waited = await self._script(keys=[key], args=[ms])
        return max(0, int(waited)) / 1000

    async def forget(self, chat_id: int) -> None:
        async with unavailable_as_store_errors():
            await self._client.delete(self._keys.for_chat(chat_id))


#: A booking made with a write is used by the message it was made for only if that goes
#: within this many seconds (the throttle's margin): else the chat's pace could shrink.
_FRESH_SECONDS = 0.1
#: The interval a write books: the throttle's (1 s a chat, plus its 0.1 s margin).
DEFAULT_INTERVAL = 1.1


class _Prebooked:
    """Paces booked with a conversation's write a moment ago, by pace key, in this process:
    `RedisPace.book` takes one instead of a round trip of its own."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def put(self, key: str) -> None:
        now = time.monotonic()
        self._at = {k: t for k, t in self._at.items() if now - t < _FRESH_SECONDS}
        self._at[key] = now

    def take(self, key: str) -> bool:
        at = self._at.pop(key, None)
        return at is not None and time.monotonic() - at < _FRESH_SECONDS


_PREBOOKED = _Prebooked()
#: None: writes book no pace; else whether the update is a press (whose replies may edit).
_WRITE_BOOKS_PACE: ContextVar[bool | None] = ContextVar("write_books_pace", default=None)


@contextlib.contextmanager
def book_pace_with_write(*, pressed: bool = False) -> Iterator[None]:
    """While an update from a private chat is handled: a conversation's write whose replies
    make a new message (`WRITING_REPLIES`) books the chat's pace too, in the same round trip
    (`BookPaceWithWrite`). `pressed`: a button press, whose replies may edit its message."""
    token = _WRITE_BOOKS_PACE.set(pressed)
    try:
        yield
    finally:
        _WRITE_BOOKS_PACE.reset(token)


def _new_message() -> bool:
    """Whether the write in progress is followed by a new message (see `book_pace_with_write`)."""
    pressed = _WRITE_BOOKS_PACE.get()
    replies = WRITING_REPLIES.get()
    if pressed is None or not replies:
        return False
    return not pressed or any(not reply.edit for reply in replies)


class BookPaceWithWrite:
    """The conversation store (`StateStore`) whose write, inside `book_pace_with_write()`,
    books the chat's pace in the same redis-py pipeline: one round trip for both. The pace
    key is the conversation key's hash tag under `PACE_PREFIX`. A booking made is kept for a
    moment for `RedisPace.book`; a busy pace is simply booked again when the message goes.
    Only on one plain Redis (`RedisStore.shares_pipelines`); otherwise the write goes alone.
    """

    def __init__(self, store: RedisStore, *, interval: float = DEFAULT_INTERVAL) -> None:
        self._store = store
        self._interval_ms = str(round(interval * 1000))
        self._client: Any = store.client
        self._pace = self._client.register_script(PACE_SCRIPT)

    async def get(self, key: str) -> Snapshot:
        return await self._store.get(key)

    async def compare_and_set(
        self,
        key: str,
        *,
        expected: int,
        data: bytes | None,
        update_id: int | None = None,
    ) -> CasResult:
        store = self._store
        # The chat's pace key: its conversation key's hash tag under PACE_PREFIX.
        tag = key[key.find("{") :] if key.startswith(DEFAULT_PREFIX + "{") else None
        if data is None or tag is None or not store.shares_pipelines or not _new_message():
            return await store.compare_and_set(
                key, expected=expected, data=data, update_id=update_id
            )
        pace_key = PACE_PREFIX + tag
        args, read = store.cas_command(key, expected=expected, data=data, update_id=update_id)
        async with unavailable_as_store_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.evalsha(store.cas_sha, 1, key, *args)
                pipe.evalsha(self._pace.sha, 1, pace_key, self._interval_ms)
                written, waited = await pipe.execute(raise_on_error=False)
            # After NOSCRIPT (Redis restarted, scripts flushed) run again only the script
            # that did not run: the other one has landed, and a second CAS of the same
            # update would answer DUPLICATE for its own write.
            if isinstance(written, redis_errors.NoScriptError):
                await self._client.script_load(CAS_SCRIPT)
                written = await self._run(store.cas_sha, key, *args)
            if isinstance(waited, redis_errors.NoScriptError):
                await self._client.script_load(PACE_SCRIPT)
                waited = await self._run(self._pace.sha, pace_key, self._interval_ms)
            result = read(written)
        if waited == 0:
            _PREBOOKED.put(pace_key)
        return result

    async def _run(self, sha: str, key: str, *args: Any) -> Any:
        """One script by SHA, its error returned in place of its reply (as in the pipeline)."""
        try:
            return await self._client.evalsha(sha, 1, key, *args)
        except redis_errors.ResponseError as exc:
            return exc

    async def delete(self, key: str) -> None:
        await self._store.delete(key)

    async def ping(self) -> bool:
        return await self._store.ping()

    async def close(self) -> None:
        await self._store.close()
