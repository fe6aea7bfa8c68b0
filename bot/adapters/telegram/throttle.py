"""Outgoing pace: Telegram's limits, kept before it has to tell us.

About 30 messages a second overall and one a second per chat. New messages to one chat go out
one at a time, each at least `per_chat_interval` (plus a margin) after the previous one was
actually sent.
With several processes behind one bot a shared pace (`share`: a Redis key per chat with a
short TTL, see `pace.RedisPace`) keeps that interval across them: a message is sent
only right after it booked its moment there. The overall budget is per process: at most
`overall_per_second` new messages in any 1.2 seconds, counted by when they actually went
(`DECREEBOT_OVERALL_RATE`; with N processes give each 30/N or less).

A message takes its overall slot only once its own chat is ready, so a person who floods the
bot waits for their own chat's slots and pushes nobody else's messages back.

A 429 answer is honoured: the request waits `retry_after` and is sent again (up to five
times). A 5xx answer, or a connection that could not be opened, is retried after a short pause
(`max_retries` times); a timeout is not, because the message may have been delivered.
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

from bot.storage import StoreUnavailable

__all__ = ["SharedPace", "Throttle"]

logger = logging.getLogger(__name__)

#: Methods that put a new message in a chat; edits, answers and deletions are not counted.
_NEW_MESSAGES = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})
_MARGIN = 0.02  # seconds: clocks on both sides differ a little
#: Seconds added to each chat's interval and to the overall window: a message's way to
#: Telegram takes a little longer at times, so two sent exactly a second apart may arrive
#: closer than that.
_CHAT_MARGIN = 0.1
_WINDOW = 1.2
_SERVER_ERROR_PAUSE = 0.5  # seconds before sending again after a 5xx (times the attempt)
_MAX_BOOKINGS = 5  # tries for a moment both the overall and the shared pace allow
_MAX_RATE_LIMITED = 5  # 429 answers honoured for one request before giving up


class SharedPace(Protocol):
    """Each chat's pace, shared by the processes of one bot. Both methods raise
    `StoreUnavailable` when the shared store cannot be reached."""

    async def book(self, chat_id: int, interval: float) -> float:
        """Book this moment for the chat if it is free: 0.0 when booked, else the seconds
        until it is free (nothing booked)."""

    async def forget(self, chat_id: int) -> None:
        """Delete what is kept about the chat's pace."""


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


class Throttle(BaseRateLimiter[None]):
    """Spreads new messages to ≤ 1/s per chat and ≤ `overall` per second; retries on 429/5xx."""

    def __init__(
        self,
        *,
        per_chat_interval: float = 1.0,
        overall_per_second: float = 30.0,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chat_interval = per_chat_interval + _CHAT_MARGIN
        #: At most this many new messages in any `_WINDOW` seconds.
        self._overall_budget = max(1, int(overall_per_second))
        self._max_retries = max_retries
        self._clock = clock
        self._last_sent: dict[object, float] = {}
        self._turns: dict[object, _Turn] = {}
        self._sent: deque[float] = deque()
        self._overall = asyncio.Lock()
        self._shared: SharedPace | None = None

    def share(self, pace: SharedPace | None) -> None:
        """Keep each chat's pace across processes too (None: this process only)."""
        self._shared = pace

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Forget the send times."""
        self._last_sent.clear()

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
        """Until this chat's previous message from this process is an interval old."""
        now = self._clock()
        last = self._last_sent.get(chat)
        if last is not None and last + self._chat_interval > now:
            await asyncio.sleep(last + self._chat_interval - now)

    async def _book_shared(self, chat: object) -> float:
        """Book this moment in the chat's pace across processes: 0.0, or seconds to wait.

        Private chats only: groups get /start and /decree answers at most, and no key.
        """
        if self._shared is None or not isinstance(chat, int) or chat < 0:
            return 0.0
        try:
            wait = await self._shared.book(chat, self._chat_interval)
        except StoreUnavailable:
            logger.debug("paced: this process only (store unavailable)")
            return 0.0  # this process's pace only, until the store is back
        logger.debug("paced: %s", "booked" if wait <= 0 else "busy")
        return wait

    async def forget(self, chat: object) -> None:
        """Delete what is kept about a chat's pace (the person asked to be forgotten)."""
        self._last_sent.pop(chat, None)
        if self._shared is not None and isinstance(chat, int):
            with contextlib.suppress(StoreUnavailable):
                await self._shared.forget(chat)

    async def _wait_for_overall(self) -> None:
        """Until fewer than the budget went out in the last window, by the times they actually
        went (first come, first served): a late wake-up can never make a burst."""
        async with self._overall:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - _WINDOW:
                    self._sent.popleft()
                if len(self._sent) < self._overall_budget:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._sent[0] + _WINDOW - now)

    async def process_request(  # noqa: PLR0917 - the signature is PTB's
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a slot if this is a new message, then send; on 429 or 5xx send again."""
        del rate_limit_args
        chat = data.get("chat_id")
        if endpoint not in _NEW_MESSAGES:
            return await self._attempts(callback, args, kwargs, None)
        async with self._chat_turn(chat):
            return await self._attempts(callback, args, kwargs, chat)

    async def _take_slot(self, chat: object) -> None:
        """Wait until this message may go: its chat's pace here and across processes, and
        the overall pace. Every attempt takes a slot: a resent message is a message too."""
        await self._wait_for_chat(chat)
        for _ in range(_MAX_BOOKINGS):
            # The overall slot first, then the chat's shared pace at that very moment: a
            # message is sent right after its booking, whatever the order of the waits.
            await self._wait_for_overall()
            wait = await self._book_shared(chat)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._sent_now(chat)

    def _sent_now(self, chat: object) -> None:
        """Remember when the chat's message went, for as long as that matters (its interval):
        no chat id stays in memory longer."""
        sent = self._last_sent[chat] = self._clock()

        def expire() -> None:
            if self._last_sent.get(chat) == sent:
                del self._last_sent[chat]

        asyncio.get_running_loop().call_later(self._chat_interval, expire)

    async def _attempts(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        paced_chat: object,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        # Counted apart: a 429 says exactly when to send again, a 5xx is a failure.
        limited = failed = 0
        while True:
            if paced_chat is not None:
                await self._take_slot(paced_chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                limited += 1
                if limited > _MAX_RATE_LIMITED:
                    raise
                await asyncio.sleep(_seconds(exc.retry_after) + _MARGIN)
            except NetworkError as exc:
                failed += 1
                if failed > self._max_retries or not _worth_retrying(exc):
                    raise
                await asyncio.sleep(_SERVER_ERROR_PAUSE * failed)
