"""Outgoing pace: Telegram's limits, kept before it has to tell us.

About 30 messages a second overall and one a second per chat. New messages to one chat go out
one at a time, each at least `per_chat_interval` after the previous one was actually sent.
With several processes behind one bot a shared pace (`share`: a Redis key per chat with a
short TTL, see `RedisStore.reserve_slot`) keeps that interval across them. The overall budget
is per process (`DECREEBOT_OVERALL_RATE`; with N processes give each 30/N or less).

A message takes its overall slot only once its own chat is ready, so a person who floods the
bot waits for their own chat's slots and pushes nobody else's messages back.

A 429 answer is honoured: the request waits `retry_after` and is sent again (a few times at
most). A 5xx answer, or a connection that could not be opened, is retried after a short pause;
a timeout is not, because the message may have been delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeAlias

import httpx
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

from bot.storage import StoreUnavailable

__all__ = ["SharedPace", "Throttle"]

#: Methods that put a new message in a chat; edits, answers and deletions are not counted.
_NEW_MESSAGES = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})
_MARGIN = 0.02  # seconds: clocks on both sides differ a little
_SERVER_ERROR_PAUSE = 0.5  # seconds before sending again after a 5xx (times the attempt)
_MAX_REMEMBERED = 50_000  # chats whose last send time is kept before old ones are dropped

#: Books a chat's next slot across processes: (chat id, interval, not before) -> seconds to
#: wait. Raises `StoreUnavailable` when the shared store cannot be reached.
SharedPace: TypeAlias = Callable[[int, float, float], Awaitable[float]]


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _worth_retrying(exc: NetworkError) -> bool:
    """A 5xx answer, or a connection that never opened: nothing can have been delivered."""
    if isinstance(exc, TimedOut):
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
        self._chat_interval = per_chat_interval + _MARGIN
        self._overall_interval = 1.0 / overall_per_second + _MARGIN / 30
        self._max_retries = max_retries
        self._clock = clock
        self._last_sent: dict[object, float] = {}
        self._turns: dict[object, _Turn] = {}
        self._next_overall = 0.0
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
        now = self._clock()
        if len(self._last_sent) > _MAX_REMEMBERED:
            horizon = now - self._chat_interval
            self._last_sent = {c: t for c, t in self._last_sent.items() if t > horizon}
        last = self._last_sent.get(chat)
        wait = 0.0 if last is None else last + self._chat_interval - now
        if self._shared is not None and isinstance(chat, int):
            with contextlib.suppress(StoreUnavailable):  # then this process's pace only
                wait = max(wait, await self._shared(chat, self._chat_interval, max(wait, 0.0)))
        if wait > 0:
            await asyncio.sleep(wait)

    async def _wait_for_overall(self) -> None:
        now = self._clock()
        slot = max(now, self._next_overall)
        self._next_overall = slot + self._overall_interval
        if slot > now:
            await asyncio.sleep(slot - now)

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
            return await self._send(callback, args, kwargs, None)
        async with self._chat_turn(chat):
            await self._wait_for_chat(chat)
            await self._wait_for_overall()
            return await self._send(callback, args, kwargs, chat)

    async def _send(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        paced_chat: object,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        for attempt in range(self._max_retries + 1):
            if paced_chat is not None:
                self._last_sent[paced_chat] = self._clock()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self._max_retries:
                    raise
                await asyncio.sleep(_seconds(exc.retry_after) + _MARGIN)
            except NetworkError as exc:
                if attempt == self._max_retries or not _worth_retrying(exc):
                    raise
                await asyncio.sleep(_SERVER_ERROR_PAUSE * (attempt + 1))
        raise AssertionError  # unreachable: the loop returns or raises
