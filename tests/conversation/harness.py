"""A scripted chat against `ChatService`, rendering every reply like an adapter would."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation import Event, Forget, Info, Restart, SetLanguage, Start, Text, decode_button
from bot.conversation.events import Back
from bot.i18n import Rendered, Renderer
from bot.service import ChatService, Delivery, Handled
from bot.storage import MemoryStore, StateStore
from tests.conftest import TODAY, TTL_SECONDS

__all__ = ["Chat"]

_COMMANDS: dict[str, Event] = {
    "/back": Back(),
    "/restart": Restart(),
    "/language": SetLanguage(None),
    "/forget": Forget(),
    "/help": Info("help"),
    "/privacy": Info("privacy"),
    "/decree": Info("decree"),
}


@dataclass
class Chat:
    """One person's conversation; `log` is the transcript as text lines."""

    renderer: Renderer
    store: StateStore = field(default_factory=lambda: MemoryStore(ttl_seconds=TTL_SECONDS))
    key: str = "test-conversation"
    hint: str | None = None
    log: list[str] = field(default_factory=list)
    keyboards: list[tuple[tuple[tuple[str, str], ...], ...]] = field(default_factory=list)
    last: list[Rendered] = field(default_factory=list)
    handled: Handled | None = None
    update_id: int = 0

    def __post_init__(self) -> None:
        self.service = ChatService(store=self.store, ttl_seconds=TTL_SECONDS)

    async def send(self, event: Event, shown: str) -> list[Rendered]:
        """Deliver one event and record what the person sees."""
        self.update_id += 1
        self.log.append(f">>> {shown}")
        self.handled = await self.service.handle(
            self.key, event, Delivery(update_id=self.update_id, hint=self.hint), today=TODAY
        )
        self.last = [self.renderer.render(r, self.handled.lang) for r in self.handled.replies]
        for rendered in self.last:
            self.log.append(rendered.text)
            for row in rendered.buttons:
                self.log.append("    " + "  ".join(f"[{label}]" for label, _ in row))
            if rendered.buttons:
                self.keyboards.append(rendered.buttons)
            self.log.append("")
        if not self.last:
            self.log.append("(no reply)")
            self.log.append("")
        return self.last

    async def start(self, payload: str | None = None) -> list[Rendered]:
        """/start, optionally with a deep-link payload."""
        return await self.send(
            Start(payload=payload, hint=self.hint), f"/start {payload or ''}".strip()
        )

    async def command(self, name: str) -> list[Rendered]:
        """A slash command such as /back."""
        return await self.send(_COMMANDS[name], name)

    async def type(self, text: str) -> list[Rendered]:
        """Typed text."""
        return await self.send(Text(text), f"(typed) {text}")

    async def press(self, wanted: str, *, old: int = 0, edit: bool = False) -> list[Rendered]:
        """Press the button whose data ends with `wanted` on the newest keyboard, or `old` back.

        With `edit`, press the review's "change" button for the field `wanted`.
        """
        keyboard = self.keyboards[-1 - old]
        for row in keyboard:
            for label, data in row:
                hit = (
                    data.startswith("e") and data.endswith(":" + wanted)
                    if edit
                    else (data == wanted or data.endswith(":" + wanted))
                )
                if hit:
                    event = decode_button(data)
                    assert event is not None, data
                    return await self.send(event, f"[{label}]")
        labels = [data for row in keyboard for _, data in row]
        msg = f"no button {wanted!r} on that keyboard; there are {labels}"
        raise AssertionError(msg)

    def text(self) -> str:
        """The whole transcript."""
        return "\n".join(self.log)
