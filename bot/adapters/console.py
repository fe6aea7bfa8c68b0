"""The console chat: the same engine and service in a terminal, on the in-memory store.

Buttons are numbered; type a number to press one, type text to answer in words (a country's
name), or a command: /back, /restart, /language, /forget, /help, /privacy, /decree, /quit
(the words back, restart and quit work too). It reads any stream, so a script can drive it.

Notices work here too, in memory: after "Tell me if this changes", `/notify 2028-01-01` runs
the notice run as if on that day and prints the notice, if the answer would have changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import TextIO

from bot.conversation import (
    Back,
    Event,
    Forget,
    Info,
    Mode,
    Preset,
    Restart,
    SetLanguage,
    Start,
    Text,
    decode_button,
    make_payload,
)
from bot.conversation.events import ShowNotice
from bot.conversation.notice import notice_reply
from bot.conversation.replies import Msg
from bot.i18n import Renderer
from bot.messages import CONSOLE_HINT, CONSOLE_NOT_A_CHOICE
from bot.notices import ChatSeal, Courier, MemorySubscriptions, Notices, Outcome, notify
from bot.notices.store import NOTICE_PREFIX
from bot.notices.subscription import Subscription
from bot.service import ChatService, Delivery, Handled
from bot.storage import KeyMaker
from rules import Finding

__all__ = ["run_console"]

_KEY = "console"
_CHAT = 0  # the console's one chat, for its notice subscription
_QUIT = frozenset({"/quit", "quit", "/exit", "exit"})
_COMMANDS: dict[str, Event] = {
    "/back": Back(),
    "back": Back(),
    "/restart": Restart(),
    "restart": Restart(),
    "/language": SetLanguage(None),
    "/forget": Forget(),
    "/help": Info("help"),
    "/privacy": Info("privacy"),
    "/decree": Info("decree"),
}


class _Screen:
    """Prints replies and remembers the buttons that numbers refer to."""

    def __init__(self, renderer: Renderer, out: TextIO) -> None:
        self._renderer = renderer
        self.out = out
        self.buttons: list[str] = []
        self.lang = "en"

    def show(self, handled: Handled) -> None:
        self.lang = handled.lang
        for reply in handled.replies:
            rendered = self._renderer.render(reply, handled.lang)
            print(rendered.text, file=self.out)
            if rendered.buttons:
                self.buttons = []
                for row in rendered.buttons:
                    cells = []
                    for label, data in row:
                        self.buttons.append(data)
                        cells.append(f"[{len(self.buttons)}] {label}")
                    print("   ".join(cells), file=self.out)
            print(file=self.out)

    def say(self, message_id: str) -> None:
        print(self._renderer.text(Msg(message_id), self.lang), file=self.out)
        print(file=self.out)


async def run_console(
    *,
    service: ChatService,
    renderer: Renderer,
    stdin: TextIO,
    stdout: TextIO,
    today: Callable[[], date],
    lang: str | None = None,
    mode: str | None = None,
) -> int:
    """Chat in a terminal until /quit or the end of input."""
    screen = _Screen(renderer, stdout)
    secret = secrets.token_bytes(32)
    notices = Notices(MemorySubscriptions(), ChatSeal(secret), KeyMaker(secret, 0, NOTICE_PREFIX))
    payload = make_payload(Preset(lang=lang, mode=None if mode is None else Mode(mode)))
    screen.show(
        await service.handle(_KEY, Start(payload=payload or None), Delivery(), today=today())
    )
    if stdin.isatty():
        screen.say(CONSOLE_HINT)
    while True:
        if stdin.isatty():
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            return 0
        text = line.strip()
        if not text:
            continue
        if text.lower() in _QUIT:
            return 0
        if text.lower().startswith("/notify"):
            await _notify(notices, screen, text.partition(" ")[2].strip(), today())
            continue
        event = _event(text, screen.buttons)
        if event is None:
            screen.say(CONSOLE_NOT_A_CHOICE)
            continue
        if isinstance(event, ShowNotice):
            event = await notices.restore(_CHAT) or event
        handled = await service.handle(_KEY, event, Delivery(), today=today())
        if handled.subscribe is not None:
            await notices.subscribe(_CHAT, handled.subscribe, today=today())
        if handled.unsubscribe or handled.wipe:
            await notices.forget(_CHAT)
        screen.show(handled)


async def _notify(notices: Notices, screen: _Screen, day: str, today: date) -> None:
    """The notice run on the console's one subscription, as if on `day`; prints the notice."""
    try:
        on = date.fromisoformat(day) if day else today
    except ValueError:
        screen.say(CONSOLE_NOT_A_CHOICE)
        return

    async def show(_chat: int, subscription: Subscription, finding: Finding) -> Outcome:
        told = subscription.told
        before = (told.outcome, told.requirement_met, told.certainty)
        reply = notice_reply(before, finding, subscription.mode)
        screen.show(Handled((reply,), subscription.lang))
        return Outcome.SENT

    report = await notify(notices.store, Courier(notices.seal, show), today=on)
    print(report.table(), file=screen.out)
    print(file=screen.out)


def _event(text: str, buttons: list[str]) -> Event | None:
    command = _COMMANDS.get(text.lower())
    if command is not None:
        return command
    if text.lower().startswith("/start"):
        return Start(payload=text.partition(" ")[2] or None)
    if text.isdigit():
        index = int(text) - 1
        if not 0 <= index < len(buttons):
            return None
        return decode_button(buttons[index])
    return Text(text)
