"""`FloodNews`: every process hears of the fleet's flood waits the moment one is recorded.

A 429 for the whole bot is recorded by `FLOOD_SCRIPT`, which also publishes "hold for ms" on
the fleet's channel. Each process listens there, so a message booked for a moment ahead (the
chat's pace a moment busy) can sleep until then and go without asking Redis again: a flood
wait that began meanwhile is already known here. While the subscription is not confirmed
(starting, or after a lost connection) `live` is False and nobody books ahead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

__all__ = ["FloodNews"]

logger = logging.getLogger(__name__)

#: Seconds before listening again after the connection was lost.
RETRY_SECONDS = 1.0


class FloodNews:
    """Listens on `channel` and calls `on_flood(seconds)` for each flood wait published."""

    def __init__(self, client: Any, channel: str, on_flood: Callable[[float], None]) -> None:
        self._client = client
        self.channel = channel
        self._on_flood = on_flood
        self._task: asyncio.Task[None] | None = None
        #: Whether every flood wait published from now on reaches this process.
        self.live = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen_on())

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
        try:
            await pubsub.subscribe(self.channel)
            async for message in pubsub.listen():
                if message["type"] == "subscribe":
                    self.live = True
                elif message["type"] == "message":
                    self._on_flood(int(message["data"]) / 1000)
        finally:
            self.live = False
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
