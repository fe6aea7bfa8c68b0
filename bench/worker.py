"""One benchmark run of the real bot, in its own process (`python -m bench.worker`).

The bot is what `decree-bot` runs: `build_parts` (RedisStore, catalogs, renderer, service),
`build_application` and `prepare` from `bot.adapters.telegram.app`. Only the Bot API's HTTP
client is replaced (`bench.fakeapi`), and Telegram's pacing (`Throttle`, 30 messages/s
overall) is given a clock that never makes a message wait: it models Telegram's limits, not
our cost. Every update is a raw JSON body fed through
`application.process_update(Update.de_json(json.loads(body), bot))`.

Modes:
  python -m bench.worker --redis URL [--users N] [--profile FILE]   one run, one JSON line
  python -m bench.worker --redis URL --first-update                 cold start to 1st update
Only keys this process created are deleted; the database is never flushed.
"""

# The bot (and telegram, redis, pydantic) is imported inside functions on purpose: the cold
# start (`--first-update`) times those imports from process start.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

__all__ = ["main"]

KEY_SECRET = "bench-key-secret-bench-key-secret"
SESSION_TTL = 1800
CONC = 64  # max in-flight updates in the concurrent pass (the bot's CONCURRENT_UPDATES)
PROBE_USERS = 20_000
MEMORY_STEPS = 4  # the memory probe stops every conversation after this many steps (or one
# before its end), so all are in flight, waiting for an answer


def _rss_now_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _pct(sorted_vals: list[int], p: float) -> float:
    i = min(len(sorted_vals) - 1, max(0, round(p / 100 * (len(sorted_vals) - 1))))
    return sorted_vals[i] / 1e3


class RoundTrips:
    """Counts the writes to the bot's own Redis connections (redis-py sends each command,
    or each pipeline, in one write: one write is one round trip). The flood news' PING on
    its subscription (every 2 s, its answer read by that task alone) is no update's round
    trip: counted apart, as `heartbeats`."""

    count = 0
    heartbeats = 0

    @classmethod
    def install(cls, client: Any) -> None:
        """Count on `client`'s connections from now on (the bench's own are not counted)."""
        from bot.adapters.telegram.fleet_news import TASK_NAME  # after set-up (its import time)

        pool = client.connection_pool
        base = pool.connection_class

        class Counted(base):  # type: ignore[misc, valid-type]
            async def send_packed_command(self, command: Any, check_health: bool = True) -> Any:
                task = asyncio.current_task()
                if task is not None and task.get_name() == TASK_NAME:
                    cls.heartbeats += 1
                else:
                    cls.count += 1
                return await super().send_packed_command(command, check_health)

        pool.connection_class = Counted


