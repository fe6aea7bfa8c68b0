"""Counts without people (bot/stats.py) and each organisation's legal help first.

The counts are one Redis hash per (organisation, ISO week), with the fields of `FIELDS`
only, kept 400 days; the organisation is a listed code, "none" or "unknown".
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.compose import build_parts, redis_client
from bot.config import Settings
from bot.conversation import (
    Answer,
    Event,
    Nav,
    Restart,
    SetLanguage,
    Start,
    Step,
    transition,
)
from bot.conversation.replies import Ext
from bot.i18n import load_catalogs
from bot.messages import LEGAL_HELP_LANGUAGES, LEGAL_HELP_NONE
from bot.operator_texts import OperatorTexts
from bot.organisations import Organisation, load_organisations
from bot.service import ChatService, Delivery
from bot.stats import (
    FIELDS,
    STATS_PREFIX,
    STATS_TTL,
    Change,
    Counting,
    RedisCounts,
    Tally,
    format_table,
    masked,
    tally,
    week_of,
)
from bot.storage import MemoryStore
from tests.adapters.telegram_harness import RunningBot, press, running_bot
from tests.conftest import TODAY
from tests.redis_server import (
    SENTINEL_SERVICE,
    RedisCluster,
    RedisSentinels,
    all_keys_with_ttl,
    redis_client_for,
)

ROOT = Path(__file__).resolve().parents[1]
KNOWN = {
    "ngo1": Organisation("ngo1", "Hamdili", ("tg", "ru"), {"tg": "Tel. +7 900 000-00-01"}),
}
_ANSWERS = [
    ("sex", "male"),
    ("age_band", "18_to_65"),
    ("citizenship", "TJ"),
    ("application", "residence_permit"),
    ("grounds", "long_residence"),
    ("documents", "none"),
]
HELP_FILE = """
[ru]
text = "Общая линия: +7 000 000-00-00"

[tg]
text = "Хатти умумӣ: +7 000 000-00-00"

