"""Counts without people: per organisation code and ISO week, how many conversations started,
results were shown, each outcome and each language of a result.

One Redis hash per (organisation, week), `dcb:s:<org>:<YYYY-Www>`, kept 400 days. Its
fields are the names in `FIELDS`, its values counts. Nothing in it names a chat, a person
or a moment finer than the week; the organisation is a code the operator listed, or
"none" / "unknown" (bot/organisations.py), so a made-up link cannot create keys.
`decree-bot stats` prints them, every count under 10 as "<10".
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from bot.conversation import Event, Restart, Start, State, Step, facts_of, unknown_of
from bot.conversation.state import LANGUAGES
from bot.organisations import Organisation, bucket
from rules import Finding, Outcome
from rules.possibilities import possibilities

if TYPE_CHECKING:
    from bot.storage.redis import AnyRedis

__all__ = [
    "FIELDS",
    "FLUSH_SECONDS",
    "OUTCOMES",
    "SHOWN_FROM",
    "STATS_PREFIX",
    "STATS_TTL",
    "Change",
    "Counting",
    "RedisCounts",
    "Tally",
    "as_json",
    "format_table",
    "masked",
    "outcome_of",
    "tally",
    "week_of",
]

logger = logging.getLogger(__name__)

STATS_PREFIX = "dcb:s:"
#: Counts are kept 400 days: a year of reports, and a little more.
STATS_TTL = 400 * 24 * 3600
#: Counts are added up in the process and written every this many seconds (and at exit): a
#: count is not worth a round trip of its own on a person's update.
FLUSH_SECONDS = 5.0
#: Counts below this are shown as "<10", so a small group cannot be picked out.
SHOWN_FROM = 10
OUTCOMES = (
    "affected_without_document",
    "affected_with_document",
    "not_affected",
    "unclear",
    "separate_rules",
)
#: Every field a hash can hold, in the order of the table.
FIELDS = (
    "started",
    "results",
    *(f"outcome:{o}" for o in OUTCOMES),
    *(f"lang:{lang}" for lang in LANGUAGES),
)
_WEEK = re.compile(r"^\d{4}-W\d{2}$")


def week_of(day: date) -> str:
    """The ISO week of a day, `YYYY-Www`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def outcome_of(finding: Finding, *, documents_unknown: bool = False) -> str:
    """The outcome's name in the counts. Affected, and it is not known whether a document
    meets it: "with a document" when one was named (its fit is uncertain), "unclear" when
    the person did not know about documents."""
    if finding.outcome is Outcome.AFFECTED:
        if finding.requirement_met is False:
            return "affected_without_document"
        if finding.requirement_met is None and documents_unknown:
            return "unclear"
        return "affected_with_document"
    return {
        Outcome.NOT_AFFECTED: "not_affected",
        Outcome.SEPARATE_RULES: "separate_rules",
    }.get(finding.outcome, "unclear")


@dataclass(frozen=True, slots=True)
class Change:
    """One applied event, as the service saw it: the state before and after."""

    old: State | None
    new: State | None
    event: Event
    today: date


@dataclass(frozen=True, slots=True)
class Tally:
    """What one change adds to the counts: under which organisation and week, which fields."""

    org: str
    week: str
    fields: tuple[str, ...]
    #: The result's outcome and language, when a result was shown (for metrics).
    outcome: str | None = None
    lang: str | None = None


def tally(change: Change, known: Mapping[str, Organisation]) -> Tally | None:
    """The counts one change adds, or None: a conversation starts with /start, "start over",
    or a first message when nothing is stored; a result is counted each time one is shown
    anew (not when the same result is shown again in another language)."""
    new, old = change.new, change.old
    if new is None:
        return None
    fields: list[str] = []
    if old is None or isinstance(change.event, Start | Restart):
        fields.append("started")
    outcome = lang = None
    if new.step is Step.RESULT and (old is None or old.step is not Step.RESULT):
        # The finding the result showed: with "I don't know" answers, the one all branches
        # share (else unclear).
        judged = possibilities(facts_of(new), unknown_of(new), on=change.today)
        outcome = outcome_of(judged.finding, documents_unknown="documents" in judged.unknown)
        lang = new.lang or "en"
        fields += ["results", f"outcome:{outcome}", f"lang:{lang}"]
    if not fields:
        return None
    return Tally(bucket(new.org, known), week_of(change.today), tuple(fields), outcome, lang)