class Bench:
    """The running bot plus the fake API and the people talking to it."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.errors: list[str] = []
        self.next_update_id = 1
        self.keys_made: set[str] = set()
        #: what each update of the current pass was ("press nav:share", "start", ...)
        self.labels: list[str] = []
        #: Redis round trips of each update of the current sequential pass
        self.trips: list[int] = []

    async def setup(self) -> dict[str, float]:
        t0 = time.perf_counter()
        from pydantic import SecretStr
        from telegram import Update

        from bench.fakeapi import FakeApi, FakeRequest
        from bot.adapters.telegram.app import build_application, prepare
        from bot.compose import build_parts
        from bot.config import Settings

        t1 = time.perf_counter()
        settings = Settings(
            token=SecretStr(_token()),
            redis_url=self.redis_url,
            key_secret=SecretStr(KEY_SECRET),
            session_ttl=SESSION_TTL,
            _env_file=None,  # type: ignore[call-arg]
        )
        self.parts = build_parts(settings, warn_memory=False)
        RoundTrips.install(self.parts.store.client)  # before any connection is made
        self.app = app = build_application(self.parts)
        self.api = FakeApi()
        # The HTTP client is the only thing replaced (ExtBot keeps (get_updates, other)).
        app.bot._request = (FakeRequest(self.api), FakeRequest(self.api))  # type: ignore[attr-defined]
        t2 = time.perf_counter()
        await app.initialize()
        await prepare(app, self.parts, key_secret=KEY_SECRET.encode())
        self.pace = _no_waiting(app.bot.rate_limiter)

        async def count_error(update: object, context: Any) -> None:
            self.errors.append(type(context.error).__name__)

        app.add_error_handler(count_error)
        t3 = time.perf_counter()
        from bot.storage import KeyMaker

        self.keys = KeyMaker(KEY_SECRET.encode(), app.bot.id)
        bot, loads, de_json, process = app.bot, json.loads, Update.de_json, app.process_update

        async def handle(raw: bytes) -> None:
            await process(de_json(loads(raw), bot))

        self.handle: Callable[[bytes], Awaitable[None]] = handle
        return {"import_s": t1 - t0, "build_s": t2 - t1, "initialize_prepare_s": t3 - t2}

    def pace_calls(self) -> int:
        return self.pace.calls if self.pace is not None else 0

    async def teardown(self) -> None:
        await self.cleanup()
        await self.app.shutdown()
        await self.parts.store.close()

    # --- redis helpers ---------------------------------------------------------------------

    def client(self) -> Any:
        import redis.asyncio as aioredis

        return aioredis.Redis.from_url(self.redis_url)

    async def cleanup(self) -> None:
        """Delete exactly the keys this run made."""
        if not self.keys_made:
            return
        r = self.client()
        keys = list(self.keys_made)
        for i in range(0, len(keys), 1000):
            await r.delete(*keys[i : i + 1000])
        self.keys_made.clear()
        await r.aclose()

    # --- passes ----------------------------------------------------------------------------

    def people(self, n: int, first_uid: int) -> list[Any]:
        from bench.workload import make_people

        people = make_people(n, first_uid)
        self.keys_made.update(self.keys.for_chat(p.uid) for p in people)
        return people

    def wave(self, people: list[Any], k: int, stop: Callable[[Any], int] | None) -> list[bytes]:
        out = []
        for p in people:
            if stop is not None and k >= stop(p):
                continue
            raw = p.update(k, self.next_update_id, self.api)
            if raw is not None:
                self.next_update_id += 1
                out.append(raw)
                self.labels.append(p.label(k))
        return out

    async def run_pass(
        self,
        people: list[Any],
        *,
        concurrent: bool = False,
        stop: Callable[[Any], int] | None = None,
        profiler: Any = None,
    ) -> tuple[float, list[int], int]:
        """Play everyone's conversation; returns (handling seconds, latencies ns, updates)."""
        handle, pc = self.handle, time.perf_counter_ns
        lats: list[int] = []
        total_ns = 0
        n = 0
        sem = asyncio.Semaphore(CONC)

        async def one(raw: bytes) -> None:
            async with sem:
                await handle(raw)

        waves = max(len(p.steps) for p in people)
        self.labels = []
        self.trips = []
        trips = self.trips
        for k in range(waves):
            wave = self.wave(people, k, stop)  # built from the replies of the previous wave
            if not wave:
                continue
            n += len(wave)
            if profiler is not None:
                profiler.enable()
            t0 = pc()
            if concurrent:
                await asyncio.gather(*(one(raw) for raw in wave))
            else:
                for raw in wave:
                    r = RoundTrips.count
                    s = pc()
                    await handle(raw)
                    lats.append(pc() - s)
                    trips.append(RoundTrips.count - r)
            total_ns += pc() - t0
            if profiler is not None:
                profiler.disable()
        return total_ns / 1e9, lats, n

    async def check(self, people: list[Any]) -> dict[str, int]:
        """Every person reached their persona's outcome, with no errors anywhere."""
        from bot.conversation import decode, facts_of, unknown_of
        from rules.possibilities import possibilities

        failed = [f"{p.persona.name}/{p.lang}: {p.failed}" for p in people if p.failed]
        outcomes: dict[str, int] = {}
        today = date.today()
        for p in people:
            snap = await self.parts.store.get(self.keys.for_chat(p.uid))
            state, _ = decode(snap.data)
            if state is None:
                failed.append(f"{p.persona.name}/{p.lang}: no state")
                continue
            # As the bot judges it: "I don't know" answers branch (as in test_golden.py).
            found = possibilities(facts_of(state), unknown_of(state), on=today)
            got = found.finding.outcome.value
            outcomes[got] = outcomes.get(got, 0) + 1
            if got != p.persona.outcome or state.step.value != "result":
                failed.append(f"{p.persona.name}/{p.lang}: {got} at {state.step.value}")
        if failed or self.errors:
            raise SystemExit(f"workload failed: {failed[:5]} errors={self.errors[:5]}")
        return outcomes

    async def used_memory(self, r: Any) -> int:
        await asyncio.sleep(0.3)  # let clientsCron settle the client buffers
        info = await r.info("memory")
        return int(info["used_memory"]) - int(info.get("mem_clients_normal", 0))

    async def memory_probe(self, n_users: int, first_uid: int) -> dict[str, Any]:
        """Redis bytes per conversation in flight (like performance.md): `used_memory` delta
        over many people mid-conversation, and a scaled probe replaying their exact records
        and TTLs for 20,000 synthetic chats."""
        r = self.client()
        m0 = await self.used_memory(r)
        people = self.people(n_users, first_uid)
        await self.run_pass(people, stop=lambda p: min(MEMORY_STEPS, len(p.steps) - 1))
        m1 = await self.used_memory(r)
        keys = [self.keys.for_chat(p.uid) for p in people]
        values = [await r.get(k) for k in keys]
        pttls = [await r.pttl(k) for k in keys]
        usage = [await r.memory_usage(k, samples=0) for k in keys]
        if any(v is None for v in values):
            raise SystemExit("memory probe: a conversation has no record")
        await r.delete(*keys)
        p0 = await self.used_memory(r)

        def synthetic(start: int) -> list[str]:
            ids = range(first_uid + 10_000_000 + start, first_uid + 10_000_000 + start + 1000)
            return [self.keys.for_chat(i) for i in ids]

        for start in range(0, PROBE_USERS, 1000):
            async with r.pipeline(transaction=False) as pipe:
                for i, key in enumerate(synthetic(start), start):
                    pipe.set(key, values[i % len(values)], px=pttls[i % len(pttls)])
                await pipe.execute()
        p1 = await self.used_memory(r)
        for start in range(0, PROBE_USERS, 1000):
            await r.delete(*synthetic(start))
        await r.aclose()
        lengths = sorted(len(v) for v in values)
        return {
            "users": n_users,
            "used_memory_delta_per_user": (m1 - m0) / n_users,
            "scaled_probe_bytes_per_user": (p1 - p0) / PROBE_USERS,
            "memory_usage_per_key_median": statistics.median(usage),
            "record_bytes_median": statistics.median(lengths),
            "record_bytes_max": lengths[-1],
            "key_bytes": len(keys[0]),
            "sample_record": values[len(values) // 2].decode("utf-8", "replace"),
        }


def _is_answer(label: str) -> bool:
    """A press of a question's button, or typed text ("type"): not navigation, commands,
    the language or mode pickers."""
    if label == "type":
        return True
    return label.startswith("press ") and label[6:] not in {"lang", "mode"} and ":" not in label


class _PaceWithoutWaiting:
    """The throttle's fleet budget (`fleet.RedisFleet`), still booked in Redis (its cost is
    kept), but never waited for: a booking always answers "free now"."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls = 0

    async def book(self, *args: Any) -> Any:
        from bot.adapters.telegram.booking import Booked

        before = RoundTrips.count
        await self._inner.book(*args)
        self.calls += RoundTrips.count - before  # none when booked with the write
        return Booked(0.0)

    async def __call__(self, *args: Any) -> float:  # a pace given as a plain function
        self.calls += 1
        await self._inner(*args)
        return 0.0

    def __getattr__(self, name: str) -> Any:  # forget(), ...
        return getattr(self._inner, name)


def _no_waiting(throttle: Any) -> _PaceWithoutWaiting | None:
    """Telegram's pacing never makes a message wait here, but keeps its cost.

    People in the bench answer far faster than humans, so the ~1 message/s per chat pace
    would turn the run into sleeps. The throttle's clock jumps ahead on every reading (its
    own bookkeeping still runs), and the shared pace across processes (a Redis script per
    new message) still makes its round trip, but its answer is not waited for.
    """
    waits = getattr(throttle, "waits", None)
    if waits is not None:
        clock = iter(range(10**12, 10**18, 10**6))  # each reading: a million seconds later
        waits.clock = clock.__next__
    shared = getattr(throttle, "_fleet", None)
    if shared is None:
        return None
    throttle._fleet = pace = _PaceWithoutWaiting(shared)
    return pace


def _token() -> str:
    from bench.fakeapi import TOKEN

    return TOKEN


async def _server_commands(r: Any) -> tuple[int, dict[str, int]]:
    stats = await r.info("commandstats")
    calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    return (await r.info("stats"))["total_commands_processed"], calls


async def run(redis_url: str, n_users: int, profile: str | None) -> dict[str, Any]:
    bench = Bench(redis_url)
    setup = await bench.setup()
    out: dict[str, Any] = {"setup": setup, "rss_after_setup_mib": _rss_now_mib()}
    uid = 700_000_000

    # warm-up + validation: everyone reaches their outcome, nothing raised
    people = bench.people(n_users, uid)
    _, _, n_warm = await bench.run_pass(people)
    out["outcomes"] = await bench.check(people)
    out["updates_per_pass"] = n_warm
    out["rss_after_warmup_mib"] = _rss_now_mib()
    bench.api.chats.clear()

    # sequential pass
    r = bench.client()
    people = bench.people(n_users, uid + 1_000_000)
    calls0, rt0, pace0 = bench.api.total_calls(), RoundTrips.count, bench.pace_calls()
    beats0 = RoundTrips.heartbeats
    c0, s0 = await _server_commands(r)
    profiler = None
    if profile:
        profiler = cProfile.Profile()
    gc.collect()
    cpu0, wall0, load0 = time.process_time(), time.perf_counter(), os.getloadavg()[0]
    secs, lats, n = await bench.run_pass(people, profiler=profiler)
    # noise indicators: the machine's load, and how much of the pass this process was on a CPU
    # (the rest is waiting for Redis, or for a CPU another process holds)
    out["seq_loadavg_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    out["seq_cpu_share"] = round((time.process_time() - cpu0) / (time.perf_counter() - wall0), 3)
    c1, s1 = await _server_commands(r)
    rt1 = RoundTrips.count
    out["redis_flood_news_pings"] = RoundTrips.heartbeats - beats0  # in the pass, not per update
    await bench.check(people)
    slowest = sorted(range(n), key=lats.__getitem__)[-max(1, n // 100) :]
    slow: dict[str, int] = {}
    for i in slowest:
        slow[bench.labels[i]] = slow.get(bench.labels[i], 0) + 1
    lats.sort()
    per_cmd = {k: (v - s0.get(k, 0)) / n for k, v in s1.items() if v - s0.get(k, 0)}
    answers = [t for t, label in zip(bench.trips, bench.labels, strict=True) if _is_answer(label)]
    out.update(
        updates=n,
        updates_per_s=n / secs,
        p50_us=_pct(lats, 50),
        p99_us=_pct(lats, 99),
        mean_us=statistics.fmean(lats) / 1e3,
        max_us=lats[-1] / 1e3,
        redis_roundtrips_per_update=(rt1 - rt0) / n,
        # answers: presses of a question's buttons and typed answers (the "answers")
        redis_roundtrips_per_answer=statistics.fmean(answers),
        answers_with_more_than_one_roundtrip=sum(t > 1 for t in answers),
        answers_with_more_than_one_roundtrip_by_step=dict(
            Counter(
                label
                for t, label in zip(bench.trips, bench.labels, strict=True)
                if _is_answer(label) and t > 1
            )
        ),
        answers=len(answers),
        # of which: the Throttle's shared pace (one script per new message sent) ...
        redis_pace_roundtrips_per_update=(bench.pace_calls() - pace0) / n,
        # ... and the conversation state (ChatService: GET on a cache miss, compare-and-set)
        redis_state_roundtrips_per_update=(rt1 - rt0 - bench.pace_calls() + pace0) / n,
        # minus the 2 INFO calls of this measurement itself
        redis_commands_per_update=(c1 - c0 - 2) / n,
        redis_commandstats_per_update={k: round(v, 3) for k, v in per_cmd.items()},
        api_calls_per_update=(bench.api.total_calls() - calls0) / n,
        slowest_1pct=dict(sorted(slow.items(), key=lambda kv: -kv[1])),
    )
    if profiler is not None:
        profiler.dump_stats(profile)
    bench.api.chats.clear()
    out["rss_after_seq_mib"] = _rss_now_mib()

    # concurrent pass (at most CONC updates in flight)
    people = bench.people(n_users, uid + 3_000_000)
    gc.collect()
    secs, _, n = await bench.run_pass(people, concurrent=True)
    await bench.check(people)
    out["updates_per_s_concurrent"] = n / secs
    bench.api.chats.clear()
    del people
    # peak RSS of the bot's work; the memory probe below is measuring apparatus
    out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    out["state_memory"] = await bench.memory_probe(max(n_users, 1200), uid + 2_000_000)
    out["rss_with_memory_probe_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await r.aclose()
    await bench.teardown()
    return out


async def first_update(redis_url: str) -> dict[str, Any]:
    """Imports, build, initialize + prepare, then one /start handled; times since start."""
    bench = Bench(redis_url)
    setup = await bench.setup()
    from bench.workload import make_people

    person = make_people(2, 900_000_000 + os.getpid())[1]  # /start with a deep link
    bench.keys_made.add(bench.keys.for_chat(person.uid))
    raw = person.update(0, 1, bench.api)
    assert raw is not None
    t0 = time.perf_counter()
    await bench.handle(raw)
    done = time.time()
    setup["first_update_s"] = time.perf_counter() - t0
    if bench.errors or bench.api.chat(person.uid).delivered == 0:
        raise SystemExit(f"first update not answered: {bench.errors}")
    await bench.teardown()
    return {"t_done": done, **setup}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis", required=True)
    ap.add_argument("--users", type=int, default=600)
    ap.add_argument("--profile")
    ap.add_argument("--first-update", action="store_true")
    a = ap.parse_args()
    if a.first_update:
        print(json.dumps(asyncio.run(first_update(a.redis))))
        return
    print(json.dumps(asyncio.run(run(a.redis, a.users, a.profile))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
