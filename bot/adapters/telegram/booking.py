"""What a booking answers (`Booked`), what the throttle needs of the fleet (`Fleet`), and the
bookings made with a conversation's write, kept a moment for the message (`PREBOOKED`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["PREBOOKED", "Booked", "Fleet", "booked", "text", "to_give_back"]


@dataclass(frozen=True, slots=True)
class Booked:
    """A booking's answer: 0.0 when the message may go now (and is booked); else the seconds
    to wait and why: "reserved" (booked for then: sleep, and go unless a hold is heard of
    meanwhile), or, with nothing booked, "flood", "cap", "learnt", "bulk" or "chat"."""

    wait: float
    why: str = "go"


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

    def hear_floods(self, on_flood: Callable[[float], None]) -> None:
        """Call `on_flood(seconds)` for each flood wait any process records from now on."""

    async def close(self) -> None:
        """Stop hearing of flood waits."""


#: A booking made with a write is used by the message it was made for only if that goes
#: within this many seconds of its moment (the throttle's margin): else the chat's pace could
#: shrink.
_FRESH_SECONDS = 0.1


class _Prebooked:
    """Replies booked with a conversation's write a moment ago, by pace key, in this process
    (`pace.BookPaceWithWrite`): `RedisFleet.book` takes one instead of a round trip."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}  # pace key -> the moment booked (monotonic)

    def put(self, key: str, wait: float) -> None:
        """The chat's message may go `wait` seconds from now."""
        now = time.monotonic()
        self._at = {k: t for k, t in self._at.items() if now - t < _FRESH_SECONDS}
        self._at[key] = now + wait

    def take(self, key: str) -> float | None:
        """The seconds until the moment booked for the chat (0.0: now), if one is fresh."""
        at = self._at.pop(key, None)
        now = time.monotonic()
        if at is None or now - at >= _FRESH_SECONDS:
            return None
        return max(at - now, 0.0)


PREBOOKED = _Prebooked()


def text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def booked(fleet: Any, pace: Any) -> Booked:
    """One booking's answer from the replies of `FLEET_SCRIPT` and `PACE_SCRIPT`. A moment
    booked ahead while the fleet is paced as a whole is not for keeping: the chat is busy."""
    fleet_ms, why = int(fleet[0]), text(fleet[1])
    if fleet_ms > 0:
        return Booked(fleet_ms / 1000, why)
    wait_ms, kept = int(pace[0]), int(pace[1])
    if not kept or (wait_ms > 0 and why == "paced"):
        return Booked(wait_ms / 1000, "chat")
    return Booked(wait_ms / 1000, "reserved") if wait_ms > 0 else Booked(0.0)


def to_give_back(answer: Booked, pace: Any) -> int:
    """The moment `PACE_SCRIPT` kept that the answer does not use (0: none)."""
    return int(pace[1]) if answer.why not in ("go", "reserved") else 0