class RedisCounts:
    """The counts in Redis, through a redis-py client of their own: one Redis, the master
    its Sentinels name, or a Cluster (`bot.compose.redis_client`), as the conversations."""

    def __init__(self, client: AnyRedis) -> None:
        self._redis = client

    @staticmethod
    def key(org: str, week: str) -> str:
        """The hash of one organisation and week."""
        return f"{STATS_PREFIX}{org}:{week}"

    async def add_up(self, sums: Mapping[tuple[str, str], Mapping[str, int]]) -> None:
        """Add each (organisation, week)'s sums, in one round trip; each hash is kept 400 days
        from its first count."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for (org, week), fields in sums.items():
                key = self.key(org, week)
                for field, n in fields.items():
                    pipe.hincrby(key, field, n)
                pipe.expire(key, STATS_TTL, nx=True)
            await pipe.execute()

    async def read(
        self, *, org: str | None = None, since: str | None = None
    ) -> dict[tuple[str, str], dict[str, int]]:
        """Every (organisation, week) hash, optionally one organisation's, from a week on."""
        pattern = f"{STATS_PREFIX}{org or '*'}:*"
        found: dict[tuple[str, str], dict[str, int]] = {}
        async for raw in self._redis.scan_iter(match=pattern, count=1000):
            name = _text(raw)
            code, _, week = name.removeprefix(STATS_PREFIX).rpartition(":")
            if not _WEEK.match(week) or (since is not None and week < since):
                continue
            values = await self._redis.hgetall(raw)
            found[(code, week)] = {_text(k): int(v) for k, v in values.items()}
        return dict(sorted(found.items()))

    async def close(self) -> None:
        """Close the connection."""
        await self._redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def masked(count: int) -> str:
    """A count as published: under `SHOWN_FROM` it is "<10"; zero is "0"."""
    if count == 0:
        return "0"
    return f"<{SHOWN_FROM}" if count < SHOWN_FROM else str(count)


def format_table(rows: Mapping[tuple[str, str], Mapping[str, int]]) -> str:
    """One line per organisation and week, one column per field; small counts masked."""
    header = ["org", "week", *(_short(f) for f in FIELDS)]
    lines = [header]
    for (org, week), counts in rows.items():
        lines.append([org, week, *(masked(counts.get(f, 0)) for f in FIELDS)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )


def as_json(rows: Mapping[tuple[str, str], Mapping[str, int]]) -> list[dict[str, object]]:
    """The same, for `--json`: masked counts as strings ("<10"), so nothing finer leaks."""
    return [
        {"org": org, "week": week, **{f: masked(counts.get(f, 0)) for f in FIELDS}}
        for (org, week), counts in rows.items()
    ]


def _short(field: str) -> str:
    return field.partition(":")[2] or field


class Counting:
    """The service's `on_change`: counts each change and tells the metrics; the counts are
    added up here and written to Redis (when kept) every `FLUSH_SECONDS` and at `close`.
    A failure to count never fails the person's update; counts not written are tried again
    at the next flush (a killed process loses its last seconds of counts)."""

    def __init__(
        self,
        known: Mapping[str, Organisation],
        counts: RedisCounts | None,
        also: Callable[[Tally], None] | None = None,
        on_error: Callable[[], None] | None = None,
        *,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self._known = dict(known)
        self._counts = counts
        self._also = also
        self._on_error = on_error
        self._flush_seconds = flush_seconds
        #: (organisation, week) -> field -> count, not yet written
        self._sums: dict[tuple[str, str], Counter[str]] = {}
        self._flushing: asyncio.TimerHandle | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._closed = False

    async def flush(self) -> None:
        """Write the counts added up so far (kept for the next flush if Redis fails)."""
        if self._counts is None or not self._sums:
            return
        sums, self._sums = self._sums, {}
        try:
            await self._counts.add_up(sums)
        except (RedisError, OSError) as exc:
            logger.warning("counts not kept yet: %s", type(exc).__name__)
            if self._on_error is not None:
                self._on_error()
            for key, fields in sums.items():
                self._sums.setdefault(key, Counter()).update(fields)

    async def close(self) -> None:
        """Write what is left, and close the connection (nothing is written after this)."""
        self._closed = True
        if self._flushing is not None:
            self._flushing.cancel()
            self._flushing = None
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.flush()
        if self._counts is not None:
            await self._counts.close()

    def _flush_soon(self) -> None:
        if self._flushing is None and not self._closed:
            self._flushing = asyncio.get_running_loop().call_later(
                self._flush_seconds, self._flush_now
            )

    def _flush_now(self) -> None:
        self._flushing = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._pending.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if self._sums:  # counted meanwhile, or not kept: again later
            self._flush_soon()

    async def __call__(
        self, old: State | None, new: State | None, event: Event, today: date
    ) -> None:
        try:
            counted = tally(Change(old, new, event, today), self._known)
        except Exception as exc:  # a count is never worth a person's update
            logger.warning("not counted: %s", type(exc).__name__)
            return
        if counted is None:
            return
        if self._also is not None:
            self._also(counted)
        if self._counts is None:
            return
        self._sums.setdefault((counted.org, counted.week), Counter()).update(counted.fields)
        self._flush_soon()
