"""Contract tests run against both ``StateStore`` implementations (the Redis one on a
private redis-server, on a private 3-master Redis Cluster, and behind three private
Sentinels), plus backend-specific checks: TTL in Redis, outage and recovery, connection
settings, cross-process compare-and-set, record size, memory purging."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.storage import (
    CasResult,
    CasStatus,
    MemoryStore,
    RedisStore,
    Snapshot,
    StateStore,
    StoreUnavailable,
    random_first_version,
)
from bot.storage.base import ABSENT, RECENT_LIMIT, encode_record
from tests.redis_server import (
    RedisCluster,
    RedisSentinels,
    RedisServer,
    all_keys_with_ttl,
    store_on,
)

TTL = 100  # seconds; Redis tests age keys with PEXPIRE instead of sleeping
KEY = "dcb:c:{test-conversation}"
OTHER = "dcb:c:{other-conversation}"
REPO_ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Backend:
    """A store under test plus a way to make time pass for its keys."""

    kind: str
    store: StateStore
    clock: FakeClock | None = None
    #: A plain (synchronous) redis-py client on the same data, to look and to age keys.
    admin: Callable[[], Any] | None = None

    def age(self, key: str, seconds: float) -> None:
        """Let ``seconds`` pass for ``key`` (memory: for every key)."""
        if self.clock is not None:
            self.clock.now += seconds
            return
        assert self.admin is not None
        with self.admin() as client:
            left = int(client.pttl(key))
            assert left > 0, "aging a key without TTL"
            client.pexpire(key, left - int(seconds * 1000))  # <= 0 deletes the key


REDIS_KINDS = ["redis", "redis-cluster", "redis-sentinel"]


@pytest.fixture(
    params=["memory", *(pytest.param(kind, marks=pytest.mark.redis) for kind in REDIS_KINDS)]
)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    kind: str = request.param
    if kind == "memory":
        clock = FakeClock()
        yield Backend("memory", MemoryStore(ttl_seconds=TTL, clock=clock), clock=clock)
        return
    if kind == "redis":
        url: str = request.getfixturevalue("redis_url")
        store = store_on(url, ttl_seconds=TTL)
        admin: Callable[[], Any] = lambda: redis.Redis.from_url(url)  # noqa: E731
    elif kind == "redis-cluster":
        cluster: RedisCluster = request.getfixturevalue("redis_cluster")
        cluster.flush()
        store = store_on(cluster.url, ttl_seconds=TTL, cluster=True)
        admin = lambda: redis.RedisCluster.from_url(cluster.url)  # noqa: E731
    else:
        sentinels: RedisSentinels = request.getfixturevalue("redis_sentinel")
        sentinels.flush()
        store = store_on("redis://", ttl_seconds=TTL, sentinels=sentinels.addresses)
        admin = lambda: redis.Redis.from_url(sentinels.master_url())  # noqa: E731
    try:
        yield Backend(kind, store, admin=admin)
    finally:
        await store.close()


@pytest.fixture
def store(backend: Backend) -> StateStore:
    return backend.store


async def write(
    store: StateStore, data: bytes, *, key: str = KEY, uid: int | None = None
) -> Snapshot:
    """Write on top of whatever is stored; the write must succeed."""
    current = await store.get(key)
    result = await store.compare_and_set(key, expected=current.version, data=data, update_id=uid)
    assert result.status is CasStatus.OK
    return result.snapshot


class TestContract:
    async def test_is_a_state_store(self, store: StateStore) -> None:
        assert isinstance(store, StateStore)
        assert await store.ping() is True

    async def test_absent_key(self, store: StateStore) -> None:
        assert await store.get(KEY) == Snapshot(0, None, ())

    async def test_first_write_is_version_1(self, store: StateStore) -> None:
        result = await store.compare_and_set(KEY, expected=0, data=b"hello", update_id=7)
        assert result == CasResult(CasStatus.OK, Snapshot(1, b"hello", (7,)))
        assert await store.get(KEY) == result.snapshot

    async def test_versions_count_per_key(self, store: StateStore) -> None:
        for n in range(1, 4):
            assert (await write(store, b"x%d" % n)).version == n
        assert (await write(store, b"y", key=OTHER)).version == 1
        assert await store.get(KEY) == Snapshot(3, b"x3", ())

    async def test_conflict_returns_current_and_writes_nothing(self, store: StateStore) -> None:
        first = await write(store, b"first", uid=1)
        stale = await store.compare_and_set(KEY, expected=0, data=b"lost", update_id=2)
        assert stale == CasResult(CasStatus.CONFLICT, first)
        ahead = await store.compare_and_set(KEY, expected=5, data=b"lost", update_id=3)
        assert ahead == CasResult(CasStatus.CONFLICT, first)
        assert await store.get(KEY) == first

    async def test_conflict_on_absent_key_creates_nothing(self, store: StateStore) -> None:
        result = await store.compare_and_set(KEY, expected=2, data=b"lost", update_id=1)
        assert result == CasResult(CasStatus.CONFLICT, ABSENT)
        assert await store.get(KEY) == ABSENT

    async def test_duplicate_update_id(self, store: StateStore) -> None:
        first = await write(store, b"first", uid=10)
        again = await store.compare_and_set(KEY, expected=1, data=b"again", update_id=10)
        assert again == CasResult(CasStatus.DUPLICATE, first)
        # A duplicate is reported even with a stale version: it was applied, that's all.
        stale = await store.compare_and_set(KEY, expected=0, data=b"again", update_id=10)
        assert stale == CasResult(CasStatus.DUPLICATE, first)
        assert await store.get(KEY) == first

    async def test_the_greatest_update_ids_are_kept(self, store: StateStore) -> None:
        for uid in range(1, 7):
            last = await write(store, b"s%d" % uid, uid=uid)
        assert last == Snapshot(6, b"s6", (3, 4, 5, 6))
        assert await store.get(KEY) == last
        dup = await store.compare_and_set(KEY, expected=6, data=b"z", update_id=3)
        assert dup.status is CasStatus.DUPLICATE
        # Out of order: a newer id is kept, and the smallest goes, whatever its place.
        late = await store.compare_and_set(KEY, expected=6, data=b"z", update_id=10)
        assert late == CasResult(CasStatus.OK, Snapshot(7, b"z", (4, 5, 6, 10)))
        between = await store.compare_and_set(KEY, expected=7, data=b"y", update_id=8)
        assert between == CasResult(CasStatus.OK, Snapshot(8, b"y", (5, 6, 10, 8)))

    async def test_dedupe_covers_every_update_applied(self, store: StateStore) -> None:
        """Issue 13: at least the last 100 ids (or 10 minutes): here 150 updates, each
        delivered again afterwards, in any order, is recognised; the record stays small."""
        ids = [1_000_000 + 7 * n for n in range(150)]
        for uid in ids:
            await write(store, b"x", uid=uid)
        current = await store.get(KEY)
        assert current.version == 150
        assert len(current.recent) == RECENT_LIMIT
        for uid in reversed(ids):
            again = await store.compare_and_set(KEY, expected=150, data=b"y", update_id=uid)
            assert again == CasResult(CasStatus.DUPLICATE, current), uid
        fresh = await store.compare_and_set(KEY, expected=150, data=b"y", update_id=ids[-1] + 1)
        assert fresh.status is CasStatus.OK

    async def test_late_updates_are_applied_until_overtaken(self, store: StateStore) -> None:
        """Fewer ids than the limit: an update older than all of them is still applied (two
        updates of one chat raced); once the limit is kept, anything below is a duplicate."""
        await write(store, b"a", uid=50)
        assert (await write(store, b"b", uid=40)).recent == (50, 40)
        await write(store, b"c", uid=60)
        await write(store, b"d", uid=70)
        full = await store.get(KEY)
        assert full.recent == (50, 40, 60, 70)
        below = await store.compare_and_set(KEY, expected=4, data=b"e", update_id=39)
        assert below == CasResult(CasStatus.DUPLICATE, full)
        inside = await store.compare_and_set(KEY, expected=4, data=b"e", update_id=45)
        assert inside == CasResult(CasStatus.OK, Snapshot(5, b"e", (50, 60, 70, 45)))

    async def test_write_without_update_id_keeps_recent(self, store: StateStore) -> None:
        await write(store, b"a", uid=1)
        assert await write(store, b"b") == Snapshot(2, b"b", (1,))
        assert await store.get(KEY) == Snapshot(2, b"b", (1,))

    @pytest.mark.parametrize("uid", [0, 1, 35, 36, 2**31 - 1, 2**53 + 1, 10**30, -5])
    async def test_update_ids_round_trip(self, store: StateStore, uid: int) -> None:
        await write(store, b"a", uid=uid)
        assert (await store.get(KEY)).recent == (uid,)
        dup = await store.compare_and_set(KEY, expected=1, data=b"b", update_id=uid)
        assert dup.status is CasStatus.DUPLICATE
        # Ids are compared exactly, not as rounded floats.
        ok = await store.compare_and_set(KEY, expected=1, data=b"b", update_id=uid + 1)
        assert ok.status is CasStatus.OK

    @pytest.mark.parametrize(
        "payload",
        [
            b"",
            b"|",
            b"||",
            b"a|b|c",
            b"1|2|3",
            b",",
            b"\x00\xff\xfe|\x80",
            bytes(range(256)),
            "ру́сский тоҷикӣ o'zbek".encode(),
            b"x" * 65536,
        ],
        ids=lambda p: f"{len(p)}b",
    )
    async def test_payload_round_trips(self, store: StateStore, payload: bytes) -> None:
        written = await write(store, payload, uid=99)
        assert written == Snapshot(1, payload, (99,))
        assert await store.get(KEY) == written

    async def test_bytearray_and_memoryview_payloads(self, store: StateStore) -> None:
        # Not in the typed contract, but accepted and copied so later mutation is harmless.
        buffer = bytearray(b"ab|c")
        result = await store.compare_and_set(KEY, expected=0, data=buffer)  # type: ignore[arg-type]
        buffer[0:2] = b"zz"
        assert result.snapshot.data == b"ab|c"
        assert (await store.get(KEY)).data == b"ab|c"
        view = memoryview(b"de")
        await store.compare_and_set(KEY, expected=1, data=view)  # type: ignore[arg-type]
        assert await store.get(KEY) == Snapshot(2, b"de", ())

    async def test_invalid_arguments(self, store: StateStore) -> None:
        with pytest.raises(ValueError, match="expected"):
            await store.compare_and_set(KEY, expected=-1, data=b"x")
        with pytest.raises(TypeError):
            await store.compare_and_set(KEY, expected=0, data="text")  # type: ignore[arg-type]
        assert await store.get(KEY) == ABSENT

    async def test_data_none_deletes(self, store: StateStore) -> None:
        await write(store, b"a", uid=1)
        await write(store, b"b", uid=2)
        result = await store.compare_and_set(KEY, expected=2, data=None, update_id=3)
        assert result == CasResult(CasStatus.OK, ABSENT)
        assert await store.get(KEY) == ABSENT
        # The dedupe list went with the record (accepted by design): uid 2 is new again.
        again = await store.compare_and_set(KEY, expected=0, data=b"c", update_id=2)
        assert again == CasResult(CasStatus.OK, Snapshot(1, b"c", (2,)))

    async def test_data_none_with_stale_version_deletes_nothing(self, store: StateStore) -> None:
        current = await write(store, b"a", uid=1)
        result = await store.compare_and_set(KEY, expected=0, data=None)
        assert result == CasResult(CasStatus.CONFLICT, current)
        dup = await store.compare_and_set(KEY, expected=1, data=None, update_id=1)
        assert dup == CasResult(CasStatus.DUPLICATE, current)
        assert await store.get(KEY) == current

    async def test_data_none_on_absent_key(self, store: StateStore) -> None:
        result = await store.compare_and_set(KEY, expected=0, data=None, update_id=1)
        assert result == CasResult(CasStatus.OK, ABSENT)
        assert await store.get(KEY) == ABSENT

    async def test_delete(self, store: StateStore) -> None:
        await write(store, b"a")
        await write(store, b"b", key=OTHER)
        await store.delete(KEY)
        assert await store.get(KEY) == ABSENT
        assert await store.get(OTHER) == Snapshot(1, b"b", ())
        await store.delete(KEY)  # deleting an absent key is fine
        assert (await write(store, b"c")).version == 1

    async def test_entry_expires_after_ttl(self, backend: Backend) -> None:
        store = backend.store
        await write(store, b"a", uid=1)
        backend.age(KEY, TTL - 1)
        assert (await store.get(KEY)).data == b"a"
        backend.age(KEY, 2)
        assert await store.get(KEY) == ABSENT
        # An expired record is absent for compare-and-set too, dedupe list included.
        result = await store.compare_and_set(KEY, expected=0, data=b"b", update_id=1)
        assert result == CasResult(CasStatus.OK, Snapshot(1, b"b", (1,)))

    async def test_every_write_resets_the_ttl(self, backend: Backend) -> None:
        store = backend.store
        await write(store, b"a")
        backend.age(KEY, 60)
        await write(store, b"b")
        backend.age(KEY, 60)  # 120 s after the first write, 60 s after the second
        assert (await store.get(KEY)).data == b"b"
        backend.age(KEY, 41)
        assert await store.get(KEY) == ABSENT

    async def test_get_does_not_extend_the_ttl(self, backend: Backend) -> None:
        store = backend.store
        await write(store, b"a")
        backend.age(KEY, 60)
        assert (await store.get(KEY)).data == b"a"
        backend.age(KEY, 41)
        assert await store.get(KEY) == ABSENT

    async def test_rejected_writes_do_not_extend_the_ttl(self, backend: Backend) -> None:
        store = backend.store
        await write(store, b"a", uid=1)
        backend.age(KEY, 60)
        await store.compare_and_set(KEY, expected=0, data=b"x")  # conflict
        await store.compare_and_set(KEY, expected=1, data=b"x", update_id=1)  # duplicate
        backend.age(KEY, 41)
        assert await store.get(KEY) == ABSENT

    async def test_concurrent_increments_in_one_process(self, store: StateStore) -> None:
        await write(store, b"0")
        conflicts = overtaken = 0

        async def increment(uid: int) -> None:
            nonlocal conflicts, overtaken
            snap = await store.get(KEY)
            while True:
                await asyncio.sleep(0)  # let the other tasks read the same version
                assert snap.data is not None
                result = await store.compare_and_set(
                    KEY, expected=snap.version, data=b"%d" % (int(snap.data) + 1), update_id=uid
                )
                if result.status is CasStatus.OK:
                    return
                if result.status is CasStatus.DUPLICATE:
                    # Overtaken by RECENT_LIMIT later updates: taken as applied, dropped.
                    assert uid < min(result.snapshot.recent)
                    overtaken += 1
                    return
                assert result.status is CasStatus.CONFLICT
                conflicts += 1
                snap = result.snapshot

        await asyncio.gather(*(increment(uid) for uid in range(100, 150)))
        final = await store.get(KEY)
        applied = 50 - overtaken
        assert (final.version, final.data) == (1 + applied, b"%d" % applied)  # none lost
        assert conflicts > 0
        assert applied > 0


# --- Redis specifics --------------------------------------------------------------------


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisStore]:
    store = store_on(redis_url, ttl_seconds=TTL)
    try:
        yield store
    finally:
        await store.close()


def _raw(url: str, key: str) -> bytes | None:
    with redis.Redis.from_url(url) as client:
        value = client.get(key)
        return None if value is None else bytes(value)


def _assert_fresh_ttl(url: str) -> None:
    keys = all_keys_with_ttl(url)
    assert keys, "no keys"
    for ttl_ms in keys.values():
        assert TTL * 1000 - 2000 < ttl_ms <= TTL * 1000


@pytest.mark.redis
async def test_redis_one_key_with_ttl_after_every_write(
    redis_store: RedisStore, redis_url: str
) -> None:
    await write(redis_store, b"a", uid=1)
    _assert_fresh_ttl(redis_url)
    assert set(all_keys_with_ttl(redis_url)) == {KEY}
    with redis.Redis.from_url(redis_url) as client:
        client.pexpire(KEY, 5000)
    await redis_store.get(KEY)
    assert 0 < all_keys_with_ttl(redis_url)[KEY] <= 5000
    await write(redis_store, b"b", uid=2)
    _assert_fresh_ttl(redis_url)
    assert set(all_keys_with_ttl(redis_url)) == {KEY}


@pytest.mark.redis
async def test_redis_record_layout_is_the_shared_codec(
    redis_store: RedisStore, redis_url: str
) -> None:
    for uid in (100_000_001, 100_000_002, 100_000_003, 100_000_004, 100_000_005):
        snap = await write(redis_store, b'{"s":"ask_country","l":"uz"}', uid=uid)
    raw = _raw(redis_url, KEY)
    assert raw == encode_record(snap.version, snap.recent, b'{"s":"ask_country","l":"uz"}')
    assert raw == b'5|1njchu,1njchv,1njchw,1njchx|{"s":"ask_country","l":"uz"}'
    assert len(raw) < 80


@pytest.mark.redis
async def test_redis_malformed_record_is_an_error(redis_store: RedisStore, redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as client:
        client.set(KEY, b"garbage")
    with pytest.raises(ValueError, match="malformed"):
        await redis_store.get(KEY)
    with pytest.raises(ValueError, match="malformed"):
        await redis_store.compare_and_set(KEY, expected=0, data=b"x")


@pytest.mark.redis
async def test_redis_concurrent_callers_each_get_their_own_reply(redis_url: str) -> None:
    store = store_on(redis_url, ttl_seconds=TTL)
    try:
        keys = [f"k{i}" for i in range(200)]
        await asyncio.gather(*(write(store, k.encode(), key=k) for k in keys))
        snaps = await asyncio.gather(*(store.get(k) for k in keys))
        assert [s.data for s in snaps] == [k.encode() for k in keys]
    finally:
        await store.close()


@pytest.mark.redis
async def test_redis_closed_port_is_unavailable() -> None:
    with RedisServer() as server:
        url = server.url  # a port that was just free and now is closed again
    store = store_on(url, ttl_seconds=TTL)
    started = time.monotonic()
    try:
        assert await store.ping() is False
        with pytest.raises(StoreUnavailable):
            await store.get(KEY)
    finally:
        await store.close()
    assert time.monotonic() - started < 3


@pytest.mark.redis
async def test_redis_outage_and_recovery_with_the_same_store() -> None:
    server = RedisServer()
    server.start()
    store = store_on(server.url, ttl_seconds=TTL)
    try:
        await write(store, b"before", uid=1)
        server.stop()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.get(KEY)
        with pytest.raises(StoreUnavailable):
            await store.compare_and_set(KEY, expected=1, data=b"during", update_id=2)
        with pytest.raises(StoreUnavailable):
            await store.delete(KEY)
        assert await store.ping() is False
        assert time.monotonic() - started < 3

        server.start()  # same port, empty: no persistence
        assert await store.ping() is True
        assert await store.get(KEY) == ABSENT
        result = await store.compare_and_set(KEY, expected=0, data=b"after", update_id=2)
        assert result == CasResult(CasStatus.OK, Snapshot(1, b"after", (2,)))
    finally:
        await store.close()
        server.stop()


@pytest.mark.redis
async def test_redis_restart_between_calls_is_not_an_error() -> None:
    # Pooled connections go stale across a restart; the next call must reconnect rather
    # than fail, and the Lua script must be reloaded transparently (NOSCRIPT).
    with RedisServer() as server:
        store = store_on(server.url, ttl_seconds=TTL)
        try:
            await asyncio.gather(*(write(store, b"x", key=f"k{i}") for i in range(5)))
            server.restart()
            result = await store.compare_and_set(KEY, expected=0, data=b"y")
            assert result.status is CasStatus.OK
            server.restart()
            assert await store.get(KEY) == ABSENT
        finally:
            await store.close()


_WORKER = """
import asyncio, json, sys
from bot.storage import CasStatus
from tests.redis_server import store_on

