"""`python -m soak.soak`: thousands of people, two webhook workers, faults, and the figures.

    python -m soak.soak                 # 2,000 people, at most 600 s
    python -m soak.soak --quick         # 100 people, about a minute
    python -m soak.soak --users 500 --seed 7 --max-seconds 300

Starts a private redis-server, the fake Bot API, a round-robin forwarder (the one webhook
URL) and two `python -m bot webhook` processes; plays every person's conversation to its
result with `--concurrency` of them at once; injects faults (see `soak.faults`); checks each
result against `decree-bot check`; then checks Redis (every key has a TTL, no raw Telegram
id anywhere) and the workers' DEBUG logs (no crash, no raw id or name). Prints a table whose
last line is `N passed, M failed`; the exit code is 0 only when M is 0. Logs are kept in
`.soak/<start time>/`. Loopback only; everything stops by itself within `--max-seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import signal
import sys
import time
from collections import deque
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

from bot.i18n import Renderer, load_catalogs
from bot.messages import LEGAL_HELP_NONE
from bot.operator_texts import OperatorTexts
from bot.storage import KeyMaker
from fakebotapi import Limits, free_port
from fakebotapi._limits import IN_FLIGHT
from soak.api import SoakApi
from soak.checks import scan_logs, scan_redis
from soak.driver import Driver, Recognised, UserResult
from soak.faults import FaultPlan
from soak.forwarder import Forwarder
from soak.personas import Persona, make_persona
from soak.report import Run, report
from soak.workers import ROOT, Worker, WorkerConfig
from tests.redis_server import RedisServer

__all__ = ["main"]

USER_BASE = 7_400_000_000
KEY_SECRET = "soak-key-secret-soak-key-secret-soak"  # noqa: S105 - a throwaway test secret
WEBHOOK_SECRET = "soak-webhook-secret-soak-webhook-secret"  # noqa: S105 - a throwaway test secret
WEBHOOK_PATH = "/telegram"
BOT_USERNAME = "decree_test_bot"
PACE_PREFIX = "dcb:p:"
LAG_TICK = 0.05  # seconds between two measures of the event loop's lag


def _rng(seed: int) -> random.Random:
    """Reproducible choices for a simulation (nothing secret)."""
    return random.Random(seed)  # noqa: S311 - a simulation, not cryptography


def _faults(spec: str) -> set[str]:
    names = {"telegram", "kill", "redis", "burst"}
    if spec == "all":
        return names
    chosen = {part.strip() for part in spec.split(",") if part.strip() and part != "none"}
    unknown = chosen - names
    if unknown:
        raise SystemExit(f"unknown faults: {', '.join(sorted(unknown))}")
    return chosen


def _per_chat_violations(api: SoakApi) -> dict[int | str, list[float]]:
    """When each per-chat violation happened: a send less than a second after the last one
    to the same chat (the rule of `count_rate_violations`, with the times kept)."""
    found: dict[int | str, list[float]] = {}
    for chat, calls in api.by_chat.items():
        if chat is None:
            continue
        times = sorted(c.t_monotonic for c in calls if c.ok and c.method == "sendMessage")
        late = [b for a, b in itertools.pairwise(times) if b - a < 1.0]
        if late:
            found[chat] = late
    return found


#: Seconds after a worker's kill, or Redis coming back empty, during which a send in a known
#: flood wait is excused: the 429 may have been told to the killed worker before it could
#: record it, or the record was lost with Redis (retry_after is a second or two here).
FLOOD_EXCUSE = 2.5


def _flood_windows(plan: FaultPlan) -> list[tuple[float, float]]:
    """When a flood wait told to the bot may not have reached the fleet (see FLOOD_EXCUSE)."""
    windows = [(kill - 0.1, kill + FLOOD_EXCUSE) for kill in plan.kills]
    return windows + [(down, up + FLOOD_EXCUSE) for down, up in plan.redis_outages]


def _flood_samples(api: SoakApi, start: float, excused: list[tuple[float, float]]) -> list[str]:
    """A few requests sent during a flood wait the bot had been told of (when, which)."""
    found = [c for c in api.calls if c.in_flood and not _within(c.t_monotonic, excused)][:5]
    return [f"in a flood wait: {c.method} at {c.t_monotonic - start:.2f}s" for c in found]


def _violation_samples(api: SoakApi, chats: list[int | str], start: float) -> list[str]:
    """For a few chats with per-chat violations: the sends (when, first words)."""
    samples = []
    for chat in chats[:5]:
        sends = [c for c in api.by_chat[chat] if c.ok and c.method == "sendMessage"]
        said = [
            f"{c.t_monotonic - start:.2f}s " + str(c.params.get("text", ""))[:20].replace("\n", " ")
            for c in sends
        ]
        samples.append(f"chat …{str(chat)[-4:]}: {said}")
    return samples


def _within(t: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= t <= end for start, end in windows)


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m soak.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=2000, help="people (default 2000)")
    parser.add_argument("--concurrency", type=int, default=200, help="people at once")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="hard time limit")
    parser.add_argument("--quick", action="store_true", help="100 people, 50 at once, ≤ 180 s")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--reply-timeout", type=float, default=30.0, help="seconds per reply")
    parser.add_argument(
        "--fault-rate", type=float, default=0.03, help="share of answers pressed twice / sent twice"
    )
    parser.add_argument(
        "--hidden-limit",
        type=int,
        default=30,
        help="messages a second the fake Bot API accepts for the whole bot before it answers"
        " 429 (the bot is not told; 0: no such limit)",
    )
    parser.add_argument(
        "--faults",
        default="all",
        help="comma-separated faults to inject: telegram,kill,redis,burst (all; none)",
    )
    parser.add_argument("--think", type=float, nargs=2, default=(0.05, 0.4), metavar=("MIN", "MAX"))
    return parser


def _renderer() -> Renderer:
    catalogs = load_catalogs()
    return Renderer(
        catalogs,
        ext=OperatorTexts(
            bot_username=lambda: BOT_USERNAME,
            ttl_seconds=1800,
            legal_help={},
            no_legal_help=lambda lang: catalogs[lang].gettext(LEGAL_HELP_NONE),
        ),
    )


class Soak:
    """One soak run: start everything, play, check, stop."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
        self.rng = _rng(self.seed)
        stamp = datetime.now(UTC)
        self.run = Run(stamp.strftime("%Y-%m-%d %H:%M:%S UTC"), self.seed, args.users, 0)
        self.run.concurrency = args.concurrency
        self.log_dir = ROOT / ".soak" / stamp.strftime("%Y%m%d-%H%M%S")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.renderer = _renderer()
        self.recognised = Recognised(self.renderer)
        self.today = date.today()
        self.finished = 0
        self.deadline = time.monotonic() + args.max_seconds
        self.redis = RedisServer()
        self.api = SoakApi(bot_username=BOT_USERNAME)
        self.workers: list[Worker] = []
        self.forwarder: Forwarder | None = None
        self.personas: list[Persona] = []

    async def main(self) -> Run:
        started = time.monotonic()
        self.redis.start()  # from the main thread: it dies with the soak if we are killed
        await self.api.start()
        try:
            await self._with_services()
        finally:
            for worker in self.workers:
                code = await worker.stop()
                self.run.worker_exits.append(f"{worker.name}: {code}")
            if self.forwarder is not None:
                await self.forwarder.stop()
            await self.api.stop()
            await asyncio.to_thread(self.redis.stop)
            self.run.duration = time.monotonic() - started
        self._scan_logs()
        return self.run

    async def _with_services(self) -> None:
        ports = [free_port(), free_port()]
        self.forwarder = Forwarder([f"http://127.0.0.1:{port}" for port in ports])
        await self.forwarder.start()
        config = WorkerConfig(
            token=self.api.token,
            api_base_url=self.api.bot_base_url,
            redis_url=self.redis.url,
            key_secret=KEY_SECRET,
            webhook_secret=WEBHOOK_SECRET,
            webhook_url=self.forwarder.url(WEBHOOK_PATH),
            log_dir=self.log_dir,
        )
        self.workers = [Worker(f"worker-{i + 1}", port, config) for i, port in enumerate(ports)]
        await asyncio.gather(*(w.start() for w in self.workers))
        await self.api.wait_for(lambda: self.api.webhook is not None, 20)
        self.api.reset_calls()  # start-up calls (menus, descriptions) are not the soak's
        # Telegram's limits, enforced with 429 and retry_after: a hidden overall limit, one
        # message a second per chat, twenty a minute per group (issue 18).
        self.api.set_limits(Limits.telegram(overall_per_second=self.args.hidden_limit or None))
        plan = FaultPlan(
            api=self.api,
            redis=self.redis,
            workers=self.workers,
            webhook_url=self.forwarder.url(WEBHOOK_PATH),
            webhook_secret=WEBHOOK_SECRET,
            rng=_rng(self.seed + 1),
            started=self.api.started,
        )
        await self._play(plan)
        self._collect(plan)
        self._check_state(plan)

    async def _play(self, plan: FaultPlan) -> None:
        n = self.args.users
        self.personas = [make_persona(self.rng, USER_BASE + i + 1) for i in range(n)]
        done = asyncio.Event()
        gate = asyncio.Semaphore(self.args.concurrency)
        tally = self.run.tally

        async def one(persona: Persona, seed: int) -> UserResult:
            async with gate:
                driver = Driver(
                    api=self.api,
                    persona=persona,
                    renderer=self.renderer,
                    recognised=self.recognised,
                    tally=tally,
                    rng=_rng(seed),
                    today=self.today,
                    reply_timeout=self.args.reply_timeout,
                    fault_rate=self.args.fault_rate,
                    think=tuple(self.args.think),
                    failed_over=self.forwarder.failed_over if self.forwarder else set(),
                )
                result = await driver.run()
                self.finished += 1
                return result

        tasks = [asyncio.create_task(one(p, self.rng.randrange(2**32))) for p in self.personas]
        plan.enabled = _faults(self.args.faults)
        faults = asyncio.create_task(plan.run(lambda: self.finished / n, done))
        watch = asyncio.create_task(self._watch(done))
        lag = asyncio.create_task(self._lag(done))
        remaining = self.deadline - time.monotonic() - 30.0  # leave time for the checks
        try:
            finished, pending = await asyncio.wait(tasks, timeout=max(remaining, 1.0))
        finally:  # out of time, or stopped: nobody may go on talking to stopped services
            done.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(faults, watch, lag, return_exceptions=True)
        self.run.unfinished = len(pending)
        for task in finished:
            exc = task.exception()
            if exc is not None:
                failed = UserResult(0, problem=f"driver crashed: {type(exc).__name__}: {exc}")
                self.run.results.append(failed)
            else:
                self.run.results.append(task.result())

    async def _lag(self, done: asyncio.Event) -> None:
        """Keep the fake's in-flight allowance at its own plus how late this event loop ran
        in the last second (as the surge does): the fake stamps each request on this loop,
        shared with every simulated person, so a request can be stamped that much after it
        arrived."""
        recent: deque[float] = deque(maxlen=int(1 / LAG_TICK))
        while not done.is_set():
            asked = time.monotonic() + LAG_TICK
            await asyncio.sleep(LAG_TICK)
            late = max(0.0, time.monotonic() - asked)
            recent.append(late)
            self.run.max_lag = max(self.run.max_lag, late)
            self.api.flood.in_flight = IN_FLIGHT + max(recent)

    async def _watch(self, done: asyncio.Event) -> None:
        """Progress on stderr every ten seconds; a worker that exits by itself is a crash."""
        started = time.monotonic()
        last = 0.0
        while not done.is_set():
            await asyncio.sleep(0.5)
            for worker in self.workers:
                code = worker.exited_by_itself()
                if code is not None:
                    self.run.unexpected_exits += 1
                    _err(f"{worker.name} exited by itself with {code}; starting it again")
                    await worker.stop()
                    await worker.start()
            now = time.monotonic()
            if now - last >= 10:
                last = now
                _err(
                    f"soak: {now - started:6.1f}s {self.finished}/{self.args.users} people done,"
                    f" {self.run.tally.actions} actions, {len(self.api.calls)} bot calls"
                )

    def _collect(self, plan: FaultPlan) -> None:
        run = self.run
        run.updates_sent = self.api.updates_sent
        run.webhook_undelivered = len(self.api.undelivered_updates)
        run.webhook_retries = sum(1 for d in self.api.webhook_responses if d.attempt > 1)
        run.telegram_refusals = {
            "429": sum(1 for c in self.api.calls if c.status == 429),
            "5xx": sum(1 for c in self.api.calls if c.status is not None and c.status >= 500),
        }
        run.sends = sum(1 for c in self.api.calls if c.ok and c.method == "sendMessage")
        run.edits = sum(1 for c in self.api.calls if c.ok and c.method == "editMessageText")
        report = self.api.rate_violations()
        flood = self.api.flood_report()
        excused = _flood_windows(plan)
        at_faults = sum(1 for c in self.api.calls if c.in_flood and _within(c.t_monotonic, excused))
        run.violations = {
            "per_chat": report.per_chat,
            "groups": report.group_per_minute,
            "per_chat_edits": report.per_chat_edits,
            "in_flood_wait": flood.violations - at_faults,
            "in_flood_wait_at_faults": at_faults,
        }
        run.flood = {
            "requests": flood.requests,
            "http_429": flood.http_429,
            "http_429_share": round(flood.http_429_share, 4),
            **{f"429_{limit}": n for limit, n in sorted(flood.by_limit.items())},
        }
        run.events = plan.events
        late = _per_chat_violations(self.api)
        windows = [(down - 1.1, up + 1.1) for down, up in plan.redis_outages]
        outside = [c for c, ts in late.items() if any(not _within(t, windows) for t in ts)]
        run.violations["per_chat_at_redis_restart"] = sum(
            1 for ts in late.values() for t in ts if _within(t, windows)
        )
        run.violation_samples = _violation_samples(self.api, outside, plan.started)
        run.violation_samples += _flood_samples(self.api, plan.started, excused)
        run.redis_restarts = plan.redis_restarts
        run.kills = sum(w.killed for w in self.workers)
        run.burst = asdict(plan.burst)
        run.burst.pop("attacker_chats", None)
        run.burst.pop("forged_chats", None)
        assert self.forwarder is not None
        run.failover = self.forwarder.stats.failed_over
        run.cut_off = len(self.forwarder.failed_over)
        run.per_worker = dict(self.forwarder.stats.per_worker)

    def _ids(self, plan: FaultPlan) -> set[bytes]:
        ids = {str(p.user_id).encode() for p in self.personas}
        ids |= {str(i).encode() for i in plan.burst.attacker_chats + plan.burst.forged_chats}
        return ids

    def _check_state(self, plan: FaultPlan) -> None:
        run = self.run
        self._id_set = self._ids(plan)
        run.redis = scan_redis(self.redis.url, self._id_set)
        keys = KeyMaker(KEY_SECRET.encode(), int(self.api.bot_user["id"]))
        pace = KeyMaker(KEY_SECRET.encode(), int(self.api.bot_user["id"]), prefix=PACE_PREFIX)
        forgot = {r.user_id for r in run.results if r.forgot}
        run.forgotten_left = sum(1 for uid in forgot if keys.for_chat(uid) in run.redis.present)
        run.forged_keys = sum(
            1
            for uid in plan.burst.forged_chats
            if keys.for_chat(uid) in run.redis.present or pace.for_chat(uid) in run.redis.present
        )

    def _scan_logs(self) -> None:
        ids: set[bytes] = getattr(self, "_id_set", set())
        paths = [w.log_path for w in self.workers]
        self.run.logs = scan_logs(paths, ids, [b"Soakname"])


