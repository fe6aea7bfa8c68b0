"""Telegram's flood limits, enforced by the fake when asked (all off by default).

`Limits` says which: a hidden overall limit (messages a second for the whole bot, which the
bot is not told), one message a second per chat, twenty a minute per group, and whether a
request sent during a flood wait the bot was already told of is refused again. Each is a
sliding window over the times the fake accepted a message; beyond it the answer is 429 with
an integer `retry_after`, as Telegram's.

Every 429 with `retry_after` tells the bot "wait until T": for the whole bot (the overall
limit, or an injected fault without a chat) or for one chat (its pace). `FloodLedger` keeps
those announced waits and marks each limited request that arrives inside one as a violation
(`Call.in_flood`), whether or not enforcement is on, so tests and benchmarks can count them.
A request arriving within `in_flight` seconds of the announcement was already on its way
(sent before the bot could read the 429) and is not a violation.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fakebotapi._model import SEND_METHODS, ApiError, Call

__all__ = ["FloodLedger", "FloodReport", "FloodWaitError", "Limits", "flood_report"]

#: Why a request was answered 429 (`Call.limit`).
OVERALL, CHAT, GROUP, FLOOD, FAULT = "overall", "chat", "group", "flood", "fault"


@dataclass(frozen=True, slots=True)
class Limits:
    """Which flood limits the fake enforces; None (or False) leaves one off."""

    #: Accepted messages in any one second for the whole bot (the hidden limit X).
    overall_per_second: int | None = None
    #: Accepted messages in any one second per chat (Telegram: about 1).
    per_chat_per_second: int | None = None
    #: Accepted messages in any 60 seconds per group (negative chat id; Telegram: 20).
    group_per_minute: int | None = None
    #: Answer 429 again to a request sent during a flood wait the bot was told of.
    refuse_during_flood: bool = False
    #: Whom a 429 of the overall limit holds: "bot" (every chat: Telegram's overall flood
    #: wait) or "chat" (only the chat of the refused request, as if the bot could not tell).
    overall_holds: str = "bot"
    #: The methods these limits count ("messages"); edits are left out unless added.
    methods: frozenset[str] = SEND_METHODS

    @classmethod
    def telegram(cls, overall_per_second: int | None = 30, **changes: Any) -> Limits:
        """Every limit on, with Telegram's documented numbers and `overall_per_second` as X."""
        base = cls(
            overall_per_second=overall_per_second,
            per_chat_per_second=1,
            group_per_minute=20,
            refuse_during_flood=True,
        )
        return dataclasses.replace(base, **changes)


class FloodWaitError(ApiError):
    """A 429 with `retry_after`; `scope` is the chat it holds, or None for the whole bot."""

    def __init__(self, retry_after: int, scope: int | str | None, description: str | None = None):
        text = description or f"Too Many Requests: retry after {retry_after}"
        super().__init__(429, text, {"retry_after": retry_after})
        self.retry_after = retry_after
        self.scope = scope


def _retry_after(seconds: float) -> int:
    """Telegram's retry_after: whole seconds, at least one."""
    return max(1, math.ceil(seconds - 1e-9))


@dataclass(slots=True)
class _Window:
    """Accepted message times within `span` seconds, at most `limit` of them."""

    span: float
    limit: int
    times: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        """0.0 if one more may go now, else the seconds until one may."""
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[len(self.times) - self.limit] + self.span - now


