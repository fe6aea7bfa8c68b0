"""`FloodNews`: every process hears of the fleet's flood waits the moment one is recorded.

A 429 for the whole bot is recorded by `FLOOD_SCRIPT`, which also publishes "hold for ms" on
the fleet's channel. Each process listens there, so a message booked for a moment ahead (the
chat's pace a moment busy) can sleep until then and go without asking Redis again: a flood
wait that began meanwhile is already known here. While the subscription is not confirmed
(starting, or after a lost connection) `live` is False and nobody books ahead.

A connection can also die silently (a dropped route, a stalled proxy: no reset ever comes),
and a subscriber only reads, so it would never notice. A PING goes on the subscription every
`heartbeat` seconds; when nothing at all was heard for two of them, the subscription counts as
lost and is made again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

__all__ = ["HEARTBEAT_SECONDS", "TASK_NAME", "FloodNews"]

logger = logging.getLogger(__name__)

#: Seconds before listening again after the connection was lost.
RETRY_SECONDS = 1.0
#: Seconds between PINGs on the subscription; silence for two of them means it is lost.
HEARTBEAT_SECONDS = 2.0
#: The listening task's name (in task dumps; the bench tells its heartbeat from updates').
TASK_NAME = "flood news"


class _SilentError(Exception):
    """Nothing heard on the subscription for two heartbeats, not even a PING's answer."""


class FloodNews:
    """Listens on `channel` and calls `on_flood(seconds)` for each flood wait published."""

    def __init__(
        self,
        client: Any,
        channel: str,
        on_flood: Callable[[float], None],
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._client = client
        self.channel = channel
        self._on_flood = on_flood
        self._heartbeat = heartbeat
        self._task: asyncio.Task[None] | None = None
        #: Whether every flood wait published from now on reaches this process.
        self.live = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen_on(), name=TASK_NAME)

    async def close(self) -> None:
        task, self._task = self._task, None
        self.live = False
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen_on(self) -> None:
        while True:
            try:
                await self._listen()
            except Exception as exc:  # whatever broke it: listen again
                logger.info("flood news: listening again (%s)", type(exc).__name__)
            finally:
                self.live = False
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen(self) -> None:
        await self._client.initialize()  # a Cluster client learns its nodes first
        pubsub = self._client.pubsub()
        clock = asyncio.get_running_loop().time
        try:
            await pubsub.subscribe(self.channel)
            heard = pinged = clock()
            while True:
                message = await pubsub.get_message(timeout=self._heartbeat / 2)
                now = clock()
                if message is not None:
                    heard = now
                    if message["type"] == "subscribe":
                        self.live = True
                    elif message["type"] == "message":
                        self._on_flood(int(message["data"]) / 1000)
                if now - heard > 2 * self._heartbeat:
                    raise _SilentError
                if now - pinged >= self._heartbeat:
                    await pubsub.ping()  # its answer comes back as a message ("pong")
                    pinged = now
        finally:
            self.live = False
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
