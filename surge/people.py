"""The people of a surge: when each arrives, and how each talks.

With decree-bot each person is the soak's `Driver` playing a persona through a whole
conversation (reading the screens, pressing what that person would press). The peer bot
only answers, so its people follow a script: the same sequence of replies (a new message or
an edit) that person's conversation with decree-bot had, a text where decree-bot replied
with a new message and a press where it edited one.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from soak.api import SoakApi
from soak.driver import Driver, Recognised, Tally, UserResult
from soak.personas import Persona

__all__ = ["DEFAULT_SCRIPT", "Crowd", "SurgeApi", "peer_person"]

#: A conversation's shape when no decree-bot run gave one (the soak's mix: about 1.5 new
#: messages and 5.5 edits per person).
DEFAULT_SCRIPT = ("send", "edit", "edit", "edit", "send", "edit", "edit", "edit")


def _chat_of(update: dict[str, Any]) -> int | None:
    body = update.get("message") or update.get("callback_query", {}).get("message")
    chat = (body or {}).get("chat", {}).get("id")
    return chat if isinstance(chat, int) else None


class SurgeApi(SoakApi):
    """The soak's fake Bot API that also notes each update's chat and time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.update_log: list[tuple[int, float]] = []

    async def deliver(self, update: dict[str, Any]) -> int | None:
        chat = _chat_of(update)
        if chat is not None:
            self.update_log.append((chat, time.monotonic()))
        return await super().deliver(update)

    def reset_calls(self) -> None:
        super().reset_calls()
        self.update_log.clear()


@dataclass
class Crowd:
    """People arriving within `window` seconds, each at a random moment, all at once."""

    window: float
    deadline: float  # monotonic time when everyone still talking is stopped
    rng: random.Random
    finished: int = 0
    results: list[Any] = field(default_factory=list)

    async def run(self, people: list[Callable[[], Awaitable[Any]]]) -> int:
        """Play everyone; the number cut off by the deadline."""
        offsets = sorted(self.rng.uniform(0.0, self.window) for _ in people)
        started = time.monotonic()

        async def one(offset: float, person: Callable[[], Awaitable[Any]]) -> Any:
            await asyncio.sleep(max(0.0, started + offset - time.monotonic()))
            result = await person()
            self.finished += 1
            return result

        tasks = [asyncio.create_task(one(o, p)) for o, p in zip(offsets, people, strict=True)]
        try:
            done, pending = await asyncio.wait(tasks, timeout=max(1.0, self.deadline - started))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            exc = task.exception()
            self.results.append(exc if exc is not None else task.result())
        return len(pending)


def bot_person(
    api: SurgeApi,
    persona: Persona,
    *,
    renderer: Any,
    recognised: Recognised,
    tally: Tally,
    seed: int,
    today: date,
    reply_timeout: float,
    think: tuple[float, float],
) -> Callable[[], Awaitable[UserResult]]:
    """One person talking to decree-bot: the soak's driver, without faults."""

    async def person() -> UserResult:
        driver = Driver(
            api=api,
            persona=persona,
            renderer=renderer,
            recognised=recognised,
            tally=tally,
            rng=random.Random(seed),  # noqa: S311 - a simulation
            today=today,
            reply_timeout=reply_timeout,
            fault_rate=0.0,
            think=think,
            failed_over=set(),
        )
        return await driver.run()

    return person


@dataclass
class PeerResult:
    user_id: int
    completed: bool = False
    problem: str | None = None


def peer_person(
    api: SurgeApi,
    user_id: int,
    script: tuple[str, ...],
    *,
    seed: int,
    reply_timeout: float,
    think: tuple[float, float],
) -> Callable[[], Awaitable[PeerResult]]:
    """One person following `script` with the peer bot: a text for "send", a press for
    "edit"; the first action is always /start."""

    async def person() -> PeerResult:
        rng = random.Random(seed)  # noqa: S311 - a simulation
        user = api.user(user_id, first_name="Peer", language_code="ru")
        result = PeerResult(user_id)
        for i, kind in enumerate(script):
            mark = api.mark(user_id)
            keyboard = user.chat.last_keyboard_message
            if i == 0:
                await user.send_command("/start")
            elif kind == "edit" and keyboard is not None and keyboard.buttons:
                await user.press_data(str(keyboard.buttons[0].callback_data), keyboard)
            else:
                await user.send_text(f"answer {i}")
            if not await api.replies(user_id, mark, within=reply_timeout):
                result.problem = f"no reply to action {i + 1} within {reply_timeout:.0f} s"
                return result
            await asyncio.sleep(rng.uniform(*think))
        result.completed = True
        return result

    return person
