"""ChatService on both stores: atomic per conversation, duplicates dropped, keys pseudonymous."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from bot.conversation import Answer, Forget, Info, SetLanguage, Start, decode
from bot.service import ChatService, Delivery
from bot.storage import (
    CasResult,
    KeyMaker,
    MemoryStore,
    Snapshot,
    StateStore,
    random_first_version,
)
from tests.conftest import TODAY
from tests.redis_server import RedisServer, all_keys_with_ttl, store_on
from tests.service.race_worker import ANSWERS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    """Each store in turn; the Redis one on the private server."""
    if request.param == "memory":
        yield MemoryStore(ttl_seconds=600, first_version=random_first_version)
        return
    url = request.getfixturevalue("redis_url")
    redis_store = store_on(url, ttl_seconds=600, first_version=random_first_version)
    yield redis_store
    await redis_store.close()


class TestService:
    """The same behaviour on memory and on Redis."""

    async def test_answers_apply_once_under_concurrency(self, store: StateStore) -> None:
        """Fifty tasks press the same answer at once: it is applied exactly once, and every
        press is answered with the one screen it led to (a double press shows it again)."""
        service = ChatService(store=store, ttl_seconds=600)
        first = await service.handle(
            "k", Start(payload="en-self"), Delivery(update_id=1), today=TODAY
        )
        assert first.step == "q"
        state, _ = decode((await store.get("k")).data)
        assert state is not None
        turn = state.turn
        results = await asyncio.gather(
            *(
                ChatService(store=store, ttl_seconds=600).handle(
                    "k", Answer(turn, "sex", "male"), Delivery(update_id=100 + i), today=TODAY
                )
                for i in range(50)
            )
        )
        assert {r.replies for r in results} == {results[0].replies}
        assert results[0].replies[-1].parts[0].id == "How old are you?"  # type: ignore[union-attr]
        final, _ = decode((await store.get("k")).data)
        assert final is not None
        assert final.answers == {"sex": "male"}
        assert final.path == ("sex",)
        assert final.turn == turn + 1

    async def test_duplicate_update_is_dropped(self, store: StateStore) -> None:
        """A redelivered update changes nothing and produces no reply."""
        service = ChatService(store=store, ttl_seconds=600)
        await service.handle("k", Start(payload="en-self"), Delivery(update_id=1), today=TODAY)
        state, _ = decode((await store.get("k")).data)
        assert state is not None
        once = await service.handle(
            "k", Answer(state.turn, "sex", "male"), Delivery(update_id=2), today=TODAY
        )
        again = await ChatService(store=store, ttl_seconds=600).handle(
            "k", Answer(state.turn, "sex", "male"), Delivery(update_id=2), today=TODAY
        )
        assert once.replies
        assert not again.replies
        assert again.duplicate

    async def test_forget_deletes_the_conversation(self, store: StateStore) -> None:
        """After /forget the store holds nothing for the conversation."""
        service = ChatService(store=store, ttl_seconds=600)
        await service.handle(
            "k", Start(payload="en-self"), Delivery(update_id=1, message_id=7), today=TODAY
        )
        forgotten = await service.handle(
            "k", Forget(), Delivery(update_id=2, message_id=9), today=TODAY
        )
        assert forgotten.wipe
        assert forgotten.wipe_from == 7
        assert (await store.get("k")).data is None

    async def test_store_calls_per_update(self, store: StateStore) -> None:
        """A new person costs one call (no read first); a conversation this process does not
        know is still found, at the cost of a second call; a known one costs one."""
        counted = _Counting(store)
        service = ChatService(store=counted, ttl_seconds=600)
        await service.handle("k", Start(payload="uz-self"), Delivery(update_id=1), today=TODAY)
        assert counted.calls == ["compare_and_set"]
        state, _ = decode((await store.get("k")).data)
        assert state is not None

        counted.calls.clear()
        await service.handle(
            "k", Answer(state.turn, "sex", "male"), Delivery(update_id=2), today=TODAY
        )
        assert counted.calls == ["compare_and_set"]

        counted.calls.clear()  # a cached conversation, nothing changes: written again
        helped = await service.handle("k", Info("help"), Delivery(update_id=20), today=TODAY)
        again = await service.handle("k", Info("help"), Delivery(update_id=20), today=TODAY)
        assert counted.calls == ["compare_and_set", "compare_and_set"]
        assert helped.replies
        assert again.replies == helped.replies  # a redelivery is answered again
        assert not again.duplicate
        state, _ = decode((await store.get("k")).data)
        assert state is not None

        counted.calls.clear()
        other = ChatService(store=counted, ttl_seconds=600)  # another process, after a restart
        answered = await other.handle(
            "k",
            Answer(state.turn, "age_band", "18_to_65"),
            Delivery(update_id=3, hint="ru"),
            today=TODAY,
        )
        assert counted.calls == ["compare_and_set", "compare_and_set"]
        assert answered.lang == "uz"  # what is stored, not the app's language
        final, _ = decode((await store.get("k")).data)
        assert final is not None
        assert final.answers == {"sex": "male", "age_band": "18_to_65"}

        counted.calls.clear()
        helped = await ChatService(store=counted, ttl_seconds=600).handle(
            "k", Info("help"), Delivery(update_id=4, hint="ru"), today=TODAY
        )
        assert counted.calls == ["get"]  # a no-op: the guess is checked by reading
        assert helped.lang == "uz"


class _Counting:
    """A store that records which of its methods were called."""

    def __init__(self, inner: StateStore) -> None:
        self._inner = inner
        self.calls: list[str] = []

    async def get(self, key: str) -> Snapshot:
        self.calls.append("get")
        return await self._inner.get(key)

    async def compare_and_set(
        self,
        key: str,
        *,
        expected: int,
        data: bytes | None,
        update_id: int | None = None,
    ) -> CasResult:
        self.calls.append("compare_and_set")
        return await self._inner.compare_and_set(
            key, expected=expected, data=data, update_id=update_id
        )

    async def delete(self, key: str) -> None:
        self.calls.append("delete")
        await self._inner.delete(key)


class TestRedisOutage:
    """A stopped Redis gives an apology, and the service recovers by itself."""

    async def test_apology_then_recovery(self) -> None:
        """While Redis is down the person gets UNAVAILABLE; afterwards all works again."""
        server = RedisServer()
        server.start()
        store = store_on(server.url, ttl_seconds=600)
        service = ChatService(store=store, ttl_seconds=600)
        try:
            await service.handle("k", Start(payload="ru-self"), Delivery(update_id=1), today=TODAY)
            server.stop()
            down = await service.handle(
                "k", SetLanguage("tg"), Delivery(update_id=2, hint="tg"), today=TODAY
            )
            assert down.unavailable
            assert down.lang == "tg"
            server.restart()
            back = await service.handle(
                "k", Start(payload="az-self"), Delivery(update_id=3), today=TODAY
            )
            assert not back.unavailable
            assert back.lang == "az"
        finally:
            await store.close()
            server.stop()


@pytest.mark.redis
def test_two_processes_race_through_one_conversation(redis_url: str) -> None:
    """Two processes × 25 tasks answer the same conversation at once: the state stays whole.

    Every reply's buttons carry the turn of the state they were computed from; if an answer
    were lost or applied twice, two different questions would appear under one turn.
    """
    client = redis.Redis.from_url(redis_url)
    key = "race"
    asyncio.run(_seed(redis_url, key))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.service.race_worker", redis_url, key, str(w), "25"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in (1, 2)
    ]
    lines = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        lines += [json.loads(line) for line in out.splitlines()]
    assert len(lines) >= 50
    questions: dict[int, str] = {}
    for line in lines:
        for turn, field in line["pairs"]:
            assert questions.setdefault(turn, field) == field, (turn, field, questions[turn])
    raw = client.get(key)
    assert raw is not None
    state, _ = decode(raw.split(b"|", 2)[2])
    assert state is not None
    assert state.answers == {**ANSWERS, "documents": []}
    assert state.path == ("sex", "age", "citizenship", "application", "grounds", "documents")


async def _seed(url: str, key: str) -> None:
    store = store_on(url, ttl_seconds=600)
    await ChatService(store=store, ttl_seconds=600).handle(
        key, Start(payload="en-self"), Delivery(update_id=1), today=TODAY
    )
    await store.close()


@pytest.mark.redis
async def test_redis_keys_are_pseudonymous_have_ttl_and_vanish_after_forget(
    redis_url: str,
) -> None:
    """A conversation leaves one HMAC-named key with a TTL and no raw id; /forget empties it."""
    chat_id = 987654321
    keys = KeyMaker(b"test-secret", 424242)
    key = keys.for_chat(chat_id)
    store = store_on(redis_url, ttl_seconds=600)
    service = ChatService(store=store, ttl_seconds=600)
    steps = [
        ("sex", "male"),
        ("age_band", "18_to_65"),
        ("citizenship", "TJ"),
        ("application", "residence_permit"),
        ("grounds", "family"),
        ("documents", "none"),
    ]
    await service.handle(
        key, Start(payload="tg-self"), Delivery(update_id=1, message_id=5), today=TODAY
    )
    for i, (field, value) in enumerate(steps, start=2):
        state, _ = decode((await store.get(key)).data)
        assert state is not None
        await service.handle(
            key,
            Answer(state.turn, field, value),
            Delivery(update_id=i, message_id=5 + i),
            today=TODAY,
        )
    ttls = all_keys_with_ttl(redis_url)
    assert list(ttls) == [key]
    assert all(0 < ttl <= 600_000 for ttl in ttls.values())
    raw = redis.Redis.from_url(redis_url).get(key)
    assert raw is not None
    for secret_id in (str(chat_id), "424242"):
        assert secret_id not in key
        assert secret_id.encode() not in raw
    await service.handle(key, Forget(), Delivery(update_id=50), today=TODAY)
    assert all_keys_with_ttl(redis_url) == {}
    await store.close()
