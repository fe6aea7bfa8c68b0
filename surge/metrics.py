"""The surge's figures, computed from what the fake Bot API recorded (pure functions).

An *action* is one update a person caused (a command, a text, a press) with the replies the
bot made in that person's chat before their next action. Its *wait* runs from the update to
the first reply (a new message or an edit); a *paced* action is one whose replies include a
message that counts against the limits (a new message; edits too when they are limited).

* **Utilisation**: in one-second bins, the limited messages delivered, over what could have
  been delivered: min(X, the chats waiting for such a message in that second), since each
  chat takes at most one a second. A chat counts in a bin when it was waiting at the bin's
  start, or came and got its message within the bin; so a reply that simply took a few
  milliseconds costs nothing, and one that waited through a second that had room does.
* **Ideal FIFO wait**: the same actions served by a perfect bot on this machine. Each reply
  needs `base` seconds (the run's 10th percentile wait: what a reply takes when nothing
  holds it), and the limited messages go out in order of arrival, at most one in each
  1/X of a second and one a second per chat. Unpaced replies wait only `base`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from fakebotapi import Call

__all__ = [
    "Action",
    "Figures",
    "Series",
    "figures",
    "ideal_waits",
    "pair",
    "percentile",
    "scripts",
    "utilisation",
]

#: Calls that show the person something.
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})
BIN = 1.0  # seconds: the pace of one chat


@dataclass(slots=True)
class Action:
    """One update and the replies to it."""

    chat: int
    t: float
    reply: float | None = None  # the first reply (None: none came)
    first_method: str | None = None
    first_limited: bool = False
    limited: list[float] = field(default_factory=list)  # accepted limited replies

    @property
    def wait(self) -> float | None:
        return None if self.reply is None else self.reply - self.t


def pair(
    updates: Iterable[tuple[int, float]], calls: Iterable[Call], limited: frozenset[str]
) -> list[Action]:
    """Actions from the updates (chat, time) and the bot's accepted replies: each reply
    belongs to the chat's latest update before it (people wait for a reply before acting)."""
    by_chat: dict[int, list[Action]] = defaultdict(list)
    for chat, t in sorted(updates, key=lambda u: u[1]):
        by_chat[chat].append(Action(chat, t))
    for call in sorted(calls, key=lambda c: c.t_monotonic):
        if not call.ok or call.method not in REPLY_METHODS or not isinstance(call.chat_id, int):
            continue
        actions = by_chat.get(call.chat_id)
        if not actions:
            continue
        owner = _latest_before(actions, call.t_monotonic)
        if owner is None:
            continue
        is_limited = call.method in limited
        if owner.reply is None:
            owner.reply, owner.first_method = call.t_monotonic, call.method
            owner.first_limited = is_limited
        if is_limited:
            owner.limited.append(call.t_monotonic)
    return sorted((a for actions in by_chat.values() for a in actions), key=lambda a: a.t)


def _latest_before(actions: list[Action], t: float) -> Action | None:
    lo, hi = 0, len(actions)
    while lo < hi:
        mid = (lo + hi) // 2
        if actions[mid].t <= t:
            lo = mid + 1
        else:
            hi = mid
    return actions[lo - 1] if lo else None


def scripts(actions: Iterable[Action]) -> dict[int, tuple[str, ...]]:
    """Each chat's conversation as the kinds of its first replies: "send" or "edit"."""
    found: dict[int, list[str]] = defaultdict(list)
    for action in actions:
        if action.first_method is not None:
            found[action.chat].append("send" if action.first_method == "sendMessage" else "edit")
    return {chat: tuple(kinds) for chat, kinds in found.items()}


