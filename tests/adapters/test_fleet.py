"""The fleet's budget (`fleet.RedisFleet`, its Lua scripts) and the throttle that uses it, on a
real Redis: each chat's pace, flood waits held by every worker, the reply cap, the bulk budget
shared by processes, order of arrival, and the fall-back when Redis is down (issue 18)."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
import redis
from telegram.error import RetryAfter

from bot.adapters.telegram.fleet import (
    FLEET_SCRIPT,
    PACE_PREFIX,
    PACE_SCRIPT,
    RedisFleet,
    fleet_keys,
)
from bot.adapters.telegram.fleet_news import FloodNews
from bot.adapters.telegram.throttle import BULK, Throttle
from bot.storage import KeyMaker, StoreUnavailable
from tests.redis_server import RedisServer, all_keys_with_ttl, redis_client_for

pytestmark = pytest.mark.redis

BOT_ID = 42
KEYS = KeyMaker(b"fleet test secret", BOT_ID, prefix=PACE_PREFIX)


def _fleet(url: str, **options: Any) -> RedisFleet:
    return RedisFleet(redis_client_for(url), KEYS, **options)


@pytest.fixture(autouse=True)
def _timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as build_application sets it


# --- the contract of the scripts ---------------------------------------------------------


async def test_a_chat_is_booked_once_per_interval_and_its_key_ends_by_itself(
    redis_url: str,
) -> None:
    fleet = _fleet(redis_url)
    assert (await fleet.book(7, 1.0)).wait == 0.0
    busy = await fleet.book(7, 1.0)
    assert busy.why == "chat"
    assert 0.9 < busy.wait <= 1.0  # the seconds until it is free; nothing booked
    assert (await fleet.book(-100, 3.0)).wait == 0.0  # a group: its own pace
    assert 2.9 < (await fleet.book(-100, 3.0)).wait <= 3.0
    assert (await fleet.book(8, 1.0)).wait == 0.0  # another chat is not held by chat 7
    keys = all_keys_with_ttl(redis_url)
    assert KEYS.for_chat(7) in keys
    assert all(0 < ttl <= 3000 for ttl in keys.values())  # nothing kept for long


async def test_a_fleet_hold_holds_every_chat_and_a_chat_hold_only_that_chat(
    redis_url: str,
) -> None:
    fleet = _fleet(redis_url)
    assert 0.4 < await fleet.hold_chat(5, 0.5) <= 0.5
    held = await fleet.book(5, 1.0)
    assert held.why == "chat"
    assert 0.3 < held.wait <= 0.5
    assert (await fleet.book(6, 1.0)).wait == 0.0
    assert 1.9 < await fleet.hold_fleet(2.0) <= 2.0
    assert 0.9 < await fleet.hold_fleet(1.0) <= 2.0  # a shorter hold keeps the later end
    flooded = await fleet.book(9, 1.0)
    assert flooded.why == "flood"
    assert 1.8 < flooded.wait <= 2.0
    assert (await fleet.bulk()).why == "flood"


@pytest.mark.parametrize("cached", ["pace", "fleet"])
async def test_a_booking_after_half_a_script_flush_runs_each_script_once(
    redis_url: str, cached: str
) -> None:
    """When Redis knows one of the booking's two scripts (another process loaded it after a
    restart), only the other runs again: the fleet's budget is spent once, and a free chat's
    first message is not kept waiting by its own first booking."""
    fleet = _fleet(redis_url, reply_cap=2.0)
    with redis.Redis.from_url(redis_url) as admin:
        admin.script_flush()
        admin.script_load({"pace": PACE_SCRIPT, "fleet": FLEET_SCRIPT}[cached])
        before = _evalsha_calls(admin)
        assert (await fleet.book(11, 1.0)).wait == 0.0
        assert _evalsha_calls(admin) == before + 3  # both in the pipeline, one again
        # The cap of 2 a second (a second's worth at once) was spent once: one more may go.
        assert (await fleet.book(12, 1.0)).wait == 0.0
        assert (await fleet.book(13, 1.0)).why == "cap"


def _evalsha_calls(admin: redis.Redis) -> int:
    stats = admin.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def _hearing(fleet: RedisFleet, heard: list[float] | None = None) -> RedisFleet:
    """The fleet, once it hears of every flood wait (its subscription confirmed)."""
    fleet.hear_floods(heard.append if heard is not None else lambda _seconds: None)
    for _ in range(500):
        if fleet.pace_args("1000")[1] == "1":
            return fleet
        await asyncio.sleep(0.01)
    raise AssertionError("the fleet's flood news never became live")


async def test_while_floods_are_heard_a_busy_chats_next_moment_is_booked_ahead(
    redis_url: str,
) -> None:
    """Hearing every flood wait, a process may book the chat's next free moment (within one
    interval) and sleep until then: no second booking. A moment given back (the fleet said
    wait) returns the chat's pace to what it was; a chat held longer by its own 429 is not
    booked ahead."""
    deaf = _fleet(redis_url)
    assert deaf.pace_args("1000") == ["1000", "0"]  # not listening: now or never
    fleet = await _hearing(_fleet(redis_url))
    assert (await fleet.book(7, 1.0)).wait == 0.0
    ahead = await fleet.book(7, 1.0)
    assert ahead.why == "reserved"
    assert 0.9 < ahead.wait <= 1.0
    after = await fleet.book(7, 1.0)  # the next person's message: a moment later still
    assert after.why == "chat"  # more than an interval ahead: nothing booked
    assert 1.9 < after.wait <= 2.0
    assert (await deaf.book(7, 1.0)).why == "chat"  # a deaf process books nothing ahead
    key = KEYS.for_chat(7)
    raw = redis_client_for(redis_url)
    moment = int(await raw.get(key))
    await fleet.unbook(key, moment, "1000")  # as if the fleet had said wait
    assert int(await raw.get(key)) == moment - 1000  # the first booking stands
    await fleet.hold_chat(8, 5.0)
    held = await fleet.book(8, 1.0)
    assert held.why == "chat"
    assert 4.5 < held.wait <= 5.0
    await raw.aclose()
    await fleet.close()


async def test_no_moment_is_booked_ahead_while_the_fleet_keeps_a_learnt_pace(
    redis_url: str,
) -> None:
    """After a 429 for the whole bot the fleet keeps a learnt pace; a reply booked ahead
    would count now and go later, so such replies would bunch: none is booked ahead."""
    fleet = await _hearing(_fleet(redis_url))
    assert all([(await fleet.book(700 + i, 1.0)).wait == 0.0 for i in range(20)])
    key = KEYS.for_chat(700)
    raw = redis_client_for(redis_url)
    moment = await raw.get(key)
    await fleet.hold_fleet(0.05)  # met at 20 a second: a learnt pace of 16
    await asyncio.sleep(0.1)
    busy = await fleet.book(700, 1.0)
    assert busy.why == "chat"  # not "reserved"
    assert await raw.get(key) == moment  # the moment it kept for a while is given back
    assert fleet.pace_args("1000")[1] == "0"
    await raw.aclose()
    await fleet.close()


@pytest.mark.parametrize("where", ["single", "cluster"])
async def test_every_process_hears_of_a_flood_wait_the_moment_it_is_recorded(
    where: str, request: pytest.FixtureRequest
) -> None:
    """One process records a 429 for the whole bot; another hears of it without asking
    Redis (on one Redis and on a Cluster, where the publication crosses nodes)."""
    if where == "cluster":
        url, cluster = request.getfixturevalue("redis_cluster").url, True
    else:
        url, cluster = request.getfixturevalue("redis_url"), False
    heard: list[float] = []
    listener = await _hearing(RedisFleet(redis_client_for(url, cluster=cluster), KEYS), heard)
    recorder = RedisFleet(redis_client_for(url, cluster=cluster), KEYS)
    await recorder.hold_fleet(2.0)
    for _ in range(500):
        if heard:
            break
        await asyncio.sleep(0.01)
    assert heard
    assert 1.5 < heard[0] <= 2.0
    await listener.close()
    assert listener.pace_args("1000")[1] == "0"  # no longer hearing: nothing booked ahead


@pytest.mark.parametrize("where", ["single", "cluster"])
async def test_an_answering_subscription_stays_live_across_heartbeats(
    where: str, request: pytest.FixtureRequest
) -> None:
    """The PINGs on the subscription are answered, on one Redis and on a Cluster: it is never
    taken for lost while Redis answers, and still hears what is published."""
    if where == "cluster":
        url, cluster = request.getfixturevalue("redis_cluster").url, True
    else:
        url, cluster = request.getfixturevalue("redis_url"), False
    heard: list[float] = []
    news = FloodNews(redis_client_for(url, cluster=cluster), "news", heard.append, heartbeat=0.1)
    news.start()
    for _ in range(500):
        if news.live:
            break
        await asyncio.sleep(0.01)
    lost = 0
    for _ in range(50):  # a second: ten heartbeats
        await asyncio.sleep(0.02)
        lost += not news.live
    assert lost == 0
    publisher = redis_client_for(url, cluster=cluster)
    await publisher.publish("news", "300")
    for _ in range(200):
        if heard:
            break
        await asyncio.sleep(0.01)
    assert heard == [0.3]
    await publisher.aclose()
    await news.close()


async def test_the_reply_cap_is_off_unless_set_and_then_shared(redis_url: str) -> None:
    free = _fleet(redis_url)
    assert all([(await free.book(100 + i, 1.0)).wait == 0.0 for i in range(50)])
    capped_a = _fleet(redis_url, reply_cap=5)
    capped_b = _fleet(redis_url, reply_cap=5)
    go = [await (capped_a if i % 2 else capped_b).book(200 + i, 1.0) for i in range(8)]
    assert [b.wait == 0.0 for b in go] == [True] * 5 + [False] * 3  # a second's worth
    assert {b.why for b in go[5:]} == {"cap"}


async def test_replies_spend_the_bulk_budget_and_notices_yield_to_them(redis_url: str) -> None:
    fleet = _fleet(redis_url, bulk_rate=10)
    assert (await fleet.bulk()).wait == 0.0
    for i in range(20):  # replies are never held by the bulk budget...
        assert (await fleet.book(300 + i, 1.0)).wait == 0.0
    waiting = await fleet.bulk()  # ...but they spend it: a notice waits for room
    assert waiting.why == "bulk"
    assert 0 < waiting.wait <= 1.2


async def test_after_a_429_for_the_bot_the_fleet_keeps_below_the_pace_that_met_it(
    redis_url: str,
) -> None:
    """Twenty replies went in this second, then a 429 for the whole bot: after its wait the
    fleet keeps to 90 % of that pace (18 a second), one message at a time with no burst
    (Telegram counts any one second), learnt from Telegram's answer; nothing is learnt
    before a 429."""
    fleet = _fleet(redis_url)
    assert all([(await fleet.book(500 + i, 1.0)).wait == 0.0 for i in range(20)])
    await fleet.hold_fleet(0.3)
    await fleet.hold_fleet(0.3)  # more 429s of the same wait (requests on their way)...
    await fleet.hold_fleet(0.3)  # ...teach nothing more
    await asyncio.sleep(0.35)
    clock = asyncio.get_running_loop().time
    went: list[float] = []
    start = clock()
    while clock() - start < 1.0:  # a chat each, so that only the fleet's pace holds them
        booked = await fleet.book(600 + len(went), 1.0)
        if booked.wait == 0.0:
            went.append(clock())
        else:
            assert booked.why == "learnt"
            await asyncio.sleep(booked.wait)
    assert 15 <= len(went) <= 19
    assert min(b - a for a, b in itertools.pairwise(went)) > 0.02  # 1/18 s apart: no burst
    assert 0 < max(all_keys_with_ttl(redis_url).values()) <= 30_000  # forgotten in 30 s


def test_the_bulk_budget_is_shared_by_two_processes(redis_url: str) -> None:
    """Two processes send notices as fast as the budget lets them for two seconds: together
    they stay within 10 a second (plus the first second's burst), and both get a share."""
    script = (
        "import asyncio, sys, time\n"
        "from bot.adapters.telegram.fleet import RedisFleet\n"
        "from tests.adapters.test_fleet import KEYS\n"
        "from tests.redis_server import redis_client_for\n"
        "async def main():\n"
        "    fleet = RedisFleet(redis_client_for(sys.argv[1]), KEYS, bulk_rate=10)\n"
        "    start, sent = float(sys.argv[2]), 0\n"
        "    await asyncio.sleep(max(0.0, start - time.time()))\n"
        "    while time.time() < start + 2.0:\n"
        "        booked = await fleet.bulk()\n"
        "        if booked.wait <= 0:\n"
        "            sent += 1\n"
        "        else:\n"
        "            await asyncio.sleep(booked.wait)\n"
        "    print(sent)\n"
        "asyncio.run(main())\n"
    )
    start = str(time.time() + 1.5)  # both begin together, once Python has started
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, redis_url, start], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    sent = [int(proc.communicate(timeout=30)[0]) for proc in procs]
    assert all(n >= 3 for n in sent), sent
    assert 18 <= sum(sent) <= 31, sent  # 2 s at 10/s, plus at most a second's burst


