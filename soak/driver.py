"""One simulated person's conversation: read the screen, press what this person would press.

The driver does not follow a script. It looks at the newest message with buttons, works out
which question is asked from the buttons' callback data (`c7:citizenship=TJ`, `nav:result`,
...) and answers from the persona's facts, so it copes with whatever the bot shows: a question
asked again after "back", a fresh start after the stored answers were lost, an apology while
Redis is down. Habits (back, start over, another language, a wrong answer corrected at the
review, a press on an old button) and faults (a double press, the same update delivered twice)
are mixed in. Every action must get exactly one reply (a new or an edited message).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.conversation import LANGUAGES
from bot.conversation.machine import _LOST, _STALE
from bot.conversation.screens import welcome
from bot.i18n import Renderer
from bot.messages import UNAVAILABLE
from fakebotapi import Call, FakeUser, StoredMessage
from soak.api import SoakApi, callback_update
from soak.personas import Persona, expected_result

__all__ = ["Driver", "Recognised", "Tally", "UserResult"]

_ANSWER = re.compile(r"([a-z])(\d+):([a-z_]+)=(.+)")
_EDIT = re.compile(r"e\d+:([a-z_]+)")
#: Actions one person may take before the conversation counts as stuck.
MAX_ACTIONS = 80
#: Starts attempted while the bot apologises (Redis is down), a second or more apart.
MAX_RETRIES = 20


class DriverError(RuntimeError):
    """The conversation cannot go on (no reply, no button to press)."""


@dataclass
class Tally:
    """Counters shared by all drivers."""

    actions: int = 0
    double_presses: int = 0
    duplicate_deliveries: int = 0
    stale_presses: int = 0
    typed_countries: int = 0
    reviews_corrected: int = 0
    backs: int = 0
    restarts: int = 0
    language_changes: int = 0
    forgets: int = 0
    whys: int = 0
    repeated_apologies: int = 0
    double_press_stale: int = 0
    repeated_after_kill: int = 0


@dataclass
class UserResult:
    """How one person's conversation went."""

    user_id: int
    completed: bool = False
    correct: bool = False
    wrong: str | None = None
    problem: str | None = None
    lost_updates: int = 0
    duplicate_replies: int = 0
    saw_lost_notice: int = 0
    saw_apology: int = 0
    restarted_by_bot: int = 0
    max_delay: float = 0.0
    delays: list[float] = field(default_factory=list)
    forgot: bool = False
    log: list[str] = field(default_factory=list)
    transcript: str = ""

    @property
    def passed(self) -> bool:
        return self.correct and not self.lost_updates and not self.duplicate_replies


class Recognised:
    """Texts the driver must recognise in any language: notices, apologies, the welcome."""

    def __init__(self, renderer: Renderer) -> None:
        self.lost = tuple(renderer.gettext(_LOST, lang) for lang in LANGUAGES)
        self.unavailable = frozenset(renderer.gettext(UNAVAILABLE, lang) for lang in LANGUAGES)
        self.stale = tuple(renderer.gettext(_STALE, lang) for lang in LANGUAGES)
        first = welcome()[0]
        self.welcome = tuple(renderer.text(first, lang) for lang in LANGUAGES)


@dataclass
class _Screen:
    kind: str  # language, mode, question, country_text, review, result, none
    message: StoredMessage | None
    data: list[str]
    field: str | None = None


