"""Faults injected while the conversations run, each at a point of the run's progress.

* Telegram answers 429 (with `retry_after`) and 5xx to some calls (`FakeBotApi.fail_next`);
* one worker is killed with SIGKILL and started again;
* Redis is stopped and started again, empty (no persistence: every stored answer is lost);
* a burst of malformed updates and forged button presses from people outside the soak.

Double presses, old buttons and the same update delivered twice come from the drivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.conversation import decode_button
from fakebotapi import CallbackRecord
from soak.api import SoakApi
from soak.workers import Worker
from tests.redis_server import RedisServer

__all__ = ["BurstReport", "FaultPlan", "malformed_burst"]

#: Attackers' ids: far from the soak users', never a conversation of theirs.
ATTACKER_BASE = 6_600_000_000


@dataclass
class BurstReport:
    """What the burst of malformed updates and forged presses did."""

    sent: int = 0
    forged_presses: int = 0
    forged_unanswered: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    server_errors: int = 0
    oversized_refused: bool = False
    attacker_chats: list[int] = field(default_factory=list)
    forged_chats: list[int] = field(default_factory=list)


@dataclass
class FaultPlan:
    """When each fault fires, as a fraction of the people finished; and what happened."""

    api: SoakApi
    redis: RedisServer
    workers: list[Worker]
    webhook_url: str
    webhook_secret: str
    rng: random.Random
    events: list[str] = field(default_factory=list)
    burst: BurstReport = field(default_factory=BurstReport)
    redis_restarts: int = 0
    #: (stopped, answering again) of each Redis restart, in monotonic time.
    redis_outages: list[tuple[float, float]] = field(default_factory=list)
    #: When each worker was killed, in monotonic time.
    kills: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    enabled: set[str] = field(default_factory=lambda: {"telegram", "kill", "redis", "burst"})

    def steps(self) -> list[tuple[float, Callable[[], Awaitable[None]]]]:
        steps = [
            (0.15, "telegram", self.telegram_errors),
            (0.30, "kill", self.kill_worker),
            (0.45, "telegram", self.telegram_errors),
            (0.50, "redis", self.restart_redis),
            (0.65, "burst", self.malformed),
            (0.80, "telegram", self.telegram_errors),
        ]
        return [(point, fault) for point, name, fault in steps if name in self.enabled]

    def _note(self, text: str) -> None:
        self.events.append(f"{time.monotonic() - self.started:7.1f}s {text}")

    async def run(self, progress: Callable[[], float], done: asyncio.Event) -> None:
        """Fire each fault when the progress passes its point (or stop when the run ends)."""
        for point, fault in self.steps():
            while progress() < point and not done.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), 0.2)
            if done.is_set():
                return
            await fault()

    async def telegram_errors(self) -> None:
        api = self.api
        api.fail_next("sendMessage", status=429, retry_after=1, times=3)
        api.fail_next("editMessageText", status=429, retry_after=1, times=2)
        api.fail_next("editMessageText", status=502, times=3)
        api.fail_next("sendMessage", status=500, times=2)
        api.fail_next("answerCallbackQuery", status=500, times=2)
        self._note("Telegram: 429 x5 (retry_after 1 s), 5xx x7")

    async def kill_worker(self) -> None:
        worker = self.workers[-1]
        self.kills.append(time.monotonic())
        await worker.kill()
        self._note(f"{worker.name} killed (SIGKILL)")
        await worker.start()
        self._note(f"{worker.name} started again")

    async def restart_redis(self) -> None:
        stopping = time.monotonic()
        await asyncio.to_thread(self.redis.stop)
        self._note("Redis stopped")
        await asyncio.sleep(0.5)
        # Started from the main thread, so that it dies with the soak (PDEATHSIG is per thread).
        self.redis.start()
        self.redis_outages.append((stopping, time.monotonic()))
        self.redis_restarts += 1
        self._note("Redis started again, empty")

    async def malformed(self) -> None:
        await malformed_burst(self)
        b = self.burst
        self._note(
            f"burst: {b.sent} malformed or forged updates, {b.forged_presses} forged presses"
        )


def _junk_text(rng: random.Random, n: int) -> str:
    alphabet = "аб/xyz🙂\u202e\u0000 \n" + "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(8))
    return "".join(rng.choice(alphabet) for _ in range(n))


def _forged_data(rng: random.Random) -> str:
    """Callback data no button of ours sends (checked with the bot's own decoder)."""
    while True:
        candidates = [
            _junk_text(rng, rng.randint(1, 40)),
            "c" + "9" * rng.randint(10, 20) + ":citizenship=TJ",
            "x1:sex=male",
            "s1:sex=" + "m" * 70,
            "nav:" + rng.choice(["admin", "delete", "../../", ""]),
            "lang=" + rng.choice(["de", "xx", "ru_RU", ""]),
            "mode=" + rng.choice(["root", "", "SELF"]),
            "e1:password",
            "c1:type=passport",
            "a" * rng.randint(65, 300),
        ]
        data = rng.choice(candidates)
        if decode_button(data) is None:
            return data


def _message(chat: dict[str, Any], sender: dict[str, Any], text: Any, mid: int) -> dict[str, Any]:
    return {"message_id": mid, "date": int(time.time()), "chat": chat, "from": sender, "text": text}


def _malformed_body(rng: random.Random, kind: int, uid: int, i: int) -> dict[str, Any]:
    """Update kind number `kind`: wrong types, missing fields, other kinds, groups, junk."""
    sender = {"id": uid, "is_bot": False, "first_name": "Zz", "language_code": "xx"}
    private = {"id": uid, "type": "private", "first_name": "Zz"}
    group = {"id": -1_009_000_000_000 - i, "type": "supergroup", "title": "g"}
    bodies: list[dict[str, Any]] = [
        {"message": _message(private, sender, _junk_text(rng, 5000), 1)},
        {"message": _message(private, sender, 12345, 1)},
        {"message": {"message_id": "x", "chat": "nope", "text": "/start"}},
        {"message": _message(group, sender, "/start@decree_test_bot", 2)},
        {"unknown_kind": {"a": [1, 2, {"b": None}]}},
        {"message": _message(private, sender, "/start " + "x" * 500, 3)},
        {"callback_query": {"id": "1", "from": sender, "data": "nav:result"}},
        {"message": _message(private, sender, "hi", 4)},
        {"message": {**_message(private, sender, "/forget", 5), "extra": {"x": 1}}},
        {"message": _message(private, {"id": "not-an-int"}, "text", 6)},
        {"edited_message": _message(private, sender, "edit", 7)},
        {"message": _message(group, sender, _junk_text(rng, 50), 8)},
    ]
    return bodies[kind % len(bodies)]


def _malformed_updates(plan: FaultPlan, count: int) -> list[dict[str, Any]]:
    rng, api = plan.rng, plan.api
    updates: list[dict[str, Any]] = []
    for i in range(count):
        uid = ATTACKER_BASE + i
        plan.burst.attacker_chats.append(uid)
        update_id: Any = api.new_update_id()
        if i % 12 == 7:  # not an integer, or out of range
            update_id = rng.choice(["12", -5, 10**30, None, 1.5])
        updates.append({"update_id": update_id, **_malformed_body(rng, i % 12, uid, i)})
    return updates


def _forged_presses(plan: FaultPlan, count: int) -> list[dict[str, Any]]:
    api, rng = plan.api, plan.rng
    updates = []
    for i in range(count):
        uid = ATTACKER_BASE + 50_000 + i % 20
        if uid not in plan.burst.forged_chats:
            plan.burst.forged_chats.append(uid)
        user = api.user(uid, first_name="Zz", language_code=rng.choice(["ru", None, "xx"]))
        message = user.chat.new_message(
            from_bot=True, sender=api.bot_user, text="old message", reply_markup=None
        )
        data = _forged_data(rng)
        query_id = api.new_callback_id()
        api.callbacks[query_id] = CallbackRecord(
            query_id, uid, uid, message.message_id, data, time.monotonic()
        )
        updates.append(
            {
                "update_id": api.new_update_id(),
                "callback_query": {
                    "id": query_id,
                    "from": user.json,
                    "message": message.to_json(),
                    "chat_instance": str(uid),
                    "data": data,
                },
            }
        )
    return updates


async def _post_raw(plan: FaultPlan, bodies: list[bytes]) -> list[int | None]:
    """Bodies that are no update at all, POSTed with the right secret."""
    statuses: list[int | None] = []
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": plan.webhook_secret,
    }
    async with httpx.AsyncClient(trust_env=False, timeout=30.0) as client:
        for body in bodies:
            try:
                response = await client.post(plan.webhook_url, content=body, headers=headers)
                statuses.append(response.status_code)
            except httpx.HTTPError:
                statuses.append(None)
    return statuses


