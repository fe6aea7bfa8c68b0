"""The soak's table: the figures of one run, and `N passed, M failed` as its last line."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from soak.checks import LogScan, RedisScan
from soak.driver import Tally, UserResult

__all__ = ["Run", "report"]


@dataclass
class Run:
    """Everything the report needs."""

    started_at: str
    seed: int
    users: int
    concurrency: int
    duration: float = 0.0
    results: list[UserResult] = field(default_factory=list)
    unfinished: int = 0
    tally: Tally = field(default_factory=Tally)
    updates_sent: int = 0
    webhook_undelivered: int = 0
    violations: dict[str, int] = field(default_factory=dict)
    #: The fake's flood report: requests, 429s and their share, 429s by limit.
    flood: dict[str, float] = field(default_factory=dict)
    #: How late the soak's own event loop ran at worst (s): the fake's allowance for
    #: requests already on their way grows by it.
    max_lag: float = 0.0
    redis: RedisScan = field(default_factory=RedisScan)
    logs: LogScan = field(default_factory=LogScan)
    forgotten_left: int = 0
    forged_keys: int = 0
    worker_exits: list[str] = field(default_factory=list)
    unexpected_exits: int = 0
    events: list[str] = field(default_factory=list)
    failover: int = 0
    per_worker: dict[str, int] = field(default_factory=dict)
    burst: dict[str, object] = field(default_factory=dict)
    redis_restarts: int = 0
    kills: int = 0
    violation_samples: list[str] = field(default_factory=list)
    webhook_retries: int = 0
    cut_off: int = 0
    telegram_refusals: dict[str, int] = field(default_factory=dict)
    sends: int = 0
    edits: int = 0


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


Row = tuple[str, object, "bool | None"]


def _global_checks(run: Run) -> dict[str, bool]:
    logs, scan, burst = run.logs, run.redis, run.burst
    v = run.violations
    return {
        "crashes": _crashes(run) == 0,
        "pace violations": v.get("per_chat", 0)
        - v.get("per_chat_at_redis_restart", 0)
        + v.get("groups", 0)
        == 0,
        "sends during a known flood wait": v.get("in_flood_wait", 0) == 0,
        "keys without TTL": not scan.without_ttl,
        "raw ids in Redis": scan.ids_in_keys + scan.ids_in_values == 0,
        "raw ids or names in logs": logs.ids_found + logs.names_found == 0,
        "forgotten conversations left": run.forgotten_left == 0,
        "forged presses unanswered": burst.get("forged_unanswered", 0) == 0,
        "keys written for forged presses": run.forged_keys == 0,
        "webhook 5xx to malformed updates": burst.get("server_errors", 0) == 0,
    }


def _crashes(run: Run) -> int:
    logs = run.logs
    bad_exits = sum(1 for e in run.worker_exits if not e.endswith(": 0"))
    return (
        logs.tracebacks
        + logs.uncaught
        + logs.handler_errors
        + logs.error_lines
        + run.unexpected_exits
        + bad_exits
    )


def _people_rows(run: Run) -> list[Row]:
    results = run.results
    correct = sum(1 for r in results if r.correct)
    wrong = sum(1 for r in results if r.wrong)
    lost = sum(r.lost_updates for r in results)
    dups = sum(r.duplicate_replies for r in results)
    unfinished = run.unfinished + sum(1 for r in results if not r.completed)
    delay = max((r.max_delay for r in results), default=0.0)
    delays = sorted(d for r in results for d in r.delays)
    p50 = delays[len(delays) // 2] if delays else 0.0
    p95 = delays[int(len(delays) * 0.95)] if delays else 0.0
    return [
        ("users", run.users, None),
        ("people at once", run.concurrency, None),
        ("updates sent (all deliveries, faults included)", run.updates_sent, None),
        ("actions that needed a reply", run.tally.actions, None),
        ("messages the bot sent / edited", f"{run.sends}/{run.edits}", None),
        ("conversations completed correctly", correct, correct == run.users),
        ("wrong results", wrong, wrong == 0),
        ("lost updates (no reply when one was due)", lost, lost == 0),
        ("duplicate replies (more than one reply to one action)", dups, dups == 0),
        ("conversations not finished (stuck or out of time)", unfinished, unfinished == 0),
        ("crashes (tracebacks, uncaught, handler errors, bad exits)", _crashes(run), None),
        ("max reply delay", f"{delay:.2f} s", None),
        ("  reply delay: median / 95th percentile", f"{p50:.2f}/{p95:.2f} s", None),
    ]


def _system_rows(run: Run, checks: dict[str, bool]) -> list[Row]:
    v, scan, logs = run.violations, run.redis, run.logs
    limits = f"{v.get('per_chat', 0)}/{v.get('groups', 0)}"
    flood = run.flood
    by_limit = ", ".join(f"{k[4:]} {n}" for k, n in flood.items() if k.startswith("429_"))
    return [
        ("sends during a known flood wait (violations)", v.get("in_flood_wait", 0), None),
        ("  more within 2.5 s of a worker's kill or Redis's restart (not counted)",
         v.get("in_flood_wait_at_faults", 0), None),
        ("  the soak's event loop late by, at worst (added to the 50 ms allowance)",
         f"{1000 * run.max_lag:.0f} ms", None),
        ("pace violations (per chat/groups)", limits, None),
        ("429s received / share of sends (by limit)",
         f"{flood.get('http_429', 0)}/{flood.get('http_429_share', 0.0):.2%}"
         + (f" ({by_limit})" if by_limit else ""), None),
        ("  of the per-chat ones, within 1.1 s of the Redis restart",
         v.get("per_chat_at_redis_restart", 0), None),
        ("  edits faster than 1/s in one chat (not a violation)", v.get("per_chat_edits", 0), None),
        ("Redis keys at the end / without TTL", f"{scan.keys}/{len(scan.without_ttl)}", None),
        ("raw Telegram ids in Redis keys / values",
         f"{scan.ids_in_keys}/{scan.ids_in_values}", None),
        ("raw Telegram ids / names in worker logs", f"{logs.ids_found}/{logs.names_found}", None),
        ("worker log lines scanned (DEBUG)", logs.lines, None),
        ("forgotten conversations still in Redis", run.forgotten_left, None),
    ]  # fmt: skip


def _fault_rows(run: Run) -> list[Row]:
    t, burst, results = run.tally, run.burst, run.results
    return [
        ("faults: worker killed (SIGKILL) and restarted", run.kills, None),
        ("faults: Redis restarted (all answers lost)", run.redis_restarts, None),
        ("faults: Telegram answered 429 / 5xx (the bot sent again)",
         f"{run.telegram_refusals.get('429', 0)}/{run.telegram_refusals.get('5xx', 0)}", None),
        ("  people who saw the 'answers no longer stored' notice",
         sum(1 for r in results if r.saw_lost_notice), None),
        ("  people who saw an apology (store unavailable)",
         sum(1 for r in results if r.saw_apology), None),
        ("  an update twice across the Redis outage (its record was lost)",
         t.repeated_apologies, None),
        ("  people whose conversation the bot started afresh",
         sum(1 for r in results if r.restarted_by_bot), None),
        ("faults: double presses / same update delivered twice",
         f"{t.double_presses}/{t.duplicate_deliveries}", None),
        ("  the second press heard its question changed (answers were lost)",
         t.double_press_stale, None),
        ("  a reply shown again: its worker was killed before acknowledging",
         t.repeated_after_kill, None),
        ("faults: presses of old buttons", t.stale_presses, None),
        ("faults: malformed or forged updates / forged presses",
         f"{burst.get('sent', 0)}/{burst.get('forged_presses', 0)}", None),
        ("  forged presses unanswered / keys written for them",
         f"{burst.get('forged_unanswered', 0)}/{run.forged_keys}", None),
        ("  webhook 5xx to malformed updates", burst.get("server_errors", 0), None),
        ("  oversized body refused", burst.get("oversized_refused", "-"), None),
        ("habits: typed countries / backs / restarts / languages",
         f"{t.typed_countries}/{t.backs}/{t.restarts}/{t.language_changes}", None),
        ("habits: answers corrected at the review / why / forget",
         f"{t.reviews_corrected}/{t.whys}/{t.forgets}", None),
        ("deliveries the forwarder passed to the other worker", run.failover, None),
        ("  of them cut off mid-request by the kill",
         run.cut_off, None),
        ("webhook deliveries Telegram repeated (error or no answer in time)",
         run.webhook_retries, None),
        ("updates Telegram gave up on (webhook never took them)", run.webhook_undelivered, None),
        ("worker exit codes at the end", ", ".join(run.worker_exits), None),
    ]  # fmt: skip


def _details(run: Run) -> None:
    bad = [r for r in run.results if not r.passed][:10]
    for r in bad:
        what = r.wrong or r.problem or f"lost {r.lost_updates}, duplicates {r.duplicate_replies}"
        _out(f"  user {r.user_id}: {what}")
        for line in r.log[-6:]:
            _out(f"      {line}")
    if bad and bad[0].transcript:
        _out("  the first one's chat, as the person sees it (end):")
        for line in bad[0].transcript.splitlines()[-25:]:
            _out(f"    | {line[:160]}")
    for sample in run.violation_samples:
        _out(f"  rate: {sample}")
    for sample in run.logs.samples:
        _out(f"  log: {sample}")


def report(run: Run, log_dir: Path) -> int:
    """Print the table; return M: people who failed plus global checks that failed."""
    checks = _global_checks(run)
    _out()
    _out(f"soak run {run.started_at}, {run.duration:.1f} s, seed {run.seed}")
    _out(f"  logs: {log_dir}")
    for name, value, good in _people_rows(run) + _system_rows(run, checks) + _fault_rows(run):
        mark = "" if good is None else ("ok" if good else "FAIL")
        _out(f"  {name:<66} {value!s:>14}  {mark}".rstrip())
    for event in run.events:
        _out(f"  event {event}")
    _details(run)
    failed_checks = [name for name, good in checks.items() if not good]
    if failed_checks:
        _out(f"  failed global checks: {', '.join(failed_checks)}")
    passed = sum(1 for r in run.results if r.passed)
    failures = run.users - passed + len(failed_checks)
    _out(f"{passed} passed, {failures} failed")
    return failures