async def test_after_redis_restarts_the_flood_news_is_heard_again() -> None:
    """While Redis is away nobody books ahead (a flood wait could be missed); once it is back,
    the subscription is made again and flood waits are heard as before."""
    heard: list[float] = []
    with RedisServer() as server:
        listener = await _hearing(_fleet(server.url), heard)
        server.stop()
        for _ in range(500):
            if listener.pace_args("1000")[1] == "0":
                break
            await asyncio.sleep(0.01)
        assert listener.pace_args("1000")[1] == "0"
        server.start()
        await _hearing(listener)  # listening again, by itself
        await _fleet(server.url).hold_fleet(1.0)
        for _ in range(500):
            if heard:
                break
            await asyncio.sleep(0.01)
        assert heard
        await listener.close()


async def test_a_silent_subscription_counts_as_lost_and_is_made_again() -> None:
    """A connection that stops answering without closing (Redis paused here; a dropped route
    in life) is noticed by its unanswered PINGs: nobody books ahead until the subscription is
    made again, and then flood waits are heard as before."""
    heard: list[float] = []
    with RedisServer() as server:
        news = FloodNews(redis_client_for(server.url), "news", heard.append, heartbeat=0.2)
        news.start()
        for _ in range(500):
            if news.live:
                break
            await asyncio.sleep(0.01)
        assert news.live
        admin = redis.Redis.from_url(server.url)
        admin.execute_command("CLIENT", "PAUSE", "1500", "ALL")  # no answer, no reset
        for _ in range(100):
            if not news.live:
                break
            await asyncio.sleep(0.01)
        assert not news.live  # within a second: two heartbeats of silence
        for _ in range(500):
            if news.live:
                break
            await asyncio.sleep(0.01)
        assert news.live  # subscribed again once Redis answers
        admin.publish("news", "700")
        for _ in range(200):
            if heard:
                break
            await asyncio.sleep(0.01)
        assert heard == [0.7]
        admin.close()
        await news.close()


