"""A notice's moment (`throttle.BULK`): the fleet's bulk budget, after every reply."""

from __future__ import annotations

import asyncio

from bot.adapters.telegram.booking import Fleet
from bot.adapters.telegram.waits import LocalWaits
from bot.storage import StoreUnavailable

__all__ = ["BulkSlots"]


class BulkSlots:
    """Bulk messages at `per_second` for the whole fleet (or this process, without Redis).
    They take no place at the gate: replies queue there, and a notice never goes ahead of
    them."""

    def __init__(self, waits: LocalWaits, per_second: float) -> None:
        self._waits = waits
        self._interval = 1.0 / per_second
        self._next = 0.0  # without Redis: this process's bulk pace

    async def take(self, fleet: Fleet | None) -> None:
        """Until this bulk message may go (and its moment is spent)."""
        waits = self._waits
        while True:
            await waits.wait_for_holds()
            if waits.gate.locked() or waits.queued:
                await asyncio.sleep(self._interval)  # replies are waiting: yield
                continue
            if fleet is None:
                wait = self._next - waits.clock()
                if wait <= 0:
                    self._next = max(self._next, waits.clock()) + self._interval
                    return
                await asyncio.sleep(wait)
                continue
            try:
                booked = await fleet.bulk()
            except StoreUnavailable:
                await waits.wait_for_fallback()
                return
            if booked.wait <= 0:
                await waits.wait_for_holds()  # a 429 heard meanwhile
                return
            if booked.why == "flood":
                waits.note_flood(booked.wait)
            else:
                await asyncio.sleep(booked.wait)