[org.ngo1]
name = "Ҳамдилӣ"
languages = ["tg", "ru"]
[org.ngo1.tg]
text = "Ҳуқуқшинос: +7 900 000-00-01"
"""


# --- what one change adds ------------------------------------------------------------------


def _run(payload: str, answers: list[tuple[str, str]]) -> list[Change]:
    """The changes of a conversation by the engine, as the service would report them."""
    start = Start(payload=payload)
    result = transition(None, start, today=TODAY)
    changes = [Change(None, result.state, start, TODAY)]
    for field, value in answers:
        old = result.state
        assert old is not None
        event: Event = Answer(old.turn, field, value)
        result = transition(old, event, today=TODAY)
        changes.append(Change(old, result.state, event, TODAY))
    return changes


def _tallies(payload: str, answers: list[tuple[str, str]]) -> list[Tally]:
    return [t for c in _run(payload, answers) if (t := tally(c, KNOWN)) is not None]


def test_a_conversation_counts_its_start_and_its_result() -> None:
    tallies = _tallies("tg-self-ngo1", _ANSWERS)
    assert tallies[0].fields == ("started",)
    # Six answers: the review comes first, so the result is not shown yet.
    assert len(tallies) == 1
    state = _run("tg-self-ngo1", _ANSWERS)[-1].new
    assert state is not None
    assert state.step is Step.REVIEW
    shown = transition(state, Nav("result"), today=TODAY)
    counted = tally(Change(state, shown.state, Nav("result"), TODAY), KNOWN)
    assert counted == Tally(
        "ngo1",
        week_of(TODAY),
        ("results", "outcome:affected_without_document", "lang:tg"),
        "affected_without_document",
        "tg",
    )


def test_a_woman_is_counted_as_not_affected_in_one_answer() -> None:
    tallies = _tallies("ru-self", [("sex", "female")])
    assert tallies[-1].fields == ("results", "outcome:not_affected", "lang:ru")
    assert tallies[-1].org == "none"


def test_an_unlisted_code_is_counted_as_unknown_and_none_as_none() -> None:
    assert _tallies("ru-self-madeup", [])[0].org == "unknown"
    assert _tallies("ru-self", [])[0].org == "none"
    assert _tallies("ru-self-ngo1", [])[0].org == "ngo1"


def test_the_same_result_shown_again_is_not_counted_again() -> None:
    state = _run("ru-self", [("sex", "female")])[-1].new
    assert state is not None
    assert state.step is Step.RESULT
    again = transition(state, SetLanguage("tg"), today=TODAY)
    assert tally(Change(state, again.state, SetLanguage("tg"), TODAY), KNOWN) is None
    restarted = transition(state, Restart(), today=TODAY)
    counted = tally(Change(state, restarted.state, Restart(), TODAY), KNOWN)
    assert counted is not None
    assert counted.fields == ("started",)


def test_nothing_kept_means_nothing_counted() -> None:
    assert tally(Change(None, None, Start(), TODAY), KNOWN) is None


def test_iso_week() -> None:
    assert week_of(date(2026, 1, 1)) == "2026-W01"
    assert week_of(date(2027, 1, 1)) == "2026-W53"
    assert week_of(date(2026, 11, 25)) == "2026-W48"


def test_small_counts_are_masked() -> None:
    assert [masked(n) for n in (0, 1, 9, 10, 11)] == ["0", "<10", "<10", "10", "11"]
    table = format_table({("ngo1", "2026-W48"): {"started": 12, "results": 3}})
    header, row = table.splitlines()
    assert header.split()[:4] == ["org", "week", "started", "results"]
    assert row.split()[:4] == ["ngo1", "2026-W48", "12", "<10"]
    assert " 3 " not in f" {row} "


async def test_a_failure_to_count_never_fails_the_update() -> None:
    errors: list[int] = []
    counting = Counting(
        KNOWN,
        RedisCounts(redis_client_for("redis://127.0.0.1:1/0")),
        on_error=lambda: errors.append(1),
    )
    service = ChatService(store=MemoryStore(ttl_seconds=60), ttl_seconds=60, on_change=counting)
    handled = await service.handle(
        "k", Start(payload="ru-self"), Delivery(update_id=1), today=TODAY
    )
    assert handled.replies
    assert not handled.unavailable
    assert errors == []  # added up, not written yet
    await counting.close()  # the write fails: counted as an error, never raised
    assert errors == [1]


# --- in Redis ------------------------------------------------------------------------------


@pytest.mark.redis
async def test_counts_are_one_hash_per_org_and_week_kept_400_days(redis_url: str) -> None:
    counts = RedisCounts(redis_client_for(redis_url))
    try:
        for _ in range(11):
            await counts.add_up({("ngo1", "2026-W48"): {"started": 1}})
        await counts.add_up({("none", "2026-W49"): {"started": 1, "results": 1, "lang:ru": 1}})
        rows = await counts.read()
        assert rows == {
            ("ngo1", "2026-W48"): {"started": 11},
            ("none", "2026-W49"): {"started": 1, "results": 1, "lang:ru": 1},
        }
        assert await counts.read(org="ngo1") == {("ngo1", "2026-W48"): {"started": 11}}
        assert list(await counts.read(since="2026-W49")) == [("none", "2026-W49")]
    finally:
        await counts.close()
    keys = all_keys_with_ttl(redis_url, counts=True)
    assert set(keys) == {f"{STATS_PREFIX}ngo1:2026-W48", f"{STATS_PREFIX}none:2026-W49"}
    assert all((STATS_TTL - 60) * 1000 < ttl <= STATS_TTL * 1000 for ttl in keys.values())


@pytest.mark.redis
async def test_counts_are_added_up_and_written_together_then_again_after_a_failure(
    redis_url: str,
) -> None:
    """Many people's changes cost one write every few seconds, not a round trip each; counts
    that could not be written are written at the next flush."""
    counts, errors = RedisCounts(redis_client_for(redis_url)), []
    counting = Counting(KNOWN, counts, on_error=lambda: errors.append(1), flush_seconds=0.2)
    service = ChatService(store=MemoryStore(ttl_seconds=60), ttl_seconds=60, on_change=counting)
    for chat in range(12):
        await service.handle(
            f"k{chat}", Start(payload="ru-self-ngo1"), Delivery(update_id=1), today=TODAY
        )
    key = f"{STATS_PREFIX}ngo1:{week_of(TODAY)}"
    client = redis.Redis.from_url(redis_url)
    assert client.hgetall(key) == {}  # nothing written on the people's updates
    for _ in range(100):
        if client.hgetall(key):
            break
        await asyncio.sleep(0.05)
    assert client.hgetall(key) == {b"started": b"12"}
    client.config_set("maxmemory", "1")  # writes refused for a moment (OOM)
    client.config_set("maxmemory-policy", "noeviction")
    await service.handle("k99", Start(payload="ru-self-ngo1"), Delivery(update_id=1), today=TODAY)
    await counting.flush()  # refused: kept for the next flush
    assert errors == [1]
    client.config_set("maxmemory", "0")
    await counting.close()
    assert client.hgetall(key) == {b"started": b"13"}
    client.close()


# --- end to end: legal help first, counts, and `decree-bot stats` ---------------------------


_PATH = [f"{f}={v}" for f, v in _ANSWERS] + ["nav:result"]


async def _to_result(bot: RunningBot, user_id: int, payload: str, language: str) -> str:
    user = bot.api.user(user_id=user_id, language_code=language)
    await user.send_command("/start", payload=payload)
    await user.wait_reply()
    for suffix in _PATH:
        await press(user, suffix)
    last = user.chat.last_bot_message
    assert last is not None
    return last.text


@pytest.mark.redis
async def test_ngo_link_shows_its_contacts_first_and_is_counted(
    redis_url: str, tmp_path: Path
) -> None:
    """People by ngo1's link, by a made-up code and by no code reach their results; the
    first sees ngo1's contacts before the general ones; the counts name no one."""
    helpfile = tmp_path / "help.toml"
    helpfile.write_text(HELP_FILE, encoding="utf-8")
    async with running_bot("polling", redis_url, legal_help_file=helpfile) as bot:
        ngo = await _to_result(bot, 9101, "tg-self-ngo1", "tg")
        madeup = await _to_result(bot, 9102, "tg-self-madeup", "tg")
        plain = await _to_result(bot, 9103, "ru-self", "ru")
    catalogs = load_catalogs()
    assert "Ҳамдилӣ" in ngo
    assert ngo.index("Ҳуқуқшинос: +7 900 000-00-01") < ngo.index("Хатти умумӣ")
    assert catalogs["tg"].gettext(LEGAL_HELP_LANGUAGES).format(languages="Тоҷикӣ, Русский") in ngo
    assert "Ҳамдилӣ" not in madeup
    assert "Хатти умумӣ" in madeup
    assert "Общая линия" in plain

    week = week_of(date.today())
    keys = all_keys_with_ttl(redis_url, counts=True)
    counted = {k: v for k, v in keys.items() if k.startswith(STATS_PREFIX)}
    assert set(counted) == {f"{STATS_PREFIX}{org}:{week}" for org in ("ngo1", "unknown", "none")}
    client = redis.Redis.from_url(redis_url)
    for key in counted:
        fields = {f.decode() for f in client.hgetall(key)}
        assert fields <= set(FIELDS)
        for user_id in ("9101", "9102", "9103"):
            assert user_id not in key
    assert client.hgetall(f"{STATS_PREFIX}ngo1:{week}") == {
        b"started": b"1",
        b"results": b"1",
        b"outcome:affected_without_document": b"1",
        b"lang:tg": b"1",
    }
    client.close()

    done = await asyncio.to_thread(_stats, redis_url, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    assert re.match(rf"ngo1\s+{week}\s+<10\s+<10\s+<10\s+0", lines[1])
    assert not re.search(r"\s1(\s|$)", done.stdout)  # every 1 is shown as <10
    one = await asyncio.to_thread(
        _stats, redis_url, tmp_path, "--org", "ngo1", "--since", week, "--json"
    )
    rows = json.loads(one.stdout)
    assert [(r["org"], r["week"], r["started"], r["lang:tg"]) for r in rows] == [
        ("ngo1", week, "<10", "<10")
    ]


@pytest.mark.redis
@pytest.mark.parametrize("topology", ["cluster", "sentinel"])
async def test_counts_go_where_the_conversations_are_on_a_cluster_or_sentinels(
    topology: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """With a Cluster or Sentinels the counts use the bot's own client for them, not a plain
    connection to the URL (which names no node under Sentinel, and one node of a Cluster)."""
    helpfile = tmp_path / "help.toml"
    helpfile.write_text(HELP_FILE, encoding="utf-8")
    secret = "k" * 40
    if topology == "cluster":
        cluster: RedisCluster = request.getfixturevalue("redis_cluster")
        cluster.flush()
        settings = Settings(
            redis_url=cluster.url, redis_cluster=True, key_secret=secret,
            legal_help_file=helpfile, _env_file=None,  # type: ignore[call-arg]
        )  # fmt: skip
        admin: Any = redis.RedisCluster.from_url(cluster.url)
    else:
        sentinels: RedisSentinels = request.getfixturevalue("redis_sentinel")
        sentinels.flush()
        settings = Settings(
            redis_url="redis://", redis_sentinels=sentinels.addresses,
            redis_sentinel_service=SENTINEL_SERVICE, key_secret=secret,
            legal_help_file=helpfile, _env_file=None,  # type: ignore[call-arg]
        )  # fmt: skip
        admin = redis.Redis.from_url(sentinels.master_url())
    parts = build_parts(settings, warn_memory=False)
    assert parts.counting is not None
    try:
        for chat in range(3):  # three people, in keys of different slots on a Cluster
            await parts.service.handle(
                f"k{chat}", Start(payload="ru-self-ngo1"), Delivery(update_id=1), today=TODAY
            )
    finally:
        await parts.counting.close()
        await parts.store.close()
    week = week_of(TODAY)
    assert admin.hgetall(f"{STATS_PREFIX}ngo1:{week}") == {b"started": b"3"}
    admin.close()
    counts = RedisCounts(redis_client(settings))  # as `decree-bot stats` reads them
    try:
        assert await counts.read() == {("ngo1", week): {"started": 3}}
    finally:
        await counts.close()


def _stats(redis_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`decree-bot stats` as an operator runs it, on this Redis."""
    env = {**os.environ, "DECREEBOT_REDIS_URL": redis_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", "stats", *args],
        cwd=cwd, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_stats_refuses_a_week_that_is_not_iso() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--since", "2026-48"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "ISO week" in done.stderr


# --- operator texts ------------------------------------------------------------------------


def test_legal_help_of_an_organisation_then_the_general_one(tmp_path: Path) -> None:
    helpfile = tmp_path / "help.toml"
    helpfile.write_text(HELP_FILE, encoding="utf-8")
    organisations = load_organisations(helpfile, ("ru", "tg", "uz", "uz_Cyrl", "az", "en"))
    catalogs = load_catalogs()
    texts = OperatorTexts(
        bot_username=lambda: "b",
        ttl_seconds=1800,
        legal_help={"tg": "general tg"},
        no_legal_help=lambda lang: catalogs[lang].gettext(LEGAL_HELP_NONE),
        organisations=organisations,
        served_in=lambda lang: catalogs[lang].gettext(LEGAL_HELP_LANGUAGES),
    )
    tg = texts(Ext("legal_help", "ngo1").key, "tg")
    assert tg.startswith("• Ҳамдилӣ\nҲуқуқшинос: +7 900 000-00-01\n")
    assert tg.endswith("\n\ngeneral tg")
    # Russian: ngo1 wrote Tajik contacts only; they are shown, and no general text follows,
    # so "no organisations are listed" is not said under them.
    ru = texts(Ext("legal_help", "ngo1").key, "ru")
    assert "Ҳуқуқшинос" in ru
    assert catalogs["ru"].gettext(LEGAL_HELP_NONE) not in ru
    assert texts(Ext("legal_help", "other").key, "tg") == "general tg"
    assert texts(Ext("legal_help").key, "ru") == catalogs["ru"].gettext(LEGAL_HELP_NONE)


def test_organisation_codes_follow_the_link_rule(tmp_path: Path) -> None:
    helpfile = tmp_path / "help.toml"
    helpfile.write_text('[org."a-b"]\nname = "x"\n[org."a-b".ru]\ntext = "y"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="letters and digits"):
        load_organisations(helpfile, ("ru",))


def test_a_result_with_an_unknown_answer_is_counted_by_its_shared_finding() -> None:
    """A relative who does not know about the documents: the result has branches; it is
    counted once: affected, but whether a document meets it is not known, so unclear."""
    answers = [*_ANSWERS[:-1], ("documents", "unknown")]
    state = _run("tg-relative-ngo1", answers)[-1].new
    assert state is not None
    assert state.answers.get("documents") == "unknown"
    shown = transition(state, Nav("result"), today=TODAY)
    assert shown.state is not None
    assert shown.state.step is Step.RESULT
    counted = tally(Change(state, shown.state, Nav("result"), TODAY), KNOWN)
    assert counted is not None
    assert counted.fields[0] == "results"
    assert counted.fields == ("results", "outcome:unclear", "lang:tg")
