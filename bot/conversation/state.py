"""The conversation state: one small value per conversation, with a schema version.

Field names are one letter in storage because every byte is kept for every person in Redis;
the long names are what the code uses. A value that does not parse, or has another schema,
is never an error: the conversation starts afresh with a polite notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["LANGUAGES", "SCHEMA", "Mode", "State", "Step", "decode", "encode"]

#: Bumped whenever a stored value from an older release could be misread.
SCHEMA = 1

#: Languages offered, in the order of the picker; "en" is the source language.
LANGUAGES = ("ru", "tg", "uz", "uz_Cyrl", "az", "en")


class Mode(StrEnum):
    """For whom the person asks. Changes wording only, never the rules."""

    SELF = "self"
    RELATIVE = "relative"
    NGO = "ngo"


class Step(StrEnum):
    """Where the conversation is. Values are stored: never rename one."""

    LANGUAGE = "lang"
    MODE = "mode"
    QUESTION = "q"
    COUNTRY_TEXT = "ctext"
    REVIEW = "review"
    RESULT = "result"


class State(BaseModel):
    """Everything the bot keeps about one conversation, and nothing more."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    #: Required, so that compact storage (defaults left out) always keeps it.
    schema_version: int = Field(alias="v")
    lang: str | None = Field(default=None, alias="l")
    mode: Mode | None = Field(default=None, alias="m")
    #: An organisation's code from a deep link (letters and digits only).
    org: str | None = Field(default=None, alias="o")
    step: Step = Field(default=Step.LANGUAGE, alias="s")
    #: The fact asked at a QUESTION or COUNTRY_TEXT step.
    asking: str | None = Field(default=None, alias="f")
    #: Answers in the field names and values of `decree-bot check`.
    answers: dict[str, str | list[str]] = Field(default_factory=dict, alias="a")
    #: Facts asked, in order, for "back".
    path: tuple[str, ...] = Field(default=(), alias="h")
    #: Bumped each time the step changes; buttons carry it to detect old messages.
    turn: int = Field(default=0, alias="t")
    #: The first chat message of this conversation, so /forget can delete from there.
    first_message: int | None = Field(default=None, alias="i")

    @classmethod
    def fresh(cls, **fields: object) -> State:
        """A new conversation of the current schema (fields are validated: no typo passes)."""
        return cls.model_validate({"schema_version": SCHEMA, **fields})

    # Every change goes through one of the typed methods below, never `model_copy(update=...)`,
    # which would accept a misspelt field silently. Only `at` changes the step, and it always
    # starts a new turn, so a button shown before the change is recognised as old.

    def at(self, step: Step, *, asking: str | None = None) -> State:
        """This conversation moved to `step`, asking the fact `asking` there, at a new turn."""
        return self.model_copy(update={"step": step, "asking": asking, "turn": self.turn + 1})

    def answered(self, answers: Mapping[str, str | list[str]], path: tuple[str, ...]) -> State:
        """The same step with these answers, and `path` the facts asked, in order."""
        return self.model_copy(update={"answers": dict(answers), "path": path})

    def speaking(self, lang: str) -> State:
        """The same step in another language."""
        return self.model_copy(update={"lang": lang})

    def asked_for(self, mode: Mode) -> State:
        """The same step for another mode (for whom the person asks)."""
        return self.model_copy(update={"mode": mode})

    def starting_at(self, message_id: int) -> State:
        """The same step, remembering the conversation's first chat message (for /forget)."""
        return self.model_copy(update={"first_message": message_id})


def encode(state: State) -> bytes:
    """The stored form of a state: compact JSON, defaults left out, schema always kept."""
    return state.model_dump_json(by_alias=True, exclude_defaults=True).encode()


def decode(raw: bytes | None) -> tuple[State | None, bool]:
    """The state in `raw`, and whether an unreadable or outdated value was dropped."""
    if raw is None:
        return None, False
    try:
        state = State.model_validate_json(raw, by_alias=True)
    except ValidationError:
        return None, True
    if state.schema_version != SCHEMA:
        return None, True
    return state, False
