"""Outgoing pace: Telegram's limits, kept before it has to tell us.

About 30 messages a second overall and one a second per chat. Each new message reserves the
next free slot for its chat and overall, so bursts are spread out instead of rejected. A 429
answer is honoured: the request waits `retry_after` and is sent again (a few times at most),
and the chat's next slot moves past that wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

__all__ = ["Throttle"]

#: Methods that put a new message in a chat; edits, answers and deletions are not counted.
_NEW_MESSAGES = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})
_MARGIN = 0.02  # seconds: clocks on both sides differ a little


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Throttle(BaseRateLimiter[None]):
    """Spreads new messages to ≤ 1/s per chat and ≤ `overall` per second; retries on 429."""

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
        self._next_chat: dict[object, float] = {}
        self._next_overall = 0.0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Forget the reserved slots."""
        self._next_chat.clear()

    def _reserve(self, chat: object) -> float:
        """Seconds to wait before this message may go, and book its slot."""
        now = self._clock()
        if len(self._next_chat) > 50_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        slot = max(now, self._next_overall, self._next_chat.get(chat, 0.0))
        self._next_overall = max(self._next_overall, slot) + self._overall_interval
        self._next_chat[chat] = slot + self._chat_interval
        return slot - now

    async def process_request(  # noqa: PLR0917 - the signature is PTB's
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for a slot if this is a new message, then send; on 429 wait and resend."""
        del rate_limit_args
        chat = data.get("chat_id")
        if endpoint in _NEW_MESSAGES:
            delay = self._reserve(chat)
            if delay > 0:
                await asyncio.sleep(delay)
        for attempt in range(self._max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self._max_retries:
                    raise
                wait = _seconds(exc.retry_after) + _MARGIN
                if chat is not None:
                    self._next_chat[chat] = max(
                        self._next_chat.get(chat, 0.0), self._clock() + wait
                    )
                await asyncio.sleep(wait)
        raise AssertionError  # unreachable: the loop returns or raises
