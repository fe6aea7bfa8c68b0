"""The throttle's shared pace: every new message to a private chat books its moment in the
chat's pace across processes (`pace.RedisPace`, on a real Redis), right before it goes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from telegram.error import NetworkError, RetryAfter

from bot.adapters.telegram.pace import (
    PACE_PREFIX,
    PACE_SCRIPT,
    BookPaceWithWrite,
    RedisPace,
    book_pace_with_write,
)
from bot.adapters.telegram.throttle import Throttle
from bot.conversation import Reply
from bot.service import WRITING_REPLIES
from bot.storage.redis import CAS_SCRIPT
from bot.storage import CasResult, CasStatus, KeyMaker, Snapshot, StoreUnavailable
from tests.redis_server import RedisServer, all_keys_with_ttl, redis_client_for, store_on


class _Pace:
    """A shared pace that is always free, counting its bookings."""

    def __init__(self) -> None:
        self.books: list[int] = []

    async def book(self, chat_id: int, interval: float) -> float:
        self.books.append(chat_id)
        return 0.0

    async def forget(self, chat_id: int) -> None:
        """Nothing kept."""


async def _sent(*_args: Any, **_kwargs: Any) -> bool:
    return True


async def _send(throttle: Throttle, chat: int, endpoint: str = "sendMessage") -> None:
    await throttle.process_request(_sent, (), {}, endpoint, {"chat_id": chat}, None)


async def test_every_new_message_to_a_private_chat_books_the_shared_pace() -> None:
    pace = _Pace()
    throttle = Throttle(per_chat_interval=0.02)
    throttle.share(pace)
    await asyncio.gather(_send(throttle, 5), _send(throttle, 5), _send(throttle, 6))
    await _send(throttle, 5, "editMessageText")  # an edit is no new message
    await _send(throttle, -100)  # groups: no pace key
    assert sorted(pace.books) == [5, 5, 6]


KEYS = KeyMaker(b"pace test secret", 42, prefix=PACE_PREFIX)


@pytest.mark.redis
async def test_redis_pace_books_once_per_interval(redis_url: str) -> None:
    client = redis_client_for(redis_url)
    pace = RedisPace(client, KEYS)
    try:
        assert await pace.book(7, 1.0) == 0.0
        busy = await pace.book(7, 1.0)
        assert 0.9 < busy <= 1.0  # busy: the seconds until it is free, nothing booked
        assert await pace.book(8, 1.0) == 0.0  # another chat, its own pace
        keys = all_keys_with_ttl(redis_url)
        assert set(keys) == {KEYS.for_chat(7), KEYS.for_chat(8)}
        assert all(0 < ttl <= 1000 for ttl in keys.values())
        await pace.forget(7)
        assert await pace.book(7, 0.2) == 0.0
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_throttle_goes_on_alone_when_redis_is_down() -> None:
    """No Redis: the pace says unavailable, and the throttle keeps this process's pace."""
    with RedisServer() as server:
        url = server.url  # a port that was free and is closed again
    client = redis_client_for(url)
    pace = RedisPace(client, KEYS)
    try:
        with pytest.raises(StoreUnavailable):
            await pace.book(7, 1.0)
        throttle = Throttle(per_chat_interval=0.01)
        throttle.share(pace)
        await _send(throttle, 7)
    finally:
        await client.aclose()


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
    paced = BookPaceWithWrite(store)
    pace = RedisPace(store.client, KEYS)
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
        assert await pace.book(7, 1.1) == 0.0  # booked with the write: no round trip
        assert _evalsha_calls(admin) == calls
        assert await pace.book(7, 1.1) > 0.9  # the next one asks Redis, and waits
        assert _evalsha_calls(admin) == calls + 1
        with book_pace_with_write(pressed=True), _writing(Reply(("edit",), edit=True)):
            await paced.compare_and_set(key, expected=2, data=b"c", update_id=3)  # edits only
        assert await pace.book(7, 1.1) > 0.9
        with book_pace_with_write(), _writing(Reply(("typed",))):  # the pace is busy
            await paced.compare_and_set(key, expected=3, data=b"d", update_id=4)
        assert await pace.book(7, 1.1) > 0.9
    await paced.close()


@pytest.mark.redis
@pytest.mark.parametrize("cached", ["cas", "pace"])
async def test_a_paced_write_after_half_a_script_flush_runs_each_script_once(
    redis_url: str, cached: str
) -> None:
    """When Redis knows one of the two scripts (another process loaded it after a restart),
    only the other is sent again: the write lands once and is not answered DUPLICATE."""
    store = store_on(redis_url, ttl_seconds=600)
    paced = BookPaceWithWrite(store)
    key = KeyMaker(b"pace test secret", 42).for_chat(8)
    with redis.Redis.from_url(redis_url) as admin:
        admin.delete(key, KEYS.for_chat(8))
        admin.script_flush()
        admin.script_load(CAS_SCRIPT if cached == "cas" else PACE_SCRIPT)
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
