"""Callback data: the short strings inline buttons send back, and the events they mean.

Formats (all well under Telegram's 64 bytes):
    lang=tg                 choose a language
    mode=relative           choose a mode
    c7:citizenship=TJ       answer: question code, turn, then the fact as field=value
    c7:type=citizenship     type the country instead
    e9:grounds              change one answer (from the review)
    nav:back | nav:restart | nav:review | nav:result | nav:why | nav:share
    nav:notify | nav:notify_yes | nav:notify_no   the offer of notices, and its answers
    ntc:show | ntc:stop     the buttons under a notice
Anything else is None: forged or outdated data is ignored politely, never trusted.
"""

from __future__ import annotations

from bot.conversation.events import (
    Answer,
    Back,
    Edit,
    Event,
    Nav,
    Restart,
    SetLanguage,
    SetMode,
    ShowNotice,
    StopNotices,
    TypeCountry,
)
from bot.conversation.questions import BY_CODE
from bot.conversation.state import LANGUAGES, Mode

__all__ = ["MAX_DATA", "decode_button"]

#: Telegram's limit for callback data, in bytes.
MAX_DATA = 64
_NAV = frozenset({"review", "result", "why", "share", "notify", "notify_yes", "notify_no"})
_NOTICE: dict[str, Event] = {"show": ShowNotice(), "stop": StopNotices()}
_FIELDS = frozenset(q.field for q in BY_CODE.values())


def decode_button(data: str) -> Event | None:
    """The event a button's callback data stands for, or None if it is not ours."""
    if len(data) > MAX_DATA:
        return None
    head, sep, tail = data.partition(":")
    if not sep:
        return _choice(data)
    if head == "nav":
        if tail == "back":
            return Back()
        if tail == "restart":
            return Restart()
        return Nav(tail) if tail in _NAV else None
    if head == "ntc":
        return _NOTICE.get(tail)
    turn = _turn(head[1:])
    if turn is None:
        return None
    if head[0] == "e":
        return Edit(turn, tail) if tail in _FIELDS else None
    question = BY_CODE.get(head[0])
    if question is None:
        return None
    field, eq, value = tail.partition("=")
    if field == "type" and value == "citizenship" and question.fact == "citizenship":
        return TypeCountry(turn)
    if not eq or field != question.field or not value:
        return None
    return Answer(turn, field, value)


def _choice(data: str) -> Event | None:
    name, eq, value = data.partition("=")
    if name == "lang" and value in LANGUAGES:
        return SetLanguage(value)
    if name == "mode" and value in Mode.__members__.values():
        return SetMode(value)
    del eq
    return None


def _turn(text: str) -> int | None:
    if not text.isdigit() or len(text) > 9:
        return None
    return int(text)