def utilisation(actions: Sequence[Action], x: int | None, t0: float) -> float | None:
    """Delivered limited messages over what the limits allowed while chats waited for one;
    None when nobody waited for one."""
    waiting: dict[int, set[int]] = defaultdict(set)  # bin -> chats
    delivered: dict[int, int] = defaultdict(int)
    for action in actions:
        if not action.limited:
            continue
        end = action.limited[-1]
        for t in action.limited:
            delivered[int((t - t0) // BIN)] += 1
        first = int((action.t - t0) // BIN)
        last = int((end - t0) // BIN)
        if first == last:
            waiting[first].add(action.chat)
        for b in range(first + 1, last + 1):  # waiting at these bins' starts
            waiting[b].add(action.chat)
    capacity = sum(min(x or math.inf, len(chats)) for chats in waiting.values())
    if not capacity:
        return None
    return sum(delivered[b] for b in waiting) / capacity


class _Slots:
    """Send slots of 1/X seconds after t0, taken first come, first served."""

    def __init__(self, x: int | None, t0: float) -> None:
        self.x, self.t0 = x, t0
        self._next: dict[int, int] = {}  # taken slot -> a later slot to look at

    def take(self, earliest: float) -> float:
        if not self.x:
            return earliest
        # Each 1/X of a second carries one message: the one containing `earliest`, or later.
        k = max(0, math.floor((earliest - self.t0) * self.x))
        path = []
        while k in self._next:
            path.append(k)
            k = self._next[k]
        for p in path:  # path compression: the next search jumps straight here
            self._next[p] = k
        self._next[k] = k + 1
        return max(earliest, self.t0 + k / self.x)


def ideal_waits(actions: Sequence[Action], x: int | None, base: float) -> list[float]:
    """Each action's wait (in `actions`' order) with a perfect FIFO bot at rate X."""
    if not actions:
        return []
    slots = _Slots(x, actions[0].t)
    chat_free: dict[int, float] = {}
    waits = []
    for action in actions:
        wait = base
        for i, _ in enumerate(action.limited):
            earliest = max(action.t + base, chat_free.get(action.chat, 0.0))
            sent = slots.take(earliest)
            chat_free[action.chat] = sent + BIN
            if i == 0 and action.first_limited:
                wait = sent - action.t
        waits.append(wait)
    return waits


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


@dataclass(slots=True)
class Series:
    """Per second from the first update, for the plot."""

    sends: list[int]
    edits: list[int]
    refused: list[int]
    waiting: list[int]  # people waiting for a reply, at the second's start
    waiting_paced: list[int]  # ... for a limited message


@dataclass(slots=True)
class Figures:
    """One run's figures."""

    people: int
    actions: int
    unanswered: int
    duration: float
    requests: int
    accepted: int
    http_429: int
    violations: int
    pace_violations: int
    utilisation: float | None
    base: float
    p50: float
    p95: float
    max_wait: float
    p50_ideal: float
    p95_ideal: float
    max_ideal: float
    paced_p50: float
    paced_p95: float
    longest_chat_total: float
    delivered_per_s: float
    series: Series

    @property
    def http_429_share(self) -> float:
        return self.http_429 / self.requests if self.requests else 0.0

    @property
    def p50_ratio(self) -> float:
        return _ratio(self.p50, self.p50_ideal)

    @property
    def p95_ratio(self) -> float:
        return _ratio(self.p95, self.p95_ideal)

    @property
    def max_ratio(self) -> float:
        return _ratio(self.max_wait, self.max_ideal)


def _series(actions: Sequence[Action], calls: Sequence[Call], limited: frozenset[str], t0: float,
            end: float) -> Series:  # fmt: skip
    n = max(1, math.ceil((end - t0) / BIN))
    sends, edits, refused = [0] * n, [0] * n, [0] * n
    for call in calls:
        b = int((call.t_monotonic - t0) // BIN)
        if not 0 <= b < n:
            continue
        if call.method in limited:
            if call.ok:
                sends[b] += 1
            elif call.status == 429:
                refused[b] += 1
        elif call.ok and call.method in REPLY_METHODS:
            edits[b] += 1
    waiting, paced = [0] * n, [0] * n
    for action in actions:
        stop = action.reply if action.reply is not None else end
        first = max(0, math.ceil((action.t - t0) / BIN))
        for b in range(first, min(n, math.ceil((stop - t0) / BIN))):
            waiting[b] += 1
        if action.limited:
            for b in range(first, min(n, math.ceil((action.limited[-1] - t0) / BIN))):
                paced[b] += 1
    return Series(sends, edits, refused, waiting, paced)


def figures(
    updates: Sequence[tuple[int, float]],
    calls: Sequence[Call],
    *,
    x: int | None,
    limited: frozenset[str],
    stopped: float | None = None,
) -> Figures:
    """Everything the surge prints about one run. An action still unanswered when the people
    were `stopped` (the run's time limit) counts with the time it had waited by then, and
    needs no more than `base` in the ideal."""
    actions = pair(updates, calls, limited)
    t0 = actions[0].t if actions else 0.0
    end = max([c.t_done or c.t_monotonic for c in calls] + [a.t for a in actions] + [t0])
    stopped = end if stopped is None else stopped
    answered = [a for a in actions if a.wait is not None]
    waits = [a.wait for a in answered if a.wait is not None]
    base = max(0.005, percentile(waits, 10))
    ideal = ideal_waits(answered, x, base)
    paced = [w for a, w in zip(answered, waits, strict=True) if a.first_limited]
    unanswered = [a for a in actions if a.wait is None]
    ideal += [base] * len(unanswered)
    per_chat: dict[int, float] = defaultdict(float)
    for a, w in zip(answered, waits, strict=True):
        per_chat[a.chat] += w
    for a in unanswered:
        waits.append(max(0.0, stopped - a.t))
        per_chat[a.chat] += waits[-1]
    requests = [c for c in calls if c.method in limited]
    accepted = [c for c in requests if c.ok]
    busy = [c.t_monotonic for c in accepted]
    span = (max(busy) - min(busy)) if len(busy) > 1 else 0.0
    return Figures(
        people=len({a.chat for a in actions}),
        actions=len(actions),
        unanswered=len(unanswered),
        duration=end - t0,
        requests=len(requests),
        accepted=len(accepted),
        http_429=sum(1 for c in requests if c.status == 429),
        violations=sum(1 for c in requests if c.in_flood),
        pace_violations=sum(1 for c in requests if c.limit in ("chat", "group")),
        utilisation=utilisation(actions, x, t0),
        base=base,
        p50=percentile(waits, 50),
        p95=percentile(waits, 95),
        max_wait=max(waits, default=0.0),
        p50_ideal=percentile(ideal, 50),
        p95_ideal=percentile(ideal, 95),
        max_ideal=max(ideal, default=0.0),
        paced_p50=percentile(paced, 50),
        paced_p95=percentile(paced, 95),
        longest_chat_total=max(per_chat.values(), default=0.0),
        delivered_per_s=len(accepted) / span if span else 0.0,
        series=_series(actions, calls, limited, t0, end),
    )