# --- the throttle on the fleet: two workers ------------------------------------------------


class _Telegram:
    """One fake Bot API for the workers: records when each message went; 429s on demand."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, object]] = []
        self.refuse: dict[object, float] = {}  # chat -> retry_after of its next answer

    def callback(self, chat: object) -> Any:
        async def send(*_args: Any, **_kwargs: Any) -> bool:
            retry = self.refuse.pop(chat, None)
            if retry is not None:
                raise RetryAfter(timedelta(seconds=retry))
            self.sent.append((time.monotonic(), chat))
            return True

        return send


async def _send(throttle: Throttle, telegram: _Telegram, chat: int, **options: Any) -> float:
    """Send one message to the chat through the throttle; when it went."""
    endpoint = options.pop("endpoint", "sendMessage")
    await throttle.process_request(
        telegram.callback(chat), (), {}, endpoint, {"chat_id": chat}, options.get("args")
    )
    return time.monotonic()


def _worker(url: str, **options: Any) -> Throttle:
    throttle = Throttle()
    throttle.share(_fleet(url, **options))
    return throttle


async def test_a_429_on_one_worker_holds_the_other(redis_url: str) -> None:
    """Worker A is told 429 (retry after 1 s) in a chat it had not written to: the whole bot's
    limit. Worker B, another process, sends nothing to any chat until it is over."""
    a, b, telegram = _worker(redis_url), _worker(redis_url), _Telegram()
    telegram.refuse[11] = 1
    started = time.monotonic()
    a_done = asyncio.create_task(_send(a, telegram, 11))
    await asyncio.sleep(0.2)  # A has been refused by now
    b_went = await _send(b, telegram, 12)
    assert b_went - started >= 0.95
    assert await a_done - started >= 0.95
    assert a.violations == b.violations == 0


async def test_a_message_booked_ahead_waits_for_a_flood_heard_of_while_it_sleeps(
    redis_url: str,
) -> None:
    """Worker A books chat 41's next moment (a second ahead) and sleeps. Meanwhile worker B
    records a 429 for the whole bot: A hears of it while asleep, its message goes only after
    that wait, and nothing is sent during it."""
    a, b, telegram = _worker(redis_url), _worker(redis_url), _Telegram()
    await _hearing(a._fleet)  # type: ignore[arg-type]
    await _send(b, telegram, 41)
    started = time.monotonic()
    second = asyncio.create_task(_send(a, telegram, 41))  # booked ahead, asleep
    await asyncio.sleep(0.3)
    assert len(telegram.sent) == 1
    telegram.refuse[42] = 2
    refused = asyncio.create_task(_send(b, telegram, 42))  # a chat B never wrote to: 429
    assert await second - started >= 0.3 + 1.95
    await refused
    assert a.violations == b.violations == 0
    assert sorted(chat for _, chat in telegram.sent) == [41, 41, 42]


async def test_a_429_in_a_group_holds_that_group_only(redis_url: str) -> None:
    a, b, telegram = _worker(redis_url), _worker(redis_url), _Telegram()
    telegram.refuse[-100] = 2
    started = time.monotonic()
    refused = asyncio.create_task(_send(a, telegram, -100))
    await asyncio.sleep(0.2)
    assert await _send(b, telegram, 13) - started < 0.5  # another chat goes at once
    assert await _send(b, telegram, -100) - started >= 1.95  # the group waits, in B too
    assert await refused - started >= 1.95


async def test_sends_that_must_wait_go_in_order_of_arrival_and_each_chat_at_its_pace(
    redis_url: str,
) -> None:
    """A flood wait of one second, and ten people's messages arriving meanwhile (two from
    the same person): after it they go in the order they came, the person's second message a
    second after the first."""
    throttle, telegram = _worker(redis_url), _Telegram()
    await _fleet(redis_url).hold_fleet(1.0)
    arrivals = [21, 22, 23, 21, 24, 25, 26, 27, 28, 29]
    tasks = []
    for chat in arrivals:
        tasks.append(asyncio.create_task(_send(throttle, telegram, chat)))
        await asyncio.sleep(0.01)
    await asyncio.gather(*tasks)
    order = [chat for _, chat in telegram.sent]
    assert order == [21, 22, 23, 24, 25, 26, 27, 28, 29, 21]
    first_of_21 = telegram.sent[0][0]
    assert telegram.sent[-1][0] - first_of_21 >= 1.0
    assert throttle.violations == 0


async def test_the_fleet_keeps_a_chats_pace_across_workers(redis_url: str) -> None:
    a, b, telegram = _worker(redis_url), _worker(redis_url), _Telegram()
    await asyncio.gather(*(_send(w, telegram, 31) for w in (a, b, a)))
    times = sorted(t for t, _ in telegram.sent)
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))


async def test_notices_yield_to_replies_and_keep_the_bulk_budget(redis_url: str) -> None:
    throttle, telegram = _worker(redis_url, bulk_rate=5), _Telegram()
    started = time.monotonic()
    notices = [
        asyncio.create_task(_send(throttle, telegram, 400 + i, args=BULK)) for i in range(10)
    ]
    await asyncio.gather(*notices)
    took = time.monotonic() - started
    assert 0.8 <= took <= 2.5  # 10 at 5 a second, the first second's worth at once


async def test_without_redis_each_worker_honours_its_own_429s_under_a_cap_of_its_own() -> None:
    with RedisServer() as server:
        url = server.url  # a port that was free and is closed again
    fleet = _fleet(url)
    with pytest.raises(StoreUnavailable):
        await fleet.book(7, 1.0)
    throttle = Throttle(fallback_per_second=4)
    throttle.share(fleet)
    telegram = _Telegram()
    started = time.monotonic()
    await asyncio.gather(*(_send(throttle, telegram, 50 + i) for i in range(8)))
    assert time.monotonic() - started >= 0.95  # 8 messages at 4 in any second
    telegram.refuse[60] = 1
    started = time.monotonic()
    refused = asyncio.create_task(_send(throttle, telegram, 60))
    await asyncio.sleep(0.1)
    assert await _send(throttle, telegram, 61) - started >= 0.95  # its own 429 holds it
    await refused
    assert throttle.violations == 0


async def test_no_fleet_keys_name_a_chat(redis_url: str) -> None:
    fleet = _fleet(redis_url, reply_cap=100)
    await fleet.book(7_777_123, 1.0)
    await fleet.hold_fleet(1.0)
    keys = all_keys_with_ttl(redis_url)
    assert set(keys) >= set(fleet_keys(KEYS)[:2])
    assert not any("7777123" in key or str(BOT_ID) in key for key in keys)
    assert all(ttl > 0 for ttl in keys.values())
