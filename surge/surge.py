"""`python -m surge.surge` (`make surge`): thousands of people at once, against Telegram's limits.

    python -m surge.surge                    # 1,000 people within 10 s: at most ~12 minutes
    python -m surge.surge --people 3000 --window 30 --run-seconds 300   # issue 18's size
    python -m surge.surge --quick            # 200 people within 5 s, fewer runs: development
    python -m surge.surge --people 500 --workers 2 --limits 30 --no-peers

For each hidden limit X and each number of webhook workers: a private Redis, the fake Bot
API enforcing X messages a second for the whole bot (the bot is not told), one a second per
chat and twenty a minute per group, all answered with 429 and `retry_after`; the soak's
round-robin forwarder in front of `decree-bot webhook` workers; and `--people` people who
arrive within `--window` seconds and each go through a whole conversation (the soak's
personas and driver). Then the same with the peer (`surge.peer_bot`: PTB's AIORateLimiter)
in 1, 2 and 4 processes at X = 30, its people replaying the same conversations' shape
(stopped after `--peer-seconds`: it cannot serve the crowd in time, and its figures cover
the time it ran).

The default crowd is 1,000 people within 10 s, the same hundred a second as issue 18's
3,000 within 30 s, so that all nine runs fit in about twelve minutes on two cores.

Prints a table (see `surge.metrics` for what each figure means), the plot's path and, last,
one JSON line. Loopback only; each run stops by itself after `--run-seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import redis

from fakebotapi import EDIT_METHODS, SEND_METHODS, Limits, free_port
from fakebotapi._limits import IN_FLIGHT
from soak.driver import Recognised, Tally, UserResult
from soak.personas import make_persona
from soak.soak import _renderer
from soak.workers import ROOT, WorkerConfig
from surge.fleet import BotWorker, ForwarderProcess, PeerWorker, peer_python
from surge.metrics import Figures, figures, pair, percentile, scripts
from surge.people import DEFAULT_SCRIPT, Crowd, SurgeApi, bot_person, peer_person
from tests.redis_server import RedisServer

__all__ = ["main"]

USER_BASE = 7_500_000_000
KEY_SECRET = "surge-key-secret-surge-key-secret-surge"  # noqa: S105 - a throwaway test secret
WEBHOOK_SECRET = "surge-webhook-secret-surge-webhook-secret"  # noqa: S105 - a throwaway test secret
WEBHOOK_PATH = "/telegram"
BOT_USERNAME = "decree_test_bot"
LAG_TICK = 0.05  # seconds between two measures of the event loop's lag


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m surge.surge", description=__doc__.split("\n")[0])
    p.add_argument("--people", type=int, default=1000, help="people per run (default 1000)")
    p.add_argument("--window", type=float, default=10.0, help="they arrive within (s)")
    p.add_argument("--workers", type=_ints, default=[1, 2, 4], help="e.g. 1,2,4")
    p.add_argument("--limits", type=_ints, default=[30, 300], help="hidden limits X, e.g. 30,300")
    p.add_argument("--peer-limits", type=_ints, default=[30], help="X for the peer (30)")
    p.add_argument("--no-peers", action="store_true", help="leave out the peer rows")
    p.add_argument("--no-bot", action="store_true", help="leave out decree-bot's rows")
    p.add_argument("--run-seconds", type=float, default=75.0, help="each run stops after this")
    p.add_argument("--peer-seconds", type=float, default=50.0, help="... each of the peer's")
    p.add_argument("--quick", action="store_true", help="200 people within 5 s, 1-2 workers")
    p.add_argument("--limit-edits", action="store_true", help="edits count against the limits too")
    p.add_argument(
        "--early-answers",
        action="store_true",
        help="workers answer the webhook early: DECREEBOT_WEBHOOK_EARLY_ANSWERS",
    )
    p.add_argument(
        "--overall-holds",
        choices=("bot", "chat"),
        default="bot",
        help="whom a 429 of the hidden limit holds: the whole bot (default) or the chat",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    p.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(1.0, 4.0),
        metavar=("MIN", "MAX"),
        help="seconds a person reads before the next action (default 1 to 4)",
    )
    p.add_argument("--plot", type=Path, default=None, help="where to write the PNG")
    return p


@dataclass
class Row:
    """One run: who served, with what limit, the figures and what went wrong."""

    kind: str  # "decree-bot" or "peer"
    workers: int
    x: int
    figures: Figures
    people: int
    done: int
    cut_off: int
    problems: list[str] = field(default_factory=list)
    crashes: int = 0
    seconds: float = 0.0
    cpu_self: float = 0.0  # CPU seconds of this process (the fake Bot API, the people)
    cpu_workers: float = 0.0  # ... of the workers and the forwarder
    load: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load, before and after
    max_lag: float = 0.0  # how late this process's event loop ran at worst (s)
    spinner: tuple[float, float] = (0.0, 0.0)  # press to answerCallbackQuery, p50 and p95 (s)

    def json(self) -> dict[str, Any]:
        f = self.figures
        return {
            "workers": self.workers,
            "hidden_limit": self.x,
            "utilisation": None if f.utilisation is None else round(f.utilisation, 3),
            "violations": f.violations,
            "pace_violations": f.pace_violations,
            "http_429_share": round(f.http_429_share, 4),
            "p50_wait_ratio": _finite(f.p50_ratio),
            "p95_wait_ratio": _finite(f.p95_ratio),
            "max_wait_s": round(f.max_wait, 2),
        }


def _finite(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None


class Surge:
    """All the runs of one invocation."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
        rng = random.Random(self.seed)  # noqa: S311 - a simulation
        self.personas = [make_persona(rng, USER_BASE + i + 1) for i in range(args.people)]
        self.person_seeds = [rng.randrange(2**32) for _ in self.personas]
        self.stamp = datetime.now(UTC)
        self.dir = ROOT / ".surge" / self.stamp.strftime("%Y%m%d-%H%M%S")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.renderer = _renderer()
        self.recognised = Recognised(self.renderer)
        self.redis = RedisServer()
        self.methods = SEND_METHODS | (EDIT_METHODS if args.limit_edits else frozenset())
        self.scripts: dict[int, tuple[str, ...]] = {}
        self.max_lag = 0.0
        self.rows: list[Row] = []

    def limits(self, x: int) -> Limits:
        return Limits.telegram(
            overall_per_second=x, methods=self.methods, overall_holds=self.args.overall_holds
        )

    async def main(self) -> None:
        self.redis.start()
        try:
            for x in [] if self.args.no_bot else self.args.limits:
                for n in self.args.workers:
                    self.rows.append(await self._run("decree-bot", n, x))
            python = None if self.args.no_peers else peer_python()
            if python is None and not self.args.no_peers:
                _err("peer rows left out: no peers' venv (make surge-peers)")
            for x in self.args.peer_limits if python else ():
                for n in self.args.workers:
                    self.rows.append(await self._run("peer", n, x, python=python))
        finally:
            await asyncio.to_thread(self.redis.stop)

    async def _run(self, kind: str, n: int, x: int, python: Path | None = None) -> Row:
        started = time.monotonic()
        load = os.getloadavg()[0]
        cpu = _cpu()
        self.max_lag = 0.0
        with redis.Redis.from_url(self.redis.url) as client:
            client.flushall()
        api = SurgeApi(bot_username=BOT_USERNAME, limits=self.limits(x))
        await api.start()
        forwarder = ForwarderProcess([f"http://127.0.0.1:{free_port()}" for _ in range(n)])
        await forwarder.start()
        name = f"{kind}-w{n}-x{x}"
        workers: list[Any] = []
        _err(f"surge: {name}: starting {n} worker(s)")
        tally = Tally()
        try:
            workers = self._workers(kind, name, api, forwarder, python)
            await asyncio.gather(*(w.start() for w in workers))
            await api.wait_for(lambda: len(api.calls_for("setWebhook")) >= n, 30)
            await asyncio.sleep(0.5)  # start-up calls (menus, descriptions) finish
            api.reset_calls()
            crowd, cut = await self._play(api, kind, tally)
            stopped = time.monotonic()
        finally:
            logs = {w.log_path: _size(w.log_path) for w in workers}
            codes = list(await asyncio.gather(*(w.stop() for w in workers)))
            await forwarder.stop()
            await api.stop()
        cpu_self, cpu_workers = (after - before for after, before in zip(_cpu(), cpu, strict=True))
        figs = figures(api.update_log, api.calls, x=x, limited=self.methods, stopped=stopped)
        if kind == "decree-bot" and not self.scripts:
            # Whole conversations only: a person cut off by the time limit has half a script.
            passed = {r.user_id for r in crowd.results if isinstance(r, UserResult) and r.passed}
            shapes = scripts(pair(api.update_log, api.calls, self.methods))
            self.scripts = {chat: shape for chat, shape in shapes.items() if chat in passed}
        row = Row(kind, n, x, figs, len(self.personas), 0, cut, seconds=time.monotonic() - started)
        row.cpu_self, row.cpu_workers = cpu_self, cpu_workers
        row.load = (load, os.getloadavg()[0])
        row.max_lag = self.max_lag
        row.spinner = _spinner(api)
        self._judge(row, crowd.results, codes, logs)
        _err(f"surge: {name}: {row.seconds:.0f} s, {row.done}/{row.people} people done")
        return row

    def _workers(
        self, kind: str, name: str, api: SurgeApi, forwarder: ForwarderProcess, python: Path | None
    ) -> list[Any]:
        ports = [int(t.rsplit(":", 1)[1]) for t in forwarder.targets]
        names = [f"{name}-{i + 1}" for i in range(len(ports))]
        if kind == "peer":
            assert python is not None
            env = {
                "SURGE_TOKEN": api.token,
                "SURGE_API_BASE_URL": api.bot_base_url,
                "SURGE_WEBHOOK_URL": forwarder.url(WEBHOOK_PATH),
                "SURGE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
            return [
                PeerWorker(w, port, python, env, self.dir / f"{w}.log")
                for w, port in zip(names, ports, strict=True)
            ]
        config = WorkerConfig(
            token=api.token,
            api_base_url=api.bot_base_url,
            redis_url=self.redis.url,
            key_secret=KEY_SECRET,
            webhook_secret=WEBHOOK_SECRET,
            webhook_url=forwarder.url(WEBHOOK_PATH),
            log_dir=self.dir,
        )
        early = self.args.early_answers
        return [
            BotWorker(w, port, config, early=early) for w, port in zip(names, ports, strict=True)
        ]

    async def _play(self, api: SurgeApi, kind: str, tally: Tally) -> tuple[Crowd, int]:
        args = self.args
        rng = random.Random(self.seed + 1)  # noqa: S311 - the same arrivals in every run
        timeout = args.peer_seconds if kind == "peer" else args.run_seconds
        crowd = Crowd(args.window, time.monotonic() + timeout, rng)
        think = tuple(args.think)
        if kind == "peer":
            people = [
                peer_person(api, p.user_id, self.scripts.get(p.user_id, DEFAULT_SCRIPT),
                            seed=s, reply_timeout=timeout, think=think)
                for p, s in zip(self.personas, self.person_seeds, strict=True)
            ]  # fmt: skip
        else:
            today = date.today()
            people = [
                bot_person(api, p, renderer=self.renderer, recognised=self.recognised,
                           tally=tally, seed=s, today=today, reply_timeout=timeout, think=think)
                for p, s in zip(self.personas, self.person_seeds, strict=True)
            ]  # fmt: skip
        watch = asyncio.create_task(self._watch(api, crowd))
        lag = asyncio.create_task(self._lag(api))
        try:
            cut = await crowd.run(people)
        finally:
            watch.cancel()
            lag.cancel()
        return crowd, cut

    async def _lag(self, api: SurgeApi) -> None:
        """Keep the fake's in-flight allowance at its own plus how late this event loop has
        run in the last second: the fake stamps requests on this loop, so a request can be
        stamped that much after it arrived."""
        recent: deque[float] = deque(maxlen=int(1 / LAG_TICK))
        while True:
            asked = time.monotonic() + LAG_TICK
            await asyncio.sleep(LAG_TICK)
            late = time.monotonic() - asked
            recent.append(late)
            self.max_lag = max(self.max_lag, late)
            api.flood.in_flight = IN_FLIGHT + max(recent)

    async def _watch(self, api: SurgeApi, crowd: Crowd) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(10)
            waiting = len(api.update_log)
            _err(
                f"surge:   {time.monotonic() - started:5.0f} s: {crowd.finished} people done,"
                f" {waiting} updates, {len(api.calls)} bot calls"
            )

    def _judge(self, row: Row, results: list[Any], codes: list[int | None],
               logs: dict[Path, int]) -> None:  # fmt: skip
        for result in results:
            if isinstance(result, BaseException):
                row.problems.append(f"driver crashed: {type(result).__name__}: {result}")
            elif isinstance(result, UserResult):
                if result.passed:
                    row.done += 1
                else:
                    row.problems.append(f"{result.user_id}: {result.wrong or result.problem}")
            elif result.completed:
                row.done += 1
            else:
                row.problems.append(f"{result.user_id}: {result.problem}")
        row.crashes = sum(1 for code in codes if code not in (0, None))
        row.crashes += sum(_errors(path, size) for path, size in logs.items())


def _spinner(api: SurgeApi) -> tuple[float, float]:
    """How long a pressed button kept spinning: from the press to the bot's answer to its
    callback query, p50 and p95."""
    waits = []
    for call in api.calls_for("answerCallbackQuery"):
        record = api.callbacks.get(str(call.params.get("callback_query_id")))
        if call.ok and record is not None:
            waits.append(call.t_monotonic - record.t_monotonic)
    return percentile(waits, 50), percentile(waits, 95)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


_ERRORS = (b"Traceback", b"Uncaught exception", b" ERROR ", b" CRITICAL ")


def _errors(path: Path, size: int) -> int:
    """Error lines a worker logged before the people stopped (a run cut off by its time
    limit stops workers with requests in flight, and those may fail as they are cut)."""
    if not path.exists():
        return 0
    with path.open("rb") as log:
        data = log.read(size)
    return sum(1 for line in data.splitlines() if any(marker in line for marker in _ERRORS))


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process, and of its ended children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _s(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _ratio(value: float) -> str:
    return f"{value:.1f}×" if math.isfinite(value) else "-"


def table(rows: list[Row]) -> None:
    head = (
        f"{'bot':<11}{'X':>4}{'w':>3}{'util':>6}{'sent/s':>8}{'429s':>7}{'viol':>6}{'pace':>6}"
        f"{'p50 s':>8}{'p95 s':>8}{'max s':>7}{'ideal p50/p95/max':>19}{'paced p50/p95':>15}"
        f"{'chat Σ':>8}{'done':>11}"
    )
    _out(head)
    for r in rows:
        f = r.figures
        util = "-" if f.utilisation is None else f"{f.utilisation:.2f}"
        ideal = f"{_s(f.p50_ideal)}/{_s(f.p95_ideal)}/{_s(f.max_ideal)}"
        _out(
            f"{r.kind:<11}{r.x:>4}{r.workers:>3}{util:>6}{f.delivered_per_s:>8.1f}"
            f"{100 * f.http_429_share:>6.1f}%{f.violations:>6}{f.pace_violations:>6}"
            f"{_s(f.p50):>8}{_s(f.p95):>8}{_s(f.max_wait):>7}{ideal:>19}"
            f"{_s(f.paced_p50) + '/' + _s(f.paced_p95):>15}{_s(f.longest_chat_total):>8}"
            f"{f'{r.done}/{r.people}':>11}"
        )
    _out()
    _out("ratios to the ideal FIFO wait (p50 / p95 / max):")
    for r in rows:
        f = r.figures
        _out(
            f"  {r.kind} X={r.x} workers={r.workers}: {_ratio(f.p50_ratio)} / {_ratio(f.p95_ratio)}"
            f" / {_ratio(f.max_ratio)}  (base {1000 * f.base:.0f} ms; {f.unanswered} unanswered,"
            f" {r.cut_off} cut off, {r.crashes} errors)"
        )
        _out(
            f"    {r.seconds:.0f} s; CPU: this process {r.cpu_self:.0f} s, workers and forwarder"
            f" {r.cpu_workers:.0f} s; load {r.load[0]:.1f} before, {r.load[1]:.1f} after;"
            f" this loop late by {1000 * r.max_lag:.0f} ms at worst; a pressed button spun"
            f" {_s(r.spinner[0])}/{_s(r.spinner[1])} s (p50/p95)"
        )
        for problem in r.problems[:3]:
            _out(f"    {problem}")


def _plot(rows: list[Row], data_path: Path, png: Path) -> Path | None:
    """Write the PNG with the plot venv's matplotlib (`make surge-plot`); None without it."""
    python = Path(os.environ.get("DECREEBOT_SURGE_PLOT_PYTHON", ROOT / ".venv/plot/bin/python"))
    if not python.exists():
        _err("plot left out: no plot venv (make surge-plot)")
        return None
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [str(python), "-m", "surge.plot", str(data_path), str(png)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        _err(f"plot failed: {done.stderr[-2000:]}")
        return None
    return png


def _data(rows: list[Row], surge: Surge) -> dict[str, Any]:
    return {
        "started": surge.stamp.strftime("%Y-%m-%d %H:%M UTC"),
        "people": surge.args.people,
        "window": surge.args.window,
        "runs": [
            {
                "kind": r.kind,
                "workers": r.workers,
                "x": r.x,
                "utilisation": r.figures.utilisation,
                "series": asdict(r.figures.series),
            }
            for r in rows
        ],
    }


async def _until_done_or_stopped(surge: Surge) -> None:
    task = asyncio.create_task(surge.main())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    await task


def _skip_sniffio() -> None:
    """httpcore 1.0 tries `import sniffio` for every request; it is not installed (anyio 4
    no longer needs it), and a failed import searches sys.path each time (about 1 ms). Marking
    it absent makes that import fail at once. This process only: the workers are measured
    as they are."""
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    _skip_sniffio()
    args = _parser().parse_args(argv)
    if args.quick:
        args.people = min(args.people, 200)
        args.window = min(args.window, 5.0)
        args.workers = [w for w in args.workers if w <= 2] or [1]
        args.run_seconds = min(args.run_seconds, 60.0)
        args.peer_seconds = min(args.peer_seconds, 40.0)
    surge = Surge(args)
    started = time.monotonic()
    try:
        asyncio.run(_until_done_or_stopped(surge))
    except asyncio.CancelledError:
        _err("surge: stopped before the end; workers and Redis were stopped")
        return 2
    rows = surge.rows
    _out()
    _out(
        f"surge {surge.stamp:%Y-%m-%d %H:%M UTC}, {platform.node()}, {os.cpu_count()} cores,"
        f" {args.people} people within {args.window:.0f} s, seed {surge.seed},"
        f" early answers {'on' if args.early_answers else 'off'},"
        f" {time.monotonic() - started:.0f} s in all"
    )
    table(rows)
    data_path = surge.dir / "surge.json"
    data_path.write_text(json.dumps(_data(rows, surge)))
    png = _plot(rows, data_path, args.plot or surge.dir / "surge.png")
    _out(f"plot: {png}" if png else "plot: none")
    runs = [r.json() for r in rows if r.kind == "decree-bot"]
    peers = [r.json() for r in rows if r.kind == "peer"]
    _out(json.dumps({"runs": runs, "peer_ptb_aioratelimiter": peers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
