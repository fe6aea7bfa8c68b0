"""What a new message waits for in this process, before the fleet is asked (`throttle.py`):
its chat's turn and pace, the holds this process has heard of (the fleet's flood wait, a
chat's own 429), the gate where messages that must wait queue in order of arrival, and the
fall-back cap used while Redis cannot be reached.

No chat id stays here longer than it matters: a chat's last send for its interval, its last
write for a second, a hold until it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

__all__ = ["FALLBACK_PER_SECOND", "LocalWaits"]

#: Seconds added to each chat's interval: a message's way to Telegram takes a little longer
#: at times, so two sent exactly a second apart may arrive closer than that.
CHAT_MARGIN = 0.1
#: Without Redis: new messages of this process in any `_WINDOW` seconds (conservative: a
#: fleet of three stays within Telegram's 30 a second).
FALLBACK_PER_SECOND = 10
_WINDOW = 1.0
#: A chat written to this recently (seconds) may have been refused for its own pace.
RECENT = 1.0
#: Seconds of sends the estimate of the pace messages go out at looks back on.
_ESTIMATE_SPAN = 5.0


@dataclass(slots=True)
class _Turn:
    """One chat's queue: its new messages go out one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class LocalWaits:
    """This process's view of the waits; `gate` is the FIFO queue of messages that wait."""

    def __init__(
        self,
        *,
        per_chat_interval: float,
        per_group_interval: float,
        fallback_per_second: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chat_interval = per_chat_interval + CHAT_MARGIN
        self.group_interval = per_group_interval + CHAT_MARGIN
        self._fallback_budget = max(1, int(fallback_per_second))
        self.clock = clock
        self.last_sent: dict[object, float] = {}
        self.touched: dict[object, float] = {}
        self._turns: dict[object, _Turn] = {}
        self._sent: deque[float] = deque()  # the fallback cap's window
        self._recent: deque[float] = deque()  # new messages of the last seconds (estimates)
        self._fallback = asyncio.Lock()
        #: FIFO: messages that must wait, in order of arrival (a Lock wakes waiters in order).
        self.gate = asyncio.Lock()
        self.queued = 0
        self.flood_until = 0.0  # what this process knows of the fleet's flood wait
        self.held: dict[object, float] = {}  # chats held by a 429 of their own

    def interval(self, chat: object) -> float:
        """Seconds between two new messages to the chat: groups have 20 a minute."""
        return self.group_interval if isinstance(chat, int) and chat < 0 else self.chat_interval

    def clear(self) -> None:
        self.last_sent.clear()
        self.touched.clear()

    def expected_wait(self, chat: object) -> float:
        """About how long a new message to the chat would wait now, from what this process
        knows: a flood wait or the chat's hold, then the queue ahead of it at the pace
        messages went out lately."""
        now = self.clock()
        held = max(self.flood_until, self.held.get(chat, 0.0)) - now
        while self._recent and self._recent[0] <= now - _ESTIMATE_SPAN:
            self._recent.popleft()
        rate = max(len(self._recent) / _ESTIMATE_SPAN, 1.0)
        return max(held, 0.0) + self.queued / rate

    @contextlib.asynccontextmanager
    async def chat_turn(self, chat: object) -> AsyncIterator[None]:
        """This chat's turn to send."""
        turn = self._turns.get(chat)
        if turn is None:
            turn = self._turns[chat] = _Turn()
        turn.waiting += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.waiting -= 1
            if not turn.waiting:
                del self._turns[chat]

    @contextlib.asynccontextmanager
    async def in_line(self) -> AsyncIterator[None]:
        """A place at the gate, in order of arrival across chats."""
        self.queued += 1
        try:
            async with self.gate:
                yield
        finally:
            self.queued -= 1

    async def wait_for_chat(self, chat: object) -> None:
        """Until the chat's previous message from this process is an interval old, and any
        hold of its own is over."""
        last = self.last_sent.get(chat)
        until = max(
            last + self.interval(chat) if last is not None else 0.0, self.held.get(chat, 0.0)
        )
        if until > self.clock():
            await asyncio.sleep(until - self.clock())
        held = self.held.get(chat)
        if held is not None and held <= self.clock():
            del self.held[chat]

    async def wait_for_holds(self, chat: object = None) -> None:
        """Until neither the fleet's flood wait nor the chat's own hold holds a request."""
        while True:
            now = self.clock()
            until = max(self.flood_until, self.held.get(chat, 0.0) if chat is not None else 0.0)
            if until <= now:
                return
            await asyncio.sleep(until - now)

    def known_hold(self, chat: object) -> bool:
        """Whether a hold this process knows of holds the chat now."""
        now = self.clock()
        return self.flood_until > now or self.held.get(chat, 0.0) > now

    async def wait_for_fallback(self) -> None:
        """Without Redis: until fewer than the fallback budget went out in the last window,
        by the times they actually went (first come, first served)."""
        async with self._fallback:
            while True:
                now = self.clock()
                while self._sent and self._sent[0] <= now - _WINDOW:
                    self._sent.popleft()
                if len(self._sent) < self._fallback_budget:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._sent[0] + _WINDOW - now)

    def note_flood(self, seconds: float) -> None:
        """The whole fleet holds for `seconds` from now (a 429 heard here or in Redis)."""
        self.flood_until = max(self.flood_until, self.clock() + seconds)

    def hold_chat(self, chat: object, seconds: float) -> None:
        """The chat holds for `seconds` from now (its own 429)."""
        self.held[chat] = max(self.held.get(chat, 0.0), self.clock() + seconds)

    def sent_now(self, chat: object) -> None:
        """Remember when the chat's new message went, for its interval only."""
        sent = self.last_sent[chat] = self.clock()
        self._recent.append(sent)
        # A bound method and its arguments, not a closure: one timer per message sent.
        asyncio.get_running_loop().call_later(self.interval(chat), self._expire_sent, chat, sent)

    def _expire_sent(self, chat: object, sent: float) -> None:
        if self.last_sent.get(chat) == sent:
            del self.last_sent[chat]

    def touch(self, chat: object) -> bool:
        """This call writes to the chat now; whether another did within `RECENT` seconds
        (then a 429 may be the chat's own). Kept for those seconds only."""
        now = self.clock()
        before = self.touched.get(chat)
        self.touched[chat] = now
        asyncio.get_running_loop().call_later(RECENT, self._expire_touch, chat, now)
        return before is not None and now - before < RECENT

    def _expire_touch(self, chat: object, now: float) -> None:
        if self.touched.get(chat) == now:
            del self.touched[chat]