def _write_people(run: Run, path: Path) -> None:
    """Every person's actions (and the transcript of those who failed), for digging."""
    with path.open("w", encoding="utf-8") as out:
        for r in run.results:
            state = "passed" if r.passed else f"FAILED: {r.wrong or r.problem or ''}"
            out.write(f"user {r.user_id} {state}\n")
            out.writelines(f"    {line}\n" for line in r.log)
            if r.transcript:
                out.writelines(f"    | {line}\n" for line in r.transcript.splitlines())


async def _until_done_or_stopped(soak: Soak, limit: float) -> Run:
    """The run, cancelled cleanly (workers and Redis stopped) on SIGTERM or SIGINT."""
    task = asyncio.create_task(asyncio.wait_for(soak.main(), limit))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    return await task


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.users = min(args.users, 100)
        args.concurrency = min(args.concurrency, 50)
        args.max_seconds = min(args.max_seconds, 180.0)
    soak = Soak(args)
    try:
        run = asyncio.run(_until_done_or_stopped(soak, args.max_seconds + 60))
    except asyncio.CancelledError:
        _err("soak: stopped before the end; workers and Redis were stopped")
        return 2
    failures = report(run, soak.log_dir)
    _write_people(run, soak.log_dir / "people.txt")
    summary = {k: v for k, v in asdict(run).items() if k != "results"}
    summary["failures"] = failures
    (soak.log_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
