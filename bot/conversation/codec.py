"""Callback data: the short strings inline buttons send back, built and read in this one place.

Formats (all well under Telegram's 64 bytes):
    lang=tg                 choose a language
    mode=relative           choose a mode
    c7:citizenship=TJ       answer: question code, turn, then the fact as field=value
    c7:type=citizenship     type the country instead
    e9:grounds              change one answer (from the review)
    nav:back | nav:restart | nav:review | nav:result | nav:why | nav:share
    nav:notify | nav:notify_yes | nav:notify_no   the offer of notices, and its answers
    ntc:show | ntc:stop     the buttons under a notice
Screens ask for a button's data here (`answer_data`, `edit_data`, `NAV_*`...) and never
format one themselves, so `decode_button` reads back exactly what was written.
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
from bot.conversation.questions import BY_CODE, BY_FIELD, Question
from bot.conversation.state import LANGUAGES, Mode

__all__ = [
    "MAX_DATA",
    "NAV_BACK",
    "NAV_NOTIFY",
    "NAV_NOTIFY_NO",
    "NAV_NOTIFY_YES",
    "NAV_RESTART",
    "NAV_RESULT",
    "NAV_REVIEW",
    "NAV_SHARE",
    "NAV_WHY",
    "NOTICE_SHOW",
    "NOTICE_STOP",
    "answer_data",
    "decode_button",
    "edit_data",
    "language_data",
    "mode_data",
    "type_country_data",
]

#: Telegram's limit for callback data, in bytes.
MAX_DATA = 64
NAV_BACK = "nav:back"
NAV_RESTART = "nav:restart"
NAV_REVIEW = "nav:review"
NAV_RESULT = "nav:result"
NAV_WHY = "nav:why"
NAV_SHARE = "nav:share"
NAV_NOTIFY = "nav:notify"
NAV_NOTIFY_YES = "nav:notify_yes"
NAV_NOTIFY_NO = "nav:notify_no"
NOTICE_SHOW = "ntc:show"
NOTICE_STOP = "ntc:stop"
_NAV = frozenset({"review", "result", "why", "share", "notify", "notify_yes", "notify_no"})
_NOTICE: dict[str, Event] = {"show": ShowNotice(), "stop": StopNotices()}
_TYPE_COUNTRY = "type=citizenship"


def language_data(lang: str) -> str:
    """The data of the button that chooses `lang`."""
    return f"lang={lang}"


def mode_data(mode: Mode) -> str:
    """The data of the button that chooses `mode`."""
    return f"mode={mode.value}"


def answer_data(question: Question, turn: int, value: str) -> str:
    """The data of an answer button: `value` for `question`, shown at `turn`."""
    return f"{question.code}{turn}:{question.field}={value}"


def type_country_data(question: Question, turn: int) -> str:
    """The data of the button that asks to type the country instead."""
    return f"{question.code}{turn}:{_TYPE_COUNTRY}"


def edit_data(turn: int, field: str) -> str:
    """The data of the button that changes the answer `field`, shown at `turn`."""
    return f"e{turn}:{field}"


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
        return Edit(turn, tail) if tail in BY_FIELD else None
    question = BY_CODE.get(head[0])
    if question is None:
        return None
    field, eq, value = tail.partition("=")
    if tail == _TYPE_COUNTRY and question.fact == "citizenship":
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
    # ASCII only: "²" and "٢" are digits to str.isdigit, and int() refuses some of them.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)
