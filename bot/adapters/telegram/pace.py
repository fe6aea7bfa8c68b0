"""`BookPaceWithWrite`: the one place where a chat's pace and its conversation meet.

When the replies to an update make a new message (all of them for typed text; for a press,
those that do not edit the pressed message), the conversation's write and the reply's
booking in the fleet's budget (`fleet.RedisFleet`: the fleet's flood wait and reply cap, and
the chat's pace) go to Redis in one pipeline, so the answer costs one round trip, not two
(issue 17.1: kept because `make bench` shows the saving, behind this one seam).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from bot.adapters.telegram.booking import PREBOOKED, to_give_back
from bot.adapters.telegram.fleet import FLEET_SCRIPT, PACE_PREFIX, PACE_SCRIPT, RedisFleet
from bot.service import WRITING_REPLIES
from bot.storage import CasResult, RedisStore, Snapshot, StoreUnavailable
from bot.storage.keys import DEFAULT_PREFIX
from bot.storage.redis import CAS_SCRIPT, run_again, unavailable_as_store_errors

__all__ = [
    "PACE_PREFIX",
    "PACE_SCRIPT",
    "BookPaceWithWrite",
    "book_pace_with_write",
]

#: The interval a write books: the throttle's (1 s a chat, plus its 0.1 s margin).
DEFAULT_INTERVAL = 1.1


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
    books the reply in the fleet's budget in the same redis-py pipeline: one round trip for
    both. The pace key is the conversation key's hash tag under `PACE_PREFIX`. A booking made
    is kept for a moment for `RedisFleet.book`: now, or the chat's next free moment when the
    fleet hears of every flood wait at once (`RedisFleet.pace_args`); a busy chat's is
    otherwise booked again when the message goes. Only on one plain Redis
    (`RedisStore.shares_pipelines`); otherwise the write goes alone.
    """

    def __init__(
        self, store: RedisStore, fleet: RedisFleet, *, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self._store = store
        self._fleet = fleet
        self._interval_ms = str(round(interval * 1000))
        self._client: Any = store.client

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
        fleet = self._fleet
        fleet_keys, fleet_args = fleet.fleet_args("reply")
        pace_args = fleet.pace_args(self._interval_ms)
        args, read = store.cas_command(key, expected=expected, data=data, update_id=update_id)
        async with unavailable_as_store_errors():
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.evalsha(store.cas_sha, 1, key, *args)
                pipe.evalsha(fleet.fleet_sha, len(fleet_keys), *fleet_keys, *fleet_args)
                pipe.evalsha(fleet.pace_sha, 1, pace_key, *pace_args)
                written, spent, waited = await pipe.execute(raise_on_error=False)
            client = self._client
            written = await run_again(client, written, CAS_SCRIPT, [key], args)
            spent = await run_again(client, spent, FLEET_SCRIPT, fleet_keys, fleet_args)
            waited = await run_again(client, waited, PACE_SCRIPT, [pace_key], pace_args)
            result = read(written)
        if isinstance(spent, Exception) or isinstance(waited, Exception):
            return result
        answer = fleet.heard(spent, waited)
        if answer.why in ("go", "reserved"):
            PREBOOKED.put(pace_key, answer.wait)
        elif moment := to_give_back(answer, waited):  # the chat keeps its place in the queue
            with contextlib.suppress(StoreUnavailable):
                await fleet.unbook(pace_key, moment, self._interval_ms)
        return result

    async def delete(self, key: str) -> None:
        await self._store.delete(key)

    async def ping(self) -> bool:
        return await self._store.ping()

    async def close(self) -> None:
        await self._store.close()