async def malformed_burst(plan: FaultPlan, *, count: int = 120, forged: int = 80) -> None:
    """Malformed updates and forged presses, twenty at a time, then checks on the answers."""
    report = plan.burst
    api = plan.api
    junk = _malformed_updates(plan, count)
    presses = _forged_presses(plan, forged)
    report.forged_presses = len(presses)
    everything: list[dict[str, Any]] = junk + presses
    plan.rng.shuffle(everything)
    statuses: list[int | None] = []
    for i in range(0, len(everything), 20):
        batch = everything[i : i + 20]
        statuses += await asyncio.gather(*(api.deliver_raw(u) for u in batch))
    raw = [b"not json", b"[1, 2, 3]", b"null", b'{"update_id": 1', "ъ".encode("cp1251")]
    statuses += await _post_raw(plan, raw)
    oversized = json.dumps({"update_id": 1, "message": {"text": "x" * 300_000}}).encode()
    big = await _post_raw(plan, [oversized])
    report.oversized_refused = big[0] is None or big[0] >= 400
    report.sent = len(everything) + len(raw) + 1
    for status in statuses:
        key = str(status)
        report.statuses[key] = report.statuses.get(key, 0) + 1
        if status is not None and status >= 500:
            report.server_errors += 1
    await asyncio.sleep(1.0)  # answers to the forged presses may still be on their way
    ids = {str(u["callback_query"]["id"]) for u in presses}
    report.forged_unanswered = sum(1 for record in api.unanswered_callbacks() if record.id in ids)