class Driver:
    """Plays one persona to its result."""

    def __init__(
        self,
        *,
        api: SoakApi,
        persona: Persona,
        renderer: Renderer,
        recognised: Recognised,
        tally: Tally,
        rng: random.Random,
        today: date,
        reply_timeout: float,
        fault_rate: float,
        think: tuple[float, float],
        failed_over: set[int],
    ) -> None:
        self.api = api
        self.persona = persona
        self.renderer = renderer
        self.texts = recognised
        self.tally = tally
        self.rng = rng
        self.today = today
        self.reply_timeout = reply_timeout
        self.fault_rate = fault_rate
        self.think = think
        self.failed_over = failed_over
        self.user: FakeUser = api.user(
            persona.user_id,
            first_name=f"Soakname{persona.user_id % 1000}",
            language_code=persona.app_language,
        )
        self.result = UserResult(persona.user_id)
        self.lang = persona.lang
        self.questions = 0
        self.slipped = False
        self.previous: tuple[StoredMessage, list[str], str] | None = None
        self._done_habits: set[str] = set()

    # --- the conversation ----------------------------------------------------------------

    async def run(self) -> UserResult:
        try:
            await self._conversation()
        except DriverError as exc:
            self.result.problem = str(exc)
            self.result.transcript = self.user.chat.visible_text()[-1500:]
        return self.result

    async def _conversation(self) -> None:
        await self._start(first=True)
        for _ in range(MAX_ACTIONS):
            screen = self._screen()
            if screen.kind == "result":
                if self.slipped:
                    await self._press("nav:review")
                    continue
                self._verify(screen)
                await self._after_result()
                return
            await self._step(screen)
            await asyncio.sleep(self.rng.uniform(*self.think))
        raise DriverError(f"no result after {MAX_ACTIONS} actions")

    async def _step(self, screen: _Screen) -> None:
        if screen.kind == "language":
            await self._press(f"lang={self.lang}", welcome_expected=True)
        elif screen.kind == "mode":
            await self._press(f"mode={self.persona.mode}")
        elif screen.kind == "review":
            if self.slipped and self.persona.slip is not None:
                self.tally.reviews_corrected += 1
                await self._press(f":{self.persona.slip[0]}", exact_suffix=True)
                self.slipped = False
                self._done_habits.add("slip")
            else:
                await self._press("nav:result")
        elif screen.kind == "country_text":
            await self._type_country()
        elif screen.kind == "question":
            await self._question(screen)
        else:
            raise DriverError(f"no screen to act on: {screen.data}")

    async def _question(self, screen: _Screen) -> None:
        self.questions += 1
        if await self._habit(screen):
            return
        assert screen.field is not None
        assert screen.message is not None
        name = screen.field
        if name == "citizenship" and self.persona.typed_country:
            await self._press("type=citizenship")
            return
        value = self.persona.answer(name)
        slip = self.persona.slip
        if slip is not None and slip[0] == name and "slip" not in self._done_habits:
            value = slip[1]
            self.slipped = True
            self._done_habits.add("slip")
        self.previous = (screen.message, screen.data, f"{name}={value}")
        await self._answer(f"{name}={value}", screen.message)

    async def _habit(self, screen: _Screen) -> bool:
        """A habit due at this question, if any; True when it took this turn."""
        p, n = self.persona, self.questions
        if p.language_at == n and self._once("language") and p.new_lang:
            self.lang = p.new_lang
            self.tally.language_changes += 1
            await self._command("/language")
            return True
        if p.back_at == n and self.previous is not None and self._once("back"):
            self.tally.backs += 1
            if p.back_by_command:
                await self._command("/back")
            else:
                await self._press("nav:back")
            return True
        if p.restart_at == n and self._once("restart"):
            self.tally.restarts += 1
            self.slipped = False
            if p.restart_by_command:
                await self._command("/restart")
            else:
                await self._press("nav:restart")
            return True
        if p.stale_at == n and self.previous is not None and self._once("stale"):
            return await self._stale_press(screen)
        return False

    def _once(self, habit: str) -> bool:
        if habit in self._done_habits:
            return False
        self._done_habits.add(habit)
        return True

    async def _stale_press(self, screen: _Screen) -> bool:
        """Press another answer on the previous question's keyboard (its message has moved on)."""
        assert self.previous is not None
        message, data, chosen = self.previous
        others = [
            d
            for d in data
            if _ANSWER.fullmatch(d) and not d.endswith(chosen) and d not in screen.data
        ]
        if not others or message.deleted:
            return False
        self.tally.stale_presses += 1
        press = self.user.press_data(self.rng.choice(others), message)
        await self._recover(await self._act(press, "stale press"))
        return True

    async def _after_result(self) -> None:
        if self.persona.why:
            self.tally.whys += 1
            await self._press("nav:why")
        if self.persona.forget:
            self.tally.forgets += 1
            for _ in range(MAX_RETRIES):
                replies = await self._act(self.user.send_text("/forget"), "/forget")
                if not any(self._apology(c) for c in replies):
                    self.result.forgot = True
                    return
                self.result.saw_apology += 1
                await asyncio.sleep(self.rng.uniform(1.0, 3.0))
            raise DriverError("/forget: the bot kept apologising")

    def _apology(self, call: Call) -> bool:
        return str(call.params.get("text", "")) in self.texts.unavailable

    def _lost(self, call: Call) -> bool:
        return str(call.params.get("text", "")).startswith(self.texts.lost)

    def _stale(self, call: Call) -> bool:
        return str(call.params.get("text", "")).startswith(self.texts.stale)

    def _verify(self, screen: _Screen) -> None:
        assert screen.message is not None
        self.result.completed = True
        shown = (screen.message.text or "").split("\n", 1)[0]
        expected, problem = expected_result(self.persona, self.lang, self.renderer, self.today)
        if problem:
            self.result.wrong = problem
        elif shown == expected:
            self.result.correct = True
        else:
            self.result.wrong = f"expected {expected!r}, shown {shown!r} ({self.lang})"
            self.result.transcript = self.user.chat.visible_text()[-1500:]

    # --- starting (again) ----------------------------------------------------------------

    async def _start(self, *, first: bool) -> None:
        """The persona's way in; after a loss, a deep link in the current language."""
        self.questions = 0
        self.slipped = False
        self.previous = None
        if first and self.persona.start != "link":
            await self._command("/start", starting=True)
            return
        payload = f"{self.lang}-{self.persona.mode}"
        if self.persona.org:
            payload += f"-{self.persona.org}"
        await self._command(f"/start {payload}", starting=True)

    async def _recover(self, replies: list[Call], *, welcome_expected: bool = False) -> bool:
        """After an apology or a conversation the bot started afresh, start again ourselves.

        Returns whether the replies called for it.
        """
        texts = [str(c.params.get("text", "")) for c in replies]
        if any(t in self.texts.unavailable for t in texts):
            self.result.saw_apology += 1
            for _ in range(MAX_RETRIES):
                await asyncio.sleep(self.rng.uniform(1.0, 3.0))  # reads it, tries again
                again = await self._start_once()
                if not any(str(c.params.get("text", "")) in self.texts.unavailable for c in again):
                    return True
            raise DriverError("the bot kept apologising")
        if any(t.startswith(self.texts.lost) for t in texts):
            self.result.saw_lost_notice += 1
        elif welcome_expected or not any(w in t for t in texts for w in self.texts.welcome):
            return False
        self.result.restarted_by_bot += 1
        await self._start_once()
        return True

    async def _start_once(self) -> list[Call]:
        self.questions = 0
        self.slipped = False
        self.previous = None
        self._done_habits.discard("slip")
        payload = f"{self.lang}-{self.persona.mode}"
        return await self._act(self.user.send_command(f"/start {payload}"), "start again")

    # --- actions -------------------------------------------------------------------------

    async def _command(self, text: str, *, starting: bool = False) -> None:
        replies = await self._act(self.user.send_text(text), text.split(maxsplit=1)[0])
        apology = any(str(c.params.get("text", "")) in self.texts.unavailable for c in replies)
        if apology or not starting:
            await self._recover(replies)

    async def _type_country(self) -> None:
        code = self.persona.typed_country or ""
        name = self.renderer.country(code, self.lang)
        if self.rng.random() < 0.5:
            name = name.lower()
        self.tally.typed_countries += 1
        replies = await self._act(self.user.send_text(name), "typed country")
        await self._recover(replies)

    async def _press(
        self, suffix: str, *, exact_suffix: bool = False, welcome_expected: bool = False
    ) -> None:
        screen = self._screen()
        if screen.message is None:
            raise DriverError(f"no keyboard to press {suffix!r} on")
        matches = [d for d in screen.data if d.endswith(suffix)]
        if exact_suffix:
            matches = [d for d in matches if _EDIT.fullmatch(d)]
        if len(matches) != 1:
            raise DriverError(f"{len(matches)} buttons end with {suffix!r}: {screen.data}")
        replies = await self._act(self.user.press_data(matches[0], screen.message), suffix)
        await self._recover(replies, welcome_expected=welcome_expected)

    async def _answer(self, suffix: str, message: StoredMessage) -> None:
        """Press an answer; now and then twice, or have Telegram deliver it twice."""
        data = next((d for d in self._screen().data if d.endswith(suffix)), None)
        if data is None:
            raise DriverError(f"no answer {suffix!r} on {self._screen().data}")
        roll = self.rng.random()
        if roll < self.fault_rate:
            self.tally.double_presses += 1
            both = asyncio.gather(
                self.user.press_data(data, message), self.user.press_data(data, message)
            )
            replies = await self._act(both, f"double press {suffix}", second_may_say_stale=True)
        elif roll < 2 * self.fault_rate:
            self.tally.duplicate_deliveries += 1
            update = callback_update(self.api, self.user, message, data)
            if self.rng.random() < 0.5:
                twice = _twice_at_once(self.api, update)
                replies = await self._act(twice, f"same update twice at once {suffix}")
            else:
                replies = await self._act(_one_then_again(self.api, update), f"again {suffix}")
        else:
            replies = await self._act(self.user.press_data(data, message), suffix)
        await self._recover(replies)

    async def _act(
        self, action: Awaitable[Any], what: str, *, second_may_say_stale: bool = False
    ) -> list[Call]:
        """Do one thing, then wait for its single reply (a new or edited message).

        A double press is two updates: if the first one changed the conversation under the
        second (its answers were lost and it started afresh), the second rightly hears that
        its question has changed.
        """
        chat = self.user.id
        mark = self.api.mark(chat)
        started = time.monotonic()
        self.tally.actions += 1
        delivered = await action
        ids = _update_ids(delivered)
        replies = await self.api.replies(chat, mark, within=self.reply_timeout)
        kinds = "".join("s" if c.method == "sendMessage" else "e" for c in replies)
        self.result.log.append(
            f"{started - self.api.started:7.2f}s {what} -> {kinds or '-'}"
            f" +{(replies[0].t_monotonic - started) if replies else 0:.2f}s"
        )
        if not replies:
            self.result.lost_updates += 1
            raise DriverError(f"no reply to {what!r} within {self.reply_timeout}s")
        delay = replies[0].t_monotonic - started
        self.result.delays.append(delay)
        self.result.max_delay = max(self.result.max_delay, delay)
        extra = replies[1:]
        if len(replies) == 2 and any(self._apology(c) or self._lost(c) for c in replies):
            # Redis was down or lost everything between the two deliveries (or presses): the
            # record that would have told them apart was gone, so the second got the apology
            # again or the "answers no longer stored" notice.
            self.tally.repeated_apologies += 1
        elif len(replies) == 2 and second_may_say_stale and any(self._stale(c) for c in replies):
            self.tally.double_press_stale += 1
        elif extra and ids & self.failed_over:
            # The worker that sent the reply was killed before it could acknowledge the
            # update, so Telegram delivered it again and the screen was shown again.
            self.tally.repeated_after_kill += 1
        elif extra:
            self.result.duplicate_replies += 1
            self.result.log.append(
                f"  {len(replies)} replies: " + " | ".join(_brief(c) for c in replies)
            )
        return replies

    # --- reading the screen --------------------------------------------------------------

    def _screen(self) -> _Screen:
        message = self.user.chat.last_keyboard_message
        if message is None:
            return _Screen("none", None, [])
        data = [b.callback_data for b in message.buttons if b.callback_data]
        kinds = {
            "language": any(d.startswith("lang=") for d in data),
            "mode": any(d.startswith("mode=") for d in data),
            "result": "nav:why" in data,
            "review": "nav:result" in data and any(_EDIT.fullmatch(d) for d in data),
        }
        for kind, found in kinds.items():
            if found:
                return _Screen(kind, message, data)
        answers = [m for d in data if (m := _ANSWER.fullmatch(d))]
        if answers:
            return _Screen("question", message, data, answers[0].group(3))
        if set(data) == {"nav:back", "nav:restart"}:
            return _Screen("country_text", message, data)
        return _Screen("none", message, data)


def _update_ids(delivered: object) -> set[int]:
    """The update ids of what an action delivered (an update, or several)."""
    found = delivered if isinstance(delivered, list) else [delivered]
    return {u["update_id"] for u in found if isinstance(u, dict) and "update_id" in u}


async def _one_then_again(api: SoakApi, update: dict[str, Any]) -> dict[str, Any]:
    await api.deliver(update)
    await api.deliver(update)
    return update


async def _twice_at_once(api: SoakApi, update: dict[str, Any]) -> dict[str, Any]:
    await asyncio.gather(api.deliver(update), api.deliver(update))
    return update


def _brief(call: Call) -> str:
    text = str(call.params.get("text", ""))[:40].replace("\n", " ")
    return f"{call.method}:{text}"
