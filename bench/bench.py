"""`make bench`: the real bot beside its peers, measured in one invocation.

Starts a private redis-server (or uses DECREEBOT_BENCH_REDIS_URL), then, in fresh
subprocesses and interleaved so machine noise spreads evenly over all of them:

* `bench.worker`: the real bot (build_application + prepare, RedisStore, our handlers) fed
  the project's own conversations as raw updates, Bot API faked at the request layer;
* the peer variants `b_ptb_redis_manual` and `c_aiogram_fsm_redis` of
  /work/shared/tools/peer_bench.py (same fake-API method, same machine, same Redis);
* a cold start: process start to the first update handled.

Prints a table and, as the last line, one JSON object. Goals (issue 7) and guards (issue 18)
are reported, never asserted.

Options: --reps N (default 3), --users N (people per pass, default 600),
--no-peers, --profile FILE (cProfile of our sequential pass, top entries on stderr).
Environment: DECREEBOT_BENCH_REDIS_URL (use this Redis instead of a private one; only our own
keys are deleted there), DECREEBOT_BENCH_PEER_PYTHON (interpreter with aiogram for the peers;
default .venv/peers/bin/python), DECREEBOT_BENCH_PEER_REDIS_URL (default: db 15 of the
private server; peer_bench flushes that database), DECREEBOT_BENCH_PEER_SCRIPT.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PEER_SCRIPT = Path(
    os.environ.get("DECREEBOT_BENCH_PEER_SCRIPT", "/work/shared/tools/peer_bench.py")
)
PEERS = {"b_ptb_redis_manual": "peer_ptb_redis", "c_aiogram_fsm_redis": "peer_aiogram_redis"}
COLD_STARTS = 5
SUBPROCESS_TIMEOUT = 240
#: Goals of issue 7 (measured and reported, never asserted).
GOALS = {
    "updates_per_s": 2500,
    "ratio_vs_ptb_redis": 1.5,
    "ratio_vs_aiogram_redis": 3.0,
    "p99_us": 1000,
    # the issue: "≤ 1.0 for answers" (presses of a question's buttons, typed answers)
    "redis_roundtrips_per_answer": 1.0,
    "redis_bytes_per_conversation": 150,
    "rss_mib": 60,
    "start_to_first_update_ms": 300,
}
#: Guards of issue 18 against regressions of the per-update cost (reported, never asserted):
#: the same run's ratio to the PTB+Redis peer, and our own figures.
GUARDS = {
    "ratio_vs_ptb_redis": 0.8,
    "redis_roundtrips_per_answer": 1.0,
    "redis_bytes_per_conversation": 300,
    "rss_mib": 80,
    "start_to_first_update_ms": 500,
}


@contextlib.contextmanager
def redis_url() -> Iterator[tuple[str, bool]]:
    """(url, private): DECREEBOT_BENCH_REDIS_URL, or a private redis-server for this run."""
    given = os.environ.get("DECREEBOT_BENCH_REDIS_URL")
    if given:
        yield given, False
        return
    from tests.redis_server import RedisServer  # noqa: PLC0415 - imports pytest: only if needed

    with RedisServer() as server:
        yield server.url, True


def with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def peer_python() -> str | None:
    """An interpreter that can run the peers (aiogram 3.31 needs pydantic < 2.14, we need
    >= 2.14, so they live in their own venv: `make bench-peers`)."""
    candidates = [
        os.environ.get("DECREEBOT_BENCH_PEER_PYTHON"),
        str(ROOT / ".venv" / "peers" / "bin" / "python"),
        sys.executable,
    ]
    for py in candidates:
        if py and Path(py).exists():
            probe = [py, "-c", "import aiogram, telegram, redis"]
            if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
                return py
    return None


def run_json(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    p = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    if p.returncode != 0:
        return {"failed": f"rc={p.returncode}: {p.stderr[-2000:]}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def cold_start(url: str) -> dict[str, Any]:
    """Process start -> first update handled (imports, build, initialize, prepare, /start)."""
    argv = [sys.executable, "-m", "bench.worker", "--redis", url, "--first-update"]
    run_json(argv)  # warm .pyc and page cache once
    ms, imports = [], []
    for _ in range(COLD_STARTS):
        t0 = time.time()
        o = run_json(argv)
        if "failed" in o:
            return o
        ms.append((o["t_done"] - t0) * 1e3)
        imports.append(o["import_s"] * 1e3)
    return {
        "ms": statistics.median(ms),
        "all_ms": [round(x) for x in ms],
        "import_ms": statistics.median(imports),
    }


def med(runs: list[dict[str, Any]], *path: str) -> float | None:
    vals = []
    for r in runs:
        v: Any = r
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            vals.append(v)
    return statistics.median(vals) if vals else None


def spread(runs: list[dict[str, Any]], key: str) -> str:
    vals = [r[key] for r in runs if key in r]
    return f"{min(vals):,.0f}–{max(vals):,.0f}" if vals else ""


def fmt(v: float | None, spec: str = ",.0f") -> str:
    return "–" if v is None else format(v, spec)


def run_all(a: argparse.Namespace, when: str) -> tuple[Any, ...]:
    """Cold start, then `reps` rounds of ours and the peers, interleaved."""
    py = None if a.no_peers else peer_python()
    if not a.no_peers and py is None:
        print("peers skipped: no interpreter with aiogram (make bench-peers)", file=sys.stderr)
    ours: list[dict[str, Any]] = []
    peers: dict[str, list[dict[str, Any]]] = {v: [] for v in PEERS}
    with redis_url() as (url, private):
        peer_url = os.environ.get("DECREEBOT_BENCH_PEER_REDIS_URL") or with_db(url, 15)
        if peer_url == url:
            raise SystemExit("the peers flush their database: give them another one")
        where = f"redis {'private ' if private else ''}{url}, peers on {peer_url}"
        print(f"# {when}, {where}", flush=True)
        cold = cold_start(url)
        print(f"cold start -> first update: {cold}", flush=True)
        for rep in range(a.reps):
            argv = [sys.executable, "-m", "bench.worker", "--redis", url, "--users", str(a.users)]
            if a.profile and rep == 0:
                argv += ["--profile", a.profile]
            o = run_json(argv)
            if "failed" in o:
                raise SystemExit(f"bench.worker failed: {o['failed']}")
            ours.append(o)
            print(
                f"rep{rep} ours: seq {o['updates_per_s']:,.0f}/s p50 {o['p50_us']:.0f}us "
                f"p99 {o['p99_us']:.0f}us conc {o['updates_per_s_concurrent']:,.0f}/s "
                f"rt/upd {o['redis_roundtrips_per_update']:.2f} "
                f"rt/answer {o['redis_roundtrips_per_answer']:.2f} rss {o['rss_mib']:.1f}MiB "
                f"(load {o['seq_loadavg_1min']}, cpu share {o['seq_cpu_share']})",
                flush=True,
            )
            for variant in PEERS if py else ():
                env = dict(os.environ, BENCH_REDIS_URL=peer_url)
                o = run_json([str(py), str(PEER_SCRIPT), "--variant", variant], env)
                peers[variant].append(o)
                if "failed" in o:
                    print(f"rep{rep} {variant}: FAILED {o['failed'][-300:]}", flush=True)
                    continue
                print(
                    f"rep{rep} {variant}: seq {o['seq_ups']:,.0f}/s p50 {o['p50_us']:.0f}us "
                    f"p99 {o['p99_us']:.0f}us conc {o['conc_ups']:,.0f}/s",
                    flush=True,
                )
    return cold, ours, {v: [r for r in rs if "failed" not in r] for v, rs in peers.items()}


def summarise(
    cold: dict[str, Any],
    ours: list[dict[str, Any]],
    peers: dict[str, list[dict[str, Any]]],
    when: str,
) -> dict[str, Any]:
    """The final JSON object: medians of the repetitions, same-run ratios, goals met and
    guards held."""
    ups = med(ours, "updates_per_s")
    b_ups = med(peers["b_ptb_redis_manual"], "seq_ups")
    c_ups = med(peers["c_aiogram_fsm_redis"], "seq_ups")
    result: dict[str, Any] = {
        "date": when,
        "updates_per_s": ups,
        "updates_per_s_concurrent": med(ours, "updates_per_s_concurrent"),
        "p50_us": med(ours, "p50_us"),
        "p99_us": med(ours, "p99_us"),
        "redis_roundtrips_per_update": med(ours, "redis_roundtrips_per_update"),
        "redis_roundtrips_per_answer": med(ours, "redis_roundtrips_per_answer"),
        "redis_state_roundtrips_per_update": med(ours, "redis_state_roundtrips_per_update"),
        "redis_pace_roundtrips_per_update": med(ours, "redis_pace_roundtrips_per_update"),
        "redis_commands_per_update": med(ours, "redis_commands_per_update"),
        "redis_bytes_per_conversation": med(ours, "state_memory", "scaled_probe_bytes_per_user"),
        "redis_bytes_per_conversation_workload_delta": med(
            ours, "state_memory", "used_memory_delta_per_user"
        ),
        "rss_mib": med(ours, "rss_mib"),
        "rss_after_setup_mib": med(ours, "rss_after_setup_mib"),
        "start_to_first_update_ms": cold.get("ms"),
        "peer_ptb_redis_updates_per_s": b_ups,
        "peer_aiogram_redis_updates_per_s": c_ups,
        "ratio_vs_ptb_redis": ups / b_ups if ups and b_ups else None,
        "ratio_vs_aiogram_redis": ups / c_ups if ups and c_ups else None,
        "updates_per_pass": ours[0]["updates"],
        "api_calls_per_update": ours[0]["api_calls_per_update"],
        "reps": len(ours),
    }
    for v, prefix in PEERS.items():
        rs = peers[v]
        result[f"{prefix}_p99_us"] = med(rs, "p99_us")
        result[f"{prefix}_bytes_per_conversation"] = med(
            rs, "state_memory", "scaled_probe_bytes_per_user"
        )
        result[f"{prefix}_rss_mib"] = med(rs, "peak_rss_mib")
    lower_is_better = {
        "p99_us",
        "redis_roundtrips_per_answer",
        "redis_bytes_per_conversation",
        "rss_mib",
        "start_to_first_update_ms",
    }
    for key, targets in (("goals_met", GOALS), ("guards_held", GUARDS)):
        met: dict[str, bool | None] = {}
        for k, goal in targets.items():
            v = result.get(k)
            met[k] = None if v is None else (v <= goal if k in lower_is_better else v >= goal)
        result[key] = met
    return result


_OURS_KEYS = {
    "seq": "updates_per_s",
    "conc": "updates_per_s_concurrent",
    "p50": "p50_us",
    "p99": "p99_us",
    "cmds": "redis_commands_per_update",
    "rss": "rss_mib",
    "rss0": "rss_after_setup_mib",
}
_PEER_KEYS = {
    "seq": "seq_ups",
    "conc": "conc_ups",
    "p50": "p50_us",
    "p99": "p99_us",
    "cmds": "redis_cmds_per_update",
    "rss": "peak_rss_mib",
    "rss0": "rss_after_setup_mib",
}


def print_table(
    cold: dict[str, Any],
    ours: list[dict[str, Any]],
    peers: dict[str, list[dict[str, Any]]],
    result: dict[str, Any],
) -> None:
    rows = [("decree-bot (ours)", ours, _OURS_KEYS)]
    rows += [(f"peer {v}", peers[v], _PEER_KEYS) for v in PEERS]
    print()
    print(
        "| variant | seq upd/s (median; min–max) | conc upd/s | p50 µs | p99 µs | Redis cmds/upd "
        "| Redis round trips/upd | Redis B/conversation (20k probe; workload Δ) "
        "| peak RSS MiB (after setup) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rs, k in rows:
        if not rs:
            print(f"| {name} | not run | | | | | | | |")
            continue
        rt = "–"
        if rs is ours:
            rt = (
                f"{fmt(med(rs, 'redis_roundtrips_per_update'), '.2f')} "
                f"(state {fmt(med(rs, 'redis_state_roundtrips_per_update'), '.2f')}, "
                f"pace {fmt(med(rs, 'redis_pace_roundtrips_per_update'), '.2f')}; "
                f"answers {fmt(med(rs, 'redis_roundtrips_per_answer'), '.2f')})"
            )
        mem_a = med(rs, "state_memory", "scaled_probe_bytes_per_user")
        mem_b = med(rs, "state_memory", "used_memory_delta_per_user")
        print(
            f"| {name} | **{fmt(med(rs, k['seq']))}** ({spread(rs, k['seq'])}) | "
            f"{fmt(med(rs, k['conc']))} | {fmt(med(rs, k['p50']))} | {fmt(med(rs, k['p99']))} | "
            f"{fmt(med(rs, k['cmds']), '.2f')} | {rt} | {fmt(mem_a)} ({fmt(mem_b)}) | "
            f"{fmt(med(rs, k['rss']), '.1f')} ({fmt(med(rs, k['rss0']), '.1f')}) |"
        )
    o0 = ours[0]
    sm = o0["state_memory"]
    print()
    print(
        f"ours: {o0['updates']} updates per pass (10 personas x 6 languages; outcomes "
        f"{o0['outcomes']}), {o0['api_calls_per_update']:.2f} Bot API calls/update, "
        f"Redis commands by type per update {o0['redis_commandstats_per_update']}"
    )
    print(f"ours: slowest 1% of updates by step (rep 0): {o0['slowest_1pct']}")
    print(
        f"ours: record {sm['record_bytes_median']:.0f} B median (max {sm['record_bytes_max']}), "
        f"key {sm['key_bytes']} B, MEMORY USAGE {sm['memory_usage_per_key_median']:.0f} B; "
        f"sample {sm['sample_record']}"
    )
    print(
        f"cold start -> first update: median {fmt(cold.get('ms'))} ms of {cold.get('all_ms')} "
        f"(imports {fmt(cold.get('import_ms'))} ms)"
    )
    print(
        "ratios (same run): ours/PTB+Redis "
        f"{fmt(result['ratio_vs_ptb_redis'], '.2f')}x, ours/aiogram FSM Redis "
        f"{fmt(result['ratio_vs_aiogram_redis'], '.2f')}x"
    )
    print("goals of issue 7 met: " + ", ".join(f"{k}={v}" for k, v in result["goals_met"].items()))
    held = result["guards_held"]
    print("guards of issue 18 held: " + ", ".join(f"{k}={v}" for k, v in held.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--users", type=int, default=600)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--profile")
    a = ap.parse_args()
    started = time.perf_counter()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cold, ours, peers = run_all(a, when)
    if a.profile:
        pstats.Stats(a.profile, stream=sys.stderr).sort_stats("tottime").print_stats(35)
    result = summarise(cold, ours, peers, when)
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    print_table(cold, ours, peers, result)
    rounded = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items()}
    print(json.dumps(rounded, ensure_ascii=False))


if __name__ == "__main__":
    main()
