"""Outgoing pace: Telegram's limits, honoured by the whole fleet (issue 18).

Replies are not capped by us overall. A new message to a chat goes as soon as its chat's
pace allows (one a second in a private chat, twenty a minute in a group, each plus a margin),
kept across the processes of the bot in Redis (`fleet.RedisFleet`), unless:

- the fleet is in a flood wait: any process that gets a 429 for the whole bot records
  "flooded until T" there, and every process holds its messages until T;
- the chat is held by a 429 of its own (that chat only);
- the operator set a reply cap (`DECREEBOT_REPLY_RATE_CAP`, shared by the fleet).

Messages that must wait go out in order of arrival across chats: they queue at one gate, in
this process, first come first served (an `asyncio.Lock` wakes its waiters in order). A chat
takes at most its pace: its messages go one at a time, each booked in the chat's pace key.

Bulk messages (notices: `rate_limit_args=BULK`) spend the fleet's bulk budget
(`DECREEBOT_BULK_RATE`, 30/s), which replies spend too without being held by it: a notice
always yields to replies.

Which 429 holds whom: Telegram does not say. A 429 for a call without a chat holds the
fleet. In a private chat whose pace was kept (no other call to it from here within a
second), a 429 can only be the bot's overall limit, so it holds the fleet too; in a group, or
in a chat we just wrote to, it holds that chat only. Either way the chat itself is held.

Without Redis (it cannot be reached) each process honours its own 429s and falls back to a
conservative cap of its own (`FALLBACK_PER_SECOND`). A 5xx answer, or a connection that could
not be opened, is retried after a short pause (`max_retries` times); a timeout is not,
because the message may have been delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

from bot.adapters.telegram.fleet import Booked
from bot.storage import StoreUnavailable

__all__ = ["BULK", "FALLBACK_PER_SECOND", "Fleet", "Throttle"]

logger = logging.getLogger(__name__)

#: `rate_limit_args` of a message the bot starts itself (a notice): the bulk budget.
BULK = "bulk"
#: Methods that put a new message in a chat: paced. Edits and deletions only honour holds;
#: answers to button presses go at once (the phone's spinner stops even in a flood wait).
_NEW_MESSAGES = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})
_UNHELD = frozenset({"answerCallbackQuery", "answerInlineQuery", "getMe", "getUpdates"})
_MARGIN = 0.02  # seconds: clocks on both sides differ a little
#: Seconds added to each chat's interval: a message's way to Telegram takes a little longer
#: at times, so two sent exactly a second apart may arrive closer than that.
_CHAT_MARGIN = 0.1
#: Without Redis: new messages of this process in any `_WINDOW` seconds (conservative: a
#: fleet of three stays within Telegram's 30 a second).
FALLBACK_PER_SECOND = 10
_WINDOW = 1.0
#: A chat written to this recently (seconds) may have been refused for its own pace.
_RECENT = 1.0
_SERVER_ERROR_PAUSE = 0.5  # seconds before sending again after a 5xx (times the attempt)
_MAX_BOOKINGS = 20  # tries for a moment the fleet and the chat both allow
_MAX_RATE_LIMITED = 5  # 429 answers honoured for one request before giving up


class Fleet(Protocol):
    """The fleet's budget, shared by the processes of one bot (`fleet.RedisFleet`). Every
    method raises `StoreUnavailable` when the shared store cannot be reached."""

    async def book(self, chat_id: int, interval: float) -> Booked:
        """A reply's moment in the fleet and in the chat's pace."""

    async def bulk(self) -> Booked:
        """A bulk message's moment."""

    async def hold_fleet(self, seconds: float) -> float:
        """Hold every process for `seconds`; returns the seconds held."""

    async def hold_chat(self, chat_id: int, seconds: float) -> float:
        """Hold the chat in every process for `seconds`; returns the seconds held."""


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _worth_retrying(exc: NetworkError) -> bool:
    """A 5xx answer, or a connection that never opened: nothing can have been delivered."""
    if isinstance(exc, TimedOut | BadRequest):  # PTB's 400 is a NetworkError too
        return False
    cause = exc.__cause__
    return cause is None or isinstance(cause, TelegramError | httpx.ConnectError)


