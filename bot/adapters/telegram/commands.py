"""What a Telegram update says: the conversation event (a command, typed text), the app's
language, and the `Delivery` (how the update arrived).

Only reading: nothing here sends, stores or logs.
"""

from __future__ import annotations

from telegram import Update, User

from bot.conversation import (
    Back,
    Event,
    Forget,
    Info,
    Restart,
    SetLanguage,
    Start,
    Text,
    negotiate,
)
from bot.service import DEFAULT_LANGUAGE, Delivery, Pacing

__all__ = [
    "MAX_TEXT",
    "command_name",
    "delivery_of",
    "group_language",
    "hint_of",
    "text_event",
]

#: Longer typed text is not read: no answer of ours needs more.
MAX_TEXT = 300

_COMMANDS: dict[str, Event] = {
    "back": Back(),
    "restart": Restart(),
    "language": SetLanguage(None),
    "forget": Forget(),
    "help": Info("help"),
    "privacy": Info("privacy"),
    "decree": Info("decree"),
}


def hint_of(user: User | None) -> str | None:
    """The app's language code, if it is one (a forged update may carry anything)."""
    code = user.language_code if user is not None else None
    return code if isinstance(code, str) else None


def group_language(hint: str | None, languages: tuple[str, ...]) -> str:
    """The language for a reply in a group: the app's, if we speak it, else the default."""
    found = negotiate(hint)
    return found if found in languages else DEFAULT_LANGUAGE


def command_name(text: str, bot_username: str) -> str | None:
    """ "/start@our_bot payload" → "start"; a command for another bot → None."""
    if not text.startswith("/"):
        return None
    head = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    name, _, target = head.partition("@")
    if target and target.lower() != bot_username.lower():
        return None
    return name.lower()


def text_event(text: str, hint: str | None) -> Event | None:
    """Typed text in a private chat as an event; None for a command we do not know."""
    if not text.startswith("/"):
        return Text(text)
    name = command_name(text, "")  # private chats: a @mention is irrelevant
    if name is None:
        return None
    if name == "start":
        parts = text.split(maxsplit=1)
        return Start(payload=parts[1] if len(parts) > 1 else None, hint=hint)
    return _COMMANDS.get(name)


def delivery_of(update: Update, hint: str | None, pacing: Pacing) -> Delivery:
    """How `update` arrived. Telegram's ids are integers; a forged one may be anything, and is
    not deduplicated. A delivery again of the latest update answers with the current screen."""
    message = update.effective_message
    return Delivery(
        update_id=update.update_id if type(update.update_id) is int else None,
        message_id=message.message_id if message and type(message.message_id) is int else None,
        hint=hint,
        replay=True,
        pacing=pacing,
    )
