"""The conversation state: one small value per conversation, with a schema version.

Field names are one letter in storage because every byte is kept for every person in Redis;
the long names are what the code uses. So are the facts in `f` and `h` (`FACT_CODES`, since
schema 2; schema 1 named them in full and is still read). A value that does not parse, or
has another schema, is never an error: the conversation starts afresh with a polite notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

__all__ = ["FACT_CODES", "LANGUAGES", "SCHEMA", "Mode", "State", "Step", "decode", "encode"]

#: Bumped whenever a stored value from an older release could be misread.
SCHEMA = 2
#: Schema 1 stored the facts of `f` and `h` by name ("h":["sex","age"], not "h":"sa").
_SCHEMA_FACTS_NAMED = 1

#: The letter that stands for each fact in `f` and `h` (its question's letter in callback
#: data too). Stored: never change one.
FACT_CODES: Final[Mapping[str, str]] = {
    "sex": "s",
    "age": "a",
    "citizenship": "c",
    "application": "p",
    "grounds": "g",
    "documents": "d",
}
_FACTS: Final = {code: fact for fact, code in FACT_CODES.items()}

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
    schema_version: int = Field(alias="v", strict=True)  # never a JSON true
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

    @model_validator(mode="before")
    @classmethod
    def _stored_facts(cls, data: Any) -> Any:
        """A stored record (keyed by aliases, "v" first of all) has its facts read back."""
        return _facts_read(data) if isinstance(data, dict) and "v" in data else data

    @model_serializer(mode="wrap", when_used="json")
    def _facts_as_letters(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Stored, the facts of `f` and `h` are their letters ("h":"sac")."""
        stored = handler(self)
        if stored.get("f") is not None:
            stored["f"] = FACT_CODES[stored["f"]]
        if "h" in stored:
            stored["h"] = "".join(FACT_CODES[fact] for fact in stored["h"])
        return stored

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
    """The stored form of a state: compact JSON, defaults left out, schema always kept, and
    the facts of `f` and `h` as their letters ("h":"sac")."""
    return state.model_dump_json(by_alias=True, exclude_defaults=True).encode()


def decode(raw: bytes | None) -> tuple[State | None, bool]:
    """The state in `raw`, and whether an unreadable or outdated value was dropped. A schema 1
    record reads as the current schema: the next write stores it so."""
    if raw is None:
        return None, False
    try:
        state = State.model_validate_json(raw, by_alias=True)
    except ValidationError:
        return None, True
    if state.schema_version == _SCHEMA_FACTS_NAMED:
        return state.model_copy(update={"schema_version": SCHEMA}), False
    if state.schema_version != SCHEMA:
        return None, True
    return state, False


def _facts_read(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored record's facts of `f` and `h` by name: read from their letters (schema 2), or
    checked to have one (schema 1, which named them). ValueError for anything else."""
    version = stored.get("v")
    named = dict(stored)
    if version == SCHEMA and type(version) is int:
        if "f" in named:
            named["f"] = _fact(named["f"])
        if "h" in named:
            if not isinstance(named["h"], str):
                raise ValueError("h: the letters of the facts asked")
            named["h"] = [_fact(code) for code in named["h"]]
    elif version == _SCHEMA_FACTS_NAMED and type(version) is int:
        facts = [*named.get("h", ()), *([named["f"]] if named.get("f") is not None else [])]
        if not set(facts) <= FACT_CODES.keys():
            raise ValueError("a fact without a letter")
    return named


def _fact(code: object) -> str:
    if not isinstance(code, str) or code not in _FACTS:
        raise ValueError("not a fact's letter")
    return _FACTS[code]