@dataclass(slots=True)
class _Turn:
    """One chat's queue: its new messages go out one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class Throttle(BaseRateLimiter[str]):
    """Each chat's pace, the fleet's flood waits and budgets; retries on 429/5xx."""

    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        per_group_interval: float = 3.0,
        fallback_per_second: int = FALLBACK_PER_SECOND,
        bulk_per_second: float = 30.0,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chat_interval = per_chat_interval + _CHAT_MARGIN
        self._group_interval = per_group_interval + _CHAT_MARGIN
        self._fallback_budget = max(1, int(fallback_per_second))
        self._bulk_interval = 1.0 / bulk_per_second
        self._max_retries = max_retries
        self._clock = clock
        self._last_sent: dict[object, float] = {}
        self._touched: dict[object, float] = {}
        self._turns: dict[object, _Turn] = {}
        self._sent: deque[float] = deque()  # the fallback cap's window
        self._recent: deque[float] = deque()  # new messages of the last seconds (estimates)
        self._fallback = asyncio.Lock()
        self._gate = asyncio.Lock()  # FIFO: messages that must wait, in order of arrival
        self._queued = 0
        self._flood_until = 0.0  # what this process knows of the fleet's flood wait
        self._held: dict[object, float] = {}  # chats held by a 429 of their own
        self._bulk_next = 0.0  # without Redis: this process's bulk pace
        self._fleet: Fleet | None = None
        #: Requests sent while this process knew of a flood wait that held them (should be 0).
        self.violations = 0
        #: Called on each violation (a metric), if set.
        self.on_violation: Callable[[], None] | None = None

    def share(self, fleet: Fleet | None) -> None:
        """Keep the budget across processes too (None: this process only)."""
        self._fleet = fleet

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Forget the send times."""
        self._last_sent.clear()
        self._touched.clear()

    def interval(self, chat: object) -> float:
        """Seconds between two new messages to the chat: groups have 20 a minute."""
        return self._group_interval if isinstance(chat, int) and chat < 0 else self._chat_interval

    def expected_wait(self, chat: object) -> float:
        """About how long a new message to the chat would wait now, from what this process
        knows (no round trip): a flood wait or the chat's hold, then the queue ahead of it at
        the pace messages went out lately."""
        now = self._clock()
        held = max(self._flood_until, self._held.get(chat, 0.0)) - now
        while self._recent and self._recent[0] <= now - 5.0:
            self._recent.popleft()
        rate = max(len(self._recent) / 5.0, 1.0)
        return max(held, 0.0) + self._queued / rate

    @contextlib.asynccontextmanager
    async def _chat_turn(self, chat: object) -> AsyncIterator[None]:
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

    async def _wait_for_chat(self, chat: object) -> None:
        """Until the chat's previous message from this process is an interval old, and any
        hold of its own is over."""
        now = self._clock()
        last = self._last_sent.get(chat)
        until = max(
            last + self.interval(chat) if last is not None else 0.0, self._held.get(chat, 0.0)
        )
        if until > now:
            await asyncio.sleep(until - now)
        held = self._held.get(chat)
        if held is not None and held <= self._clock():
            del self._held[chat]

    async def _wait_for_flood(self) -> None:
        """Until the flood wait this process knows of is over."""
        while (wait := self._flood_until - self._clock()) > 0:  # noqa: ASYNC110 - a deadline that may move later
            await asyncio.sleep(wait)

    async def _wait_for_fallback(self) -> None:
        """Without Redis: until fewer than the fallback budget went out in the last window,
        by the times they actually went (first come, first served)."""
        async with self._fallback:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - _WINDOW:
                    self._sent.popleft()
                if len(self._sent) < self._fallback_budget:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._sent[0] + _WINDOW - now)

    def _note_flood(self, seconds: float) -> None:
        self._flood_until = max(self._flood_until, self._clock() + seconds)

    async def forget(self, chat: object) -> None:
        """A person asked to be forgotten: nothing of the pace is deleted. The chat's pace
        key holds only a moment, ends by itself within seconds, and must survive /forget
        (else forgetting would reset the pace: issue 18). Kept for the handlers' hook."""
        del chat

    async def process_request(  # noqa: PLR0917 - the signature is PTB's
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a moment if this is a new message, then send; on 429 or 5xx send again."""
        chat = data.get("chat_id")
        if endpoint not in _NEW_MESSAGES:
            return await self._attempts(callback, args, kwargs, endpoint, chat, paced=False)
        async with self._chat_turn(chat):
            return await self._attempts(
                callback, args, kwargs, endpoint, chat, paced=True, bulk=rate_limit_args == BULK
            )

    async def _take_slot(self, chat: object, *, bulk: bool) -> None:
        """Wait until this new message may go: its chat's pace and hold, the fleet's flood
        wait and budget, in order of arrival. Every attempt takes one: a resent message is
        a message too."""
        await self._wait_for_chat(chat)
        if bulk:
            await self._take_bulk_slot()
            return
        for _ in range(_MAX_BOOKINGS):
            self._queued += 1
            try:
                async with self._gate:  # in order of arrival, across chats
                    booked = await self._book_in_gate(chat)
            finally:
                self._queued -= 1
            if booked is None:
                return
            await asyncio.sleep(booked.wait)  # the chat's own pace: others go meanwhile

    async def _book_in_gate(self, chat: object) -> Booked | None:
        """At the gate: None once booked, else the chat's wait (others may go meanwhile).
        The fleet's waits (a flood, the reply cap) are waited here: everyone waits for them."""
        while True:
            await self._wait_for_flood()
            booked = await self._book(chat)
            if booked.wait <= 0:
                # A 429 heard while the booking was on its way: the moment stays booked (later
                # is never too soon for the chat), and the message waits for the hold.
                await self._wait_for_holds(chat)
                return None
            if booked.why == "chat":
                return booked
            if booked.why == "flood":
                self._note_flood(booked.wait)
            else:
                await asyncio.sleep(booked.wait)

    async def _book(self, chat: object) -> Booked:
        """The fleet's booking, or this process's fall-back cap when Redis is unreachable."""
        if self._fleet is not None and isinstance(chat, int):
            try:
                return await self._fleet.book(chat, self.interval(chat))
            except StoreUnavailable:
                logger.debug("paced: this process only (store unavailable)")
                await self._wait_for_fallback()
        return Booked(0.0)

    async def _take_bulk_slot(self) -> None:
        """A bulk message: the fleet's bulk budget, after every reply (no place at the gate:
        replies queue there, and a notice never goes ahead of them)."""
        while True:
            await self._wait_for_flood()
            if self._gate.locked() or self._queued:
                await asyncio.sleep(self._bulk_interval)  # replies are waiting: yield
                continue
            if self._fleet is not None:
                try:
                    booked = await self._fleet.bulk()
                except StoreUnavailable:
                    await self._wait_for_fallback()
                    return
                if booked.wait <= 0:
                    await self._wait_for_flood()  # a 429 heard meanwhile
                    return
                if booked.why == "flood":
                    self._note_flood(booked.wait)
                else:
                    await asyncio.sleep(booked.wait)
                continue
            wait = self._bulk_next - self._clock()
            if wait <= 0:
                self._bulk_next = max(self._bulk_next, self._clock()) + self._bulk_interval
                return
            await asyncio.sleep(wait)

    def _sent_now(self, chat: object) -> None:
        """Remember when the chat's message went, for as long as that matters (its interval):
        no chat id stays in memory longer."""
        sent = self._last_sent[chat] = self._clock()
        self._recent.append(sent)

        def expire() -> None:
            if self._last_sent.get(chat) == sent:
                del self._last_sent[chat]

        asyncio.get_running_loop().call_later(self.interval(chat), expire)

    def _touch(self, chat: object) -> float | None:
        """This call writes to the chat now; returns when the previous one did (if lately)."""
        now = self._clock()
        before = self._touched.get(chat)
        self._touched[chat] = now

        def expire() -> None:
            if self._touched.get(chat) == now:
                del self._touched[chat]

        asyncio.get_running_loop().call_later(_RECENT, expire)
        return before if before is not None and now - before < _RECENT else None

    def _check_not_held(self, endpoint: str, chat: object) -> None:
        """Count a request that goes while this process knows of a wait that holds it."""
        if endpoint in _UNHELD:
            return
        now = self._clock()
        if self._flood_until > now or self._held.get(chat, 0.0) > now:
            self.violations += 1
            logger.warning("sent during a known flood wait")
            if self.on_violation is not None:
                self.on_violation()

    async def _on_429(self, chat: object, seconds: float, *, recent: bool) -> None:
        """A 429: hold the chat, and the whole fleet unless the chat's own pace explains it
        (a group, or a chat written to within the last second)."""
        whole = chat is None or not (recent or (isinstance(chat, int) and chat < 0))
        now = self._clock()
        if chat is not None:
            self._held[chat] = max(self._held.get(chat, 0.0), now + seconds)
        if whole:
            self._note_flood(seconds)
        if self._fleet is None:
            return
        try:
            if whole:
                self._note_flood(await self._fleet.hold_fleet(seconds))
            if isinstance(chat, int):
                await self._fleet.hold_chat(chat, seconds)
        except StoreUnavailable:
            logger.debug("flood wait: this process only (store unavailable)")

    async def _attempts(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        chat: object,
        *,
        paced: bool,
        bulk: bool = False,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        # Counted apart: a 429 says exactly when to send again, a 5xx is a failure.
        limited = failed = 0
        while True:
            if paced:
                await self._take_slot(chat, bulk=bulk)
            elif endpoint not in _UNHELD:
                await self._wait_for_holds(chat)
            self._check_not_held(endpoint, chat)
            before = self._touch(chat) if chat is not None else None
            if paced:
                self._sent_now(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                limited += 1
                seconds = _seconds(exc.retry_after) + _MARGIN
                await self._on_429(chat, seconds, recent=before is not None)
                if limited > _MAX_RATE_LIMITED:
                    raise
                if not paced:
                    await asyncio.sleep(seconds)
            except NetworkError as exc:
                failed += 1
                if failed > self._max_retries or not _worth_retrying(exc):
                    raise
                await asyncio.sleep(_SERVER_ERROR_PAUSE * failed)

    async def _wait_for_holds(self, chat: object) -> None:
        """Until neither the fleet's flood wait nor the chat's own hold holds a request."""
        while True:
            now = self._clock()
            until = max(self._flood_until, self._held.get(chat, 0.0) if chat is not None else 0.0)
            if until <= now:
                return
            await asyncio.sleep(until - now)
