"""The throttle's use of a pace booked with the conversation's write."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import NetworkError, RetryAfter

from bot.adapters.telegram.throttle import Throttle
from bot.storage import Booking


class _Pace:
    """A shared pace that is always free, counting its bookings."""

    def __init__(self) -> None:
        self.books = 0

    async def book(self, chat_id: int, interval: float) -> float:
        self.books += 1
        return 0.0

    async def forget(self, chat_id: int) -> None:
        """Nothing kept."""

    def booking(self, chat_id: int, interval: float) -> Booking:
        return Booking(f"p:{chat_id}", interval)


async def _sent(*_args: Any, **_kwargs: Any) -> bool:
    return True


async def _send(throttle: Throttle, chat: int) -> None:
    await throttle.process_request(_sent, (), {}, "sendMessage", {"chat_id": chat}, None)


async def test_a_message_booked_with_the_write_is_not_booked_again() -> None:
    pace = _Pace()
    throttle = Throttle()
    throttle.share(pace)
    assert throttle.booking(5) == Booking("p:5", 1.1)
    assert throttle.booking(-100) is None  # groups: no pace key
    with throttle.booked(5, 0.0):
        await _send(throttle, 5)
    assert pace.books == 0


async def test_only_the_first_message_uses_the_booking() -> None:
    pace = _Pace()
    throttle = Throttle(per_chat_interval=0.05)
    throttle.share(pace)
    with throttle.booked(6, 0.0):
        await _send(throttle, 6)
        await _send(throttle, 6)  # waited for the chat's interval: books as usual
    assert pace.books == 1


async def test_a_busy_or_missing_booking_books_as_usual() -> None:
    pace = _Pace()
    throttle = Throttle(per_chat_interval=0.05)
    throttle.share(pace)
    with throttle.booked(7, 0.4):  # the pace was busy: nothing was booked
        await _send(throttle, 7)
    with throttle.booked(8, None):  # nothing was tried
        await _send(throttle, 8)
    assert pace.books == 2


async def test_a_message_queued_behind_another_books_as_usual() -> None:
    """Two messages for one chat at once: one may use the booking, the other waits its turn
    and books again, so the booking is never used for two."""
    pace = _Pace()
    throttle = Throttle(per_chat_interval=0.05)
    throttle.share(pace)
    with throttle.booked(9, 0.0):
        await asyncio.gather(_send(throttle, 9), _send(throttle, 9))
    assert pace.books == 1


async def test_rate_limits_and_server_errors_are_counted_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three 429s and then two 5xx for one message (Telegram's bad minute): it still goes;
    a sixth 429 in a row gives up."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as build_application sets it
    throttle = Throttle(per_chat_interval=0.01)
    outcomes: list[Exception | None] = [
        *(RetryAfter(timedelta(0)) for _ in range(3)),
        NetworkError("Internal Server Error"),
        NetworkError("Bad Gateway"),
        None,
    ]
    calls = 0

    async def flaky(*_args: Any, **_kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return True

    assert await throttle.process_request(flaky, (), {}, "sendMessage", {"chat_id": 3}, None)
    assert calls == 6

    outcomes[:] = [RetryAfter(timedelta(0)) for _ in range(6)]
    with pytest.raises(RetryAfter):
        await throttle.process_request(flaky, (), {}, "editMessageText", {"chat_id": 3}, None)
