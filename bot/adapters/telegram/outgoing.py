"""Output shaping: replies become Telegram messages (text, keyboard JSON, chunks).

Nothing here sends: `replying.py` does. Button data is never formatted here either: the
conversation's codec made every string a keyboard carries, and this only serialises them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.caching import Bounded
from bot.conversation import Reply
from bot.i18n import Rendered, Renderer

__all__ = ["Keyboard", "Outgoing", "Shaper", "chunks", "keyboard_json"]

#: Rendered button rows: (label, callback data) per button.
Keyboard = tuple[tuple[tuple[str, str], ...], ...]
#: Serialised keyboards kept (questions x languages x turns in use), oldest dropped first.
_KEYBOARDS_KEPT = 4096


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One Telegram message to send or to put in place of the pressed one."""

    text: str
    #: The inline keyboard as the Bot API receives it (JSON), or None.
    markup: str | None
    edit: bool


class Shaper:
    """Replies in a language → the messages to send, with their keyboards serialised once."""

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer
        self._keyboards: Bounded[Keyboard, str] = Bounded(_KEYBOARDS_KEPT)

    def messages(self, replies: tuple[Reply, ...], lang: str) -> list[Outgoing]:
        """Replies merged into as few messages as possible (fewer messages, calmer chat)."""
        merged: list[Rendered] = []
        for item in (self._renderer.render(r, lang) for r in replies):
            last = merged[-1] if merged else None
            if (
                last is not None
                and not last.buttons
                and not item.standalone
                and not last.standalone
            ):
                merged[-1] = replace(item, text=f"{last.text}\n\n{item.text}", edit=last.edit)
            else:
                merged.append(item)
        out: list[Outgoing] = []
        for item in merged:
            parts = chunks(item.text)
            final = len(parts) - 1
            for i, chunk in enumerate(parts):
                markup = self.keyboard(item.buttons) if i == final else None
                out.append(Outgoing(chunk, markup, item.edit and i == 0))
        return out

    def keyboard(self, rows: Keyboard) -> str | None:
        """`keyboard_json`, made once per keyboard: building and serialising PTB objects costs
        more than the rest of a reply."""
        if not rows:
            return None
        cached = self._keyboards.get(rows)
        if cached is None:
            cached = self._keyboards.put(rows, keyboard_json(rows))
        return cached


def keyboard_json(rows: Keyboard) -> str:
    """The keyboard's JSON, exactly as PTB serialises the `InlineKeyboardMarkup`."""
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
    return json.dumps(markup.to_dict())


def chunks(text: str) -> list[str]:
    """Split at paragraph breaks to stay under Telegram's 4096 characters per message."""
    limit = MessageLimit.MAX_TEXT_LENGTH
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
        current = paragraph[:limit]
    out.append(current)
    return out
