"""Events: what the person did, already translated from Telegram or the console."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "Answer",
    "Back",
    "Edit",
    "Event",
    "Forget",
    "Info",
    "Nav",
    "Restart",
    "Restore",
    "SetLanguage",
    "SetMode",
    "ShowNotice",
    "Start",
    "StopNotices",
    "Text",
    "TypeCountry",
]


@dataclass(frozen=True, slots=True)
class Start:
    """/start, possibly from a deep link; `hint` is the app's language code, if any."""

    payload: str | None = None
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """The person chose a language (or asked for the picker, when `lang` is None)."""

    lang: str | None


@dataclass(frozen=True, slots=True)
class SetMode:
    """The person chose for whom they ask."""

    mode: str


@dataclass(frozen=True, slots=True)
class Answer:
    """A button answer to the question asked at `turn`."""

    turn: int
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class TypeCountry:
    """The person wants to type their country instead of choosing a button."""

    turn: int


@dataclass(frozen=True, slots=True)
class Edit:
    """Change one answer from the review or the result."""

    turn: int
    field: str


@dataclass(frozen=True, slots=True)
class Text:
    """Free text the person typed."""

    text: str


@dataclass(frozen=True, slots=True)
class Back:
    """Go back to the previous question."""


@dataclass(frozen=True, slots=True)
class Restart:
    """Start the interview again, keeping language and mode."""


@dataclass(frozen=True, slots=True)
class Forget:
    """Delete everything about this conversation."""


@dataclass(frozen=True, slots=True)
class Nav:
    """A navigation button: `review`, `result`, `why`, `share`, `notify`, `notify_yes`,
    `notify_no`."""

    to: str


@dataclass(frozen=True, slots=True)
class ShowNotice:
    """ "Show the full answer" under a notice: the adapter turns it into `Restore`."""


@dataclass(frozen=True, slots=True)
class Restore:
    """Show the answer for the answers a notice subscription kept."""

    answers: dict[str, str | list[str]]
    lang: str
    mode: str  # a `Mode` value, checked by the engine


@dataclass(frozen=True, slots=True)
class StopNotices:
    """ "Stop these messages" under a notice."""


@dataclass(frozen=True, slots=True)
class Info:
    """An information command: `help`, `privacy`, `decree`."""

    topic: str


Event: TypeAlias = (
    Start
    | SetLanguage
    | SetMode
    | Answer
    | TypeCountry
    | Edit
    | Text
    | Back
    | Restart
    | Forget
    | Nav
    | Info
    | ShowNotice
    | Restore
    | StopNotices
)
