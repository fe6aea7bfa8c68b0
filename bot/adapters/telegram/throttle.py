"""Outgoing pace: Telegram's limits, honoured by the whole fleet (issue 18).

Replies are not capped by us overall. A new message goes as soon as its chat's pace allows
(1/s private, 20/min group, plus a margin; kept across processes by `fleet.RedisFleet`),
unless the fleet is in a flood wait (any process's 429 for the whole bot holds every process
until its end), the chat is held by a 429 of its own, or the operator's reply cap
(`DECREEBOT_REPLY_RATE_CAP`) is reached. Messages that must wait go out in order of arrival
across chats (one FIFO gate in `waits.py`); a chat's go one at a time, each at its pace.
Notices (`rate_limit_args=BULK`) spend the fleet's bulk budget, which replies spend too
without being held by it: a notice always yields to replies.

Telegram does not say which limit a 429 is for: one for a call without a chat, or in a
private chat not written to within the last second (its pace was kept), holds the fleet; one
in a group, or in a chat just written to, holds that chat only. The chat is held either way.
Without Redis each process honours its own 429s under a conservative cap of its own. A 5xx,
or a connection that could not be opened, is retried after a short pause (`max_retries`
times); a timeout is not, since the message may have been delivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

from bot.adapters.telegram.booking import Booked, Fleet
from bot.adapters.telegram.bulk import BulkSlots
from bot.adapters.telegram.waits import FALLBACK_PER_SECOND, LocalWaits
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
_SERVER_ERROR_PAUSE = 0.5  # seconds before sending again after a 5xx (times the attempt)
_MAX_BOOKINGS = 20  # tries for a moment the fleet and the chat both allow
_MAX_RATE_LIMITED = 5  # 429 answers honoured for one request before giving up

_Send = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]
_Answer = bool | dict[str, Any] | list[dict[str, Any]]


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _worth_retrying(exc: NetworkError) -> bool:
    """A 5xx answer, or a connection that never opened: nothing can have been delivered."""
    if isinstance(exc, TimedOut | BadRequest):  # PTB's 400 is a NetworkError too
        return False
    cause = exc.__cause__
    return cause is None or isinstance(cause, TelegramError | httpx.ConnectError)


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
        self.waits = LocalWaits(
            per_chat_interval=per_chat_interval,
            per_group_interval=per_group_interval,
            fallback_per_second=fallback_per_second,
            clock=clock,
        )
        self._bulk = BulkSlots(self.waits, bulk_per_second)
        self._max_retries = max_retries
        self._fleet: Fleet | None = None
        #: Requests sent while this process knew of a flood wait that held them (should be 0).
        self.violations = 0
        #: Called on each violation (a metric), if set.
        self.on_violation: Callable[[], None] | None = None

    def share(self, fleet: Fleet | None) -> None:
        """Keep the budget across processes too (None: this process only), and hear of every
        flood wait the moment any process records one. Inside the running event loop."""
        self._fleet = fleet
        if fleet is not None:
            fleet.hear_floods(self.waits.note_flood)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Forget the send times; stop hearing of the fleet's flood waits."""
        self.waits.clear()
        if self._fleet is not None:
            await self._fleet.close()

    def expected_wait(self, chat: object) -> float:
        """About how long a new message to the chat would wait now (no round trip)."""
        return self.waits.expected_wait(chat)

    async def forget(self, chat: object) -> None:
        """A person asked to be forgotten: nothing of the pace is deleted. The chat's pace
        key holds only a moment, ends by itself within seconds, and must survive /forget
        (else forgetting would reset the pace: issue 18). Kept for the handlers' hook."""
        del chat

    async def process_request(  # noqa: PLR0917 - the signature is PTB's
        self,
        callback: _Send,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> _Answer:
        """Wait for a moment if this is a new message, then send; on 429 or 5xx send again."""
        chat = data.get("chat_id")
        if endpoint not in _NEW_MESSAGES:
            return await self._attempts(callback, args, kwargs, endpoint, chat, paced=False)
        async with self.waits.chat_turn(chat):
            return await self._attempts(
                callback, args, kwargs, endpoint, chat, paced=True, bulk=rate_limit_args == BULK
            )

    async def _take_slot(self, chat: object, *, bulk: bool) -> None:
        """Wait until this new message may go: its chat's pace and hold, the fleet's flood
        wait and budget, in order of arrival. Every attempt takes one: a resent message is
        a message too."""
        await self.waits.wait_for_chat(chat)
        if bulk:
            await self._bulk.take(self._fleet)
            return
        for _ in range(_MAX_BOOKINGS):
            async with self.waits.in_line():  # in order of arrival, across chats
                booked = await self._book_in_line(chat)
            if booked is None:
                return
            await asyncio.sleep(booked.wait)  # the chat's own pace: others go meanwhile
            if booked.why == "reserved":  # booked for now: only a hold heard of meanwhile
                # News of a flood that reached the socket as the timer fired is read first.
                await asyncio.sleep(0)
                await self.waits.wait_for_holds(chat)
                return

    async def _book_in_line(self, chat: object) -> Booked | None:
        """At the gate: None once booked, else the chat's wait (others may go meanwhile).
        The fleet's waits (a flood, the reply cap) are waited here: everyone waits for them."""
        waits = self.waits
        while True:
            await waits.wait_for_holds()
            booked = await self._book(chat)
            if booked.wait <= 0:
                # A 429 heard while the booking was on its way: the moment stays booked (later
                # is never too soon for the chat), and the message waits for the hold.
                await waits.wait_for_holds(chat)
                return None
            if booked.why in ("chat", "reserved"):
                return booked
            if booked.why == "flood":
                waits.note_flood(booked.wait)
            else:
                await asyncio.sleep(booked.wait)

    async def _book(self, chat: object) -> Booked:
        """The fleet's booking, or this process's fall-back cap when Redis is unreachable."""
        if self._fleet is not None and isinstance(chat, int):
            try:
                return await self._fleet.book(chat, self.waits.interval(chat))
            except StoreUnavailable:
                logger.debug("paced: this process only (store unavailable)")
                await self.waits.wait_for_fallback()
        return Booked(0.0)

    def _check_not_held(self, endpoint: str, chat: object) -> None:
        """Count a request that goes while this process knows of a wait that holds it."""
        if endpoint not in _UNHELD and self.waits.known_hold(chat):
            self.violations += 1
            logger.warning("sent during a known flood wait")
            if self.on_violation is not None:
                self.on_violation()

    async def _on_429(self, chat: object, seconds: float, *, recent: bool) -> None:
        """A 429: hold the chat, and the whole fleet unless the chat's own pace explains it
        (a group, or a chat written to within the last second)."""
        whole = chat is None or not (recent or (isinstance(chat, int) and chat < 0))
        if chat is not None:
            self.waits.hold_chat(chat, seconds)
        if whole:
            self.waits.note_flood(seconds)
        if self._fleet is None:
            return
        try:
            if whole:
                self.waits.note_flood(await self._fleet.hold_fleet(seconds))
            if isinstance(chat, int):
                await self._fleet.hold_chat(chat, seconds)
        except StoreUnavailable:
            logger.debug("flood wait: this process only (store unavailable)")

    async def _attempts(
        self,
        callback: _Send,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        chat: object,
        *,
        paced: bool,
        bulk: bool = False,
    ) -> _Answer:
        # Counted apart: a 429 says exactly when to send again, a 5xx is a failure.
        limited = failed = 0
        while True:
            if paced:
                await self._take_slot(chat, bulk=bulk)
            elif endpoint not in _UNHELD:
                await self.waits.wait_for_holds(chat)
            self._check_not_held(endpoint, chat)
            recent = self.waits.touch(chat) if chat is not None else False
            if paced:
                self.waits.sent_now(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                limited += 1
                seconds = _seconds(exc.retry_after) + _MARGIN
                await self._on_429(chat, seconds, recent=recent)
                if limited > _MAX_RATE_LIMITED:
                    raise
                if not paced:
                    await asyncio.sleep(seconds)
            except NetworkError as exc:
                failed += 1
                if failed > self._max_retries or not _worth_retrying(exc):
                    raise
                await asyncio.sleep(_SERVER_ERROR_PAUSE * failed)
