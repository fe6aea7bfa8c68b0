"""A Sentinel failover in the middle of many conversations: none is lost or answered wrongly.

Forty people go through the interview at once, through `ChatService` on the bot's own
Sentinel client, while `SENTINEL FAILOVER` makes the replica the master. A person who gets
"not available" presses again (a new update, as Telegram would send). Every reply must be
the screen the same answers give on a store that never fails, and at the end every
conversation, read from the new master, holds each answer once.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest
import redis

from bot.conversation import Answer, Event, Start, decode, decode_button
from bot.service import ChatService, Delivery, Handled
from bot.storage import MemoryStore, StateStore, random_first_version
from bot.storage.base import decode_record
from tests.conftest import TODAY
from tests.redis_server import RedisSentinels, store_on
from tests.service.race_worker import ANSWERS

PEOPLE = 40
PAUSE = 0.05  # seconds a person takes between two presses
MAX_TRIES = 60  # presses of one button before a person gives up (none should)


def _asked(handled: Handled) -> tuple[int, str] | None:
    """The (turn, field) the screen asks, from its buttons; None at the end."""
    events = [decode_button(b.data) for r in handled.replies for row in r.buttons for b in row]
    pairs = {(e.turn, e.field) for e in events if isinstance(e, Answer)}
    assert len(pairs) <= 1, pairs
    return pairs.pop() if pairs else None


async def _interview(
    service: ChatService,
    key: str,
    ids: itertools.count[int],
    log: list[tuple[int, str] | None],
    seen: Callable[[], None] = lambda: None,
) -> int:
    """One person from /start to the review; returns how often they met "not available"."""
    retries = 0

    async def press(event: Event) -> Handled:
        nonlocal retries
        for _ in range(MAX_TRIES):
            # As the Telegram adapter calls it: a write that landed although its answer was
            # lost (redis-py sends it again after a dropped connection, and meets its own
            # update id) is answered with the screen it made.
            delivery = Delivery(update_id=next(ids), replay=True)
            handled = await service.handle(key, event, delivery, today=TODAY)
            if not handled.unavailable:
                return handled
            retries += 1
            await asyncio.sleep(0.1)
        raise AssertionError("the store stayed unavailable")

    handled = await press(Start(payload="en-self"))
    while True:
        asked = _asked(handled)
        log.append(asked)
        seen()
        if asked is None:
            return retries
        await asyncio.sleep(PAUSE)
        turn, field = asked
        handled = await press(Answer(turn, field, ANSWERS[field]))


async def _reference() -> list[tuple[int, str] | None]:
    """The screens the same answers give on a store that never fails."""
    log: list[tuple[int, str] | None] = []
    store: StateStore = MemoryStore(first_version=random_first_version)
    await _interview(ChatService(store=store, ttl_seconds=600), "k", itertools.count(1), log)
    return log


@pytest.mark.redis
async def test_a_sentinel_failover_loses_no_answer(redis_sentinel: RedisSentinels) -> None:
    expected = await _reference()
    assert len(expected) == len(ANSWERS) + 1
    redis_sentinel.flush()
    old_master = redis_sentinel.master_url()
    store = store_on("redis://", ttl_seconds=600, sentinels=redis_sentinel.addresses)
    service = ChatService(store=store, ttl_seconds=600)
    ids = itertools.count(1_000)
    logs: list[list[tuple[int, str] | None]] = [[] for _ in range(PEOPLE)]
    keys = [f"dcb:c:{{person-{n}}}" for n in range(PEOPLE)]

    midway = asyncio.Event()

    def seen() -> None:
        if sum(len(log) for log in logs) >= PEOPLE * len(expected) // 3:
            midway.set()

    async def failover_midway() -> None:
        await midway.wait()
        await asyncio.to_thread(redis_sentinel.failover)

    try:
        results = await asyncio.wait_for(
            asyncio.gather(
                failover_midway(),
                *(
                    _interview(service, key, ids, log, seen)
                    for key, log in zip(keys, logs, strict=True)
                ),
            ),
            timeout=60,
        )
    finally:
        await store.close()
    new_master = redis_sentinel.master_url()
    assert new_master != old_master
    for log in logs:
        assert log == expected  # every reply was the right next screen
    with redis.Redis.from_url(new_master) as admin:
        for key in keys:
            state, _ = decode(decode_record(admin.get(key)).data)
            assert state is not None
            assert state.answers == {**ANSWERS, "documents": []}
            assert state.turn == expected[-2][0] + 1  # each answer applied once
    print(f"presses met 'not available': {sum(results[1:])}")
