"""The throttle's shared budget: every new message to a chat books its moment in the fleet
and in the chat's pace across processes, right before it goes; `BookPaceWithWrite` books it
with the conversation's write (on a real Redis). The fleet's own contract: test_fleet.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from telegram.error import NetworkError, RetryAfter

from bot.adapters.telegram.fleet import FLEET_SCRIPT, Booked, RedisFleet
from bot.adapters.telegram.pace import (
    PACE_PREFIX,
    PACE_SCRIPT,
    BookPaceWithWrite,
    book_pace_with_write,
)
from bot.adapters.telegram.throttle import Throttle
from bot.conversation import Reply
from bot.service import WRITING_REPLIES
from bot.storage import CasResult, CasStatus, KeyMaker, Snapshot
from bot.storage.redis import CAS_SCRIPT
from tests.redis_server import all_keys_with_ttl, store_on


class _Fleet:
    """A fleet that is always free, counting its bookings."""

    def __init__(self) -> None:
        self.books: list[tuple[int, float]] = []

    async def book(self, chat_id: int, interval: float) -> Booked:
        self.books.append((chat_id, interval))
        return Booked(0.0)

    async def bulk(self) -> Booked:
        return Booked(0.0)

    async def hold_fleet(self, seconds: float) -> float:
        return seconds

    async def hold_chat(self, chat_id: int, seconds: float) -> float:
        return seconds

    def hear_floods(self, on_flood: Any) -> None:
        """Nothing to hear: no other process."""

    async def close(self) -> None:
        """Nothing to stop."""


async def _sent(*_args: Any, **_kwargs: Any) -> bool:
    return True


async def _send(throttle: Throttle, chat: int, endpoint: str = "sendMessage") -> None:
    await throttle.process_request(_sent, (), {}, endpoint, {"chat_id": chat}, None)


async def test_every_new_message_to_a_chat_books_the_fleet_at_its_chats_pace() -> None:
    fleet = _Fleet()
    throttle = Throttle(per_chat_interval=0.02, per_group_interval=0.03)
    throttle.share(fleet)
    await asyncio.gather(_send(throttle, 5), _send(throttle, 5), _send(throttle, 6))
    await _send(throttle, 5, "editMessageText")  # an edit is no new message
    await _send(throttle, -100)  # a group: 20 a minute, a longer interval
    books = [(chat, round(interval, 3)) for chat, interval in sorted(fleet.books)]
    assert books == [(-100, 0.13), (5, 0.12), (5, 0.12), (6, 0.12)]


KEYS = KeyMaker(b"pace test secret", 42, prefix=PACE_PREFIX)


def _fleet_on(store: Any) -> RedisFleet:
    return RedisFleet(store.client, KEYS)


async def test_rate_limits_and_server_errors_are_counted_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three 429s and then two 5xx for one message (Telegram's bad minute): it still goes;
    a sixth 429 in a row gives up."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as build_application sets it
    throttle = Throttle(per_chat_interval=0.01)
    outcomes: list[Exception | None] = [
        *(RetryAfter(timedelta(0)) for _ in range(3)),
        NetworkError("Internal Server Error"),
        NetworkError("Bad Gateway"),
        None,
    ]
    calls = 0

    async def flaky(*_args: Any, **_kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return True

    assert await throttle.process_request(flaky, (), {}, "sendMessage", {"chat_id": 3}, None)
    assert calls == 6

    outcomes[:] = [RetryAfter(timedelta(0)) for _ in range(6)]
    with pytest.raises(RetryAfter):
        await throttle.process_request(flaky, (), {}, "editMessageText", {"chat_id": 3}, None)


@pytest.mark.redis
async def test_typed_text_books_its_pace_with_the_write(redis_url: str) -> None:
    """`BookPaceWithWrite`: inside `book_pace_with_write()` a write books the chat's pace in
    the same round trip, and the message that follows at once uses that booking."""
    conversations = KeyMaker(b"pace test secret", 42)
    store = store_on(redis_url, ttl_seconds=600)
    pace = _fleet_on(store)
    paced = BookPaceWithWrite(store, pace)
    key = conversations.for_chat(7)
    with redis.Redis.from_url(redis_url) as admin:
        written = await paced.compare_and_set(key, expected=0, data=b"a", update_id=1)
        assert written.status is CasStatus.OK  # outside: the write alone
        assert KEYS.for_chat(7) not in all_keys_with_ttl(redis_url)
        admin.script_flush()  # the pipeline meets NOSCRIPT and loads both scripts
        with book_pace_with_write(), _writing(Reply(("next",), edit=True)):
            written = await paced.compare_and_set(key, expected=1, data=b"b", update_id=2)
        assert written == CasResult(CasStatus.OK, Snapshot(2, b"b", (1, 2)))
        assert 0 < all_keys_with_ttl(redis_url)[KEYS.for_chat(7)] <= 1100
        calls = _evalsha_calls(admin)
        assert (await pace.book(7, 1.1)).wait == 0.0  # booked with the write: no round trip
        assert _evalsha_calls(admin) == calls
        assert (await pace.book(7, 1.1)).wait > 0.9  # the next one asks Redis, and waits
        assert _evalsha_calls(admin) == calls + 2  # the fleet's script and the chat's
        with book_pace_with_write(pressed=True), _writing(Reply(("edit",), edit=True)):
            await paced.compare_and_set(key, expected=2, data=b"c", update_id=3)  # edits only
        assert (await pace.book(7, 1.1)).wait > 0.9
        with book_pace_with_write(), _writing(Reply(("typed",))):  # the pace is busy
            await paced.compare_and_set(key, expected=3, data=b"d", update_id=4)
        assert (await pace.book(7, 1.1)).wait > 0.9
        admin.delete(KEYS.for_chat(7))  # the chat is free again, but...
        await pace.hold_fleet(1.0)  # ...the fleet is flooded: the write's booking is given back
        with book_pace_with_write(), _writing(Reply(("typed",))):
            await paced.compare_and_set(key, expected=4, data=b"e", update_id=5)
        assert KEYS.for_chat(7) not in all_keys_with_ttl(redis_url)
        assert (await pace.book(7, 1.1)).why == "flood"
    await paced.close()


@pytest.mark.redis
@pytest.mark.parametrize("cached", ["cas", "pace", "fleet"])
async def test_a_paced_write_after_half_a_script_flush_runs_each_script_once(
    redis_url: str, cached: str
) -> None:
    """When Redis knows one of the three scripts (another process loaded it after a restart),
    only the others are sent again: the write lands once and is not answered DUPLICATE."""
    store = store_on(redis_url, ttl_seconds=600)
    paced = BookPaceWithWrite(store, _fleet_on(store))
    key = KeyMaker(b"pace test secret", 42).for_chat(8)
    with redis.Redis.from_url(redis_url) as admin:
        admin.delete(key, KEYS.for_chat(8))
        admin.script_flush()
        admin.script_load({"cas": CAS_SCRIPT, "pace": PACE_SCRIPT, "fleet": FLEET_SCRIPT}[cached])
        with book_pace_with_write(), _writing(Reply(("typed",))):
            written = await paced.compare_and_set(key, expected=0, data=b"a", update_id=5)
        assert written.status is CasStatus.OK
        assert written.snapshot.data == b"a"
        assert 0 < all_keys_with_ttl(redis_url)[KEYS.for_chat(8)] <= 1100
    await paced.close()


@contextlib.contextmanager
def _writing(*replies: Reply) -> Iterator[None]:
    """As ChatService does around a write: the replies that will follow it."""
    token = WRITING_REPLIES.set(replies)
    try:
        yield
    finally:
        WRITING_REPLIES.reset(token)


def _evalsha_calls(admin: redis.Redis) -> int:
    stats = admin.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))