async def main(url, key, proc, tasks):
    store = store_on(url, ttl_seconds=600)
    assert await store.ping()
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the other process
    conflicts = 0

    async def increment(uid):
        nonlocal conflicts
        snap = await store.get(key)
        while True:
            result = await store.compare_and_set(
                key, expected=snap.version, data=b"%d" % (int(snap.data) + 1), update_id=uid
            )
            if result.status is CasStatus.OK:
                return
            if result.status is CasStatus.DUPLICATE:  # overtaken by later ids: dropped
                dropped.append(uid)
                return
            if result.status is not CasStatus.CONFLICT:
                raise SystemExit(f"unexpected {result.status}")
            conflicts += 1
            snap = result.snapshot

    dropped = []
    await asyncio.gather(*(increment(2 * i + proc) for i in range(tasks)))
    await store.close()
    print(json.dumps({"conflicts": conflicts, "dropped": len(dropped)}), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
"""


@pytest.mark.redis
def test_redis_compare_and_set_across_processes(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as client:
        client.set(KEY, encode_record(1, (), b"0"), px=TTL * 1000)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, redis_url, KEY, str(n), "25"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO_ROOT,
            env=env,
        )
        for n in (1, 2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line == b"ready\n", proc.communicate(timeout=10)
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=30) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    conflicts = dropped = 0
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        conflicts += json.loads(out)["conflicts"]
        dropped += json.loads(out)["dropped"]
    assert conflicts > 0  # the increments really raced
    final = _raw(redis_url, KEY)
    assert final is not None
    applied = 50 - dropped  # none lost: every increment is in, or was overtaken
    assert final.split(b"|")[0] == b"%d" % (1 + applied)
    assert final.split(b"|")[2] == b"%d" % applied
    assert applied > 0


# --- Memory specifics -------------------------------------------------------------------


async def test_memory_purges_expired_entries_on_write() -> None:
    clock = FakeClock()
    store = MemoryStore(ttl_seconds=TTL, clock=clock)
    for i in range(10):
        await write(store, b"x", key=f"k{i}")
        clock.now += 1
    clock.now += TTL - 5  # k0..k5 are expired, k6..k9 are not
    assert await store.get("k0") == ABSENT  # expired entries are invisible at once...
    await write(store, b"y", key="new")  # ...and dropped in bulk by the next write
    assert len(store) == 5
    assert [await store.get(f"k{i}") != ABSENT for i in range(6, 10)] == [True] * 4


async def test_memory_store_defaults_and_validation() -> None:
    store = MemoryStore()
    assert await store.ping() is True
    await write(store, b"a")
    await store.close()
    with pytest.raises(ValueError, match="ttl"):
        MemoryStore(ttl_seconds=0)


class TestFirstVersion:
    """The version a new conversation starts at can be drawn at random."""

    @pytest.mark.parametrize("kind", ["memory", "redis"])
    async def test_random_first_version_then_counts_up(
        self, kind: str, request: pytest.FixtureRequest
    ) -> None:
        """A recreated conversation does not reuse the versions of the deleted one."""

        if kind == "memory":
            store: StateStore = MemoryStore(ttl_seconds=60, first_version=random_first_version)
        else:
            url = request.getfixturevalue("redis_url")
            store = store_on(url, ttl_seconds=60, first_version=random_first_version)
        try:
            first = await store.compare_and_set("k", expected=0, data=b"a")
            second = await store.compare_and_set("k", expected=first.snapshot.version, data=b"b")
            assert second.snapshot.version == first.snapshot.version + 1
            await store.delete("k")
            again = await store.compare_and_set("k", expected=0, data=b"c")
            assert again.status is CasStatus.OK
            assert again.snapshot.version not in {first.snapshot.version, second.snapshot.version}
        finally:
            await store.close()