class FloodLedger:
    """The announced flood waits and the accepted messages, for one bot."""

    def __init__(
        self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or Limits()
        #: The time a request is judged by when no time is given (tests may stop it).
        self.clock = clock
        #: Seconds after a wait is announced during which a request still counts as already
        #: on its way (sent before the bot could read the 429), not as a violation. A harness
        #: whose event loop runs late may raise it by that lag.
        self.in_flight = IN_FLIGHT
        self.reset()

    def reset(self) -> None:
        """Forget every announced wait and every accepted message (limits stay)."""
        self._holds: dict[int | str | None, _Hold] = {}  # None: the whole bot
        limits = self.limits
        self._overall = _Window(1.0, limits.overall_per_second or 0)
        self._chats: dict[int | str, _Window] = defaultdict(
            lambda: _Window(1.0, limits.per_chat_per_second or 0)
        )
        self._groups: dict[int | str, _Window] = defaultdict(
            lambda: _Window(60.0, limits.group_per_minute or 0)
        )

    def set_limits(self, limits: Limits) -> None:
        self.limits = limits
        self.reset()

    def limited(self, method: str) -> bool:
        return method in self.limits.methods

    def _hold(self, chat: int | str | None, now: float) -> tuple[int | str | None, _Hold] | None:
        """The announced wait this request falls in (the whole bot's first), if any."""
        for scope in (None, chat) if chat is not None else (None,):
            hold = self._holds.get(scope)
            if hold is not None and now < hold.until:
                return scope, hold
        return None

    def admit(self, call: Call, now: float | None = None) -> None:
        """Before a limited request is carried out: mark a violation, raise FloodWaitError
        when a limit refuses it. Windows are kept by the caller through `told` and `sent`."""
        now = self.clock() if now is None else now
        chat = call.chat_id
        held = self._hold(chat, now)
        if held is not None:
            scope, hold = held
            call.in_flood = now >= hold.since + self.in_flight
            if self.limits.refuse_during_flood and now < hold.enforced:
                call.limit = FLOOD
                raise FloodWaitError(_retry_after(hold.enforced - now), scope)
        limits = self.limits
        if limits.per_chat_per_second and chat is not None:
            wait = self._chats[chat].wait(now)
            if wait > 0:
                call.limit = CHAT
                raise FloodWaitError(_retry_after(wait), chat)
        if limits.group_per_minute and isinstance(chat, int) and chat < 0:
            wait = self._groups[chat].wait(now)
            if wait > 0:
                call.limit = GROUP
                raise FloodWaitError(_retry_after(wait), chat)
        if limits.overall_per_second:
            wait = self._overall.wait(now)
            if wait > 0:
                call.limit = OVERALL
                scope = chat if limits.overall_holds == "chat" else None
                raise FloodWaitError(_retry_after(wait), scope)

    def sent(self, call: Call, now: float | None = None) -> None:
        """A limited request was carried out: it counts in every window."""
        now = self.clock() if now is None else now
        chat = call.chat_id
        if self.limits.overall_per_second:
            self._overall.times.append(now)
        if chat is not None and self.limits.per_chat_per_second:
            self._chats[chat].times.append(now)
        if isinstance(chat, int) and chat < 0 and self.limits.group_per_minute:
            self._groups[chat].times.append(now)

    def told(self, call: Call, error: FloodWaitError, now: float | None = None) -> None:
        """The bot was answered 429 with retry_after: it now knows of this wait. A fresh
        limit (or an injected fault) is enforced for as long as it says; a refusal during a
        wait tells the bot a later end (whole seconds), which counts for violations only."""
        now = self.clock() if now is None else now
        if call.limit is None:
            call.limit = FAULT
        until = now + error.retry_after
        hold = self._holds.get(error.scope)
        if hold is None or now >= hold.until:
            hold = self._holds[error.scope] = _Hold(since=now, until=until, enforced=0.0)
        hold.until = max(hold.until, until)
        if call.limit != FLOOD:
            hold.enforced = max(hold.enforced, until)


#: See `FloodLedger.in_flight`.
IN_FLIGHT = 0.05


@dataclass(slots=True)
class _Hold:
    """One announced flood wait: since the first 429 of it, until the latest end told."""

    since: float
    until: float
    enforced: float  # the fake refuses requests until then (refuse_during_flood)


@dataclass(frozen=True, slots=True)
class FloodReport:
    """What the bot did with the limits, from the recorded calls (see `flood_report`)."""

    requests: int  # limited requests the bot made (attempts, answered or not)
    accepted: int
    http_429: int
    violations: int  # requests sent during a flood wait the bot had been told of
    pace_violations: int  # refused by a chat's or a group's pace (first offences)
    by_limit: dict[str, int]

    @property
    def http_429_share(self) -> float:
        return self.http_429 / self.requests if self.requests else 0.0


def flood_report(calls: Iterable[Call], methods: frozenset[str] = SEND_METHODS) -> FloodReport:
    """Count, over the calls of `methods`: attempts, accepted, 429s, violations (sent during
    an announced flood wait) and pace violations (refused for a chat's or group's pace)."""
    requests = accepted = http_429 = violations = pace = 0
    by_limit: dict[str, int] = defaultdict(int)
    for call in calls:
        if call.method not in methods:
            continue
        requests += 1
        accepted += call.ok
        http_429 += call.status == 429
        violations += call.in_flood
        if call.limit is not None:
            by_limit[call.limit] += 1
            pace += call.limit in (CHAT, GROUP)
    return FloodReport(requests, accepted, http_429, violations, pace, dict(by_limit))
