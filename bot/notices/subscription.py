"""What one subscription keeps: the answers, the answer last told, the sealed chat, and when
it ends. Nothing else about the person."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict

from bot.conversation.notice import NOTICE_DAYS
from bot.conversation.state import Mode
from rules import Certainty, Finding, Outcome

__all__ = ["NOTICE_DAYS", "Subscription", "Told"]


class Told(BaseModel):
    """The part of a finding a notice is about: it changed if any of these changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Outcome
    requirement_met: bool | None
    certainty: Certainty
    rules_version: str

    @classmethod
    def of(cls, finding: Finding) -> Told:
        return cls(
            outcome=finding.outcome,
            requirement_met=finding.requirement_met,
            certainty=finding.certainty,
            rules_version=finding.rules_version,
        )

    def same_answer(self, other: Told) -> bool:
        """Whether a person would read the same answer (the rules' version aside)."""
        return (self.outcome, self.requirement_met, self.certainty) == (
            other.outcome,
            other.requirement_met,
            other.certainty,
        )


class Subscription(BaseModel):
    """One person's request to be told if their answer changes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The chat id, sealed (`ChatSeal`) and bound to this subscription's key.
    chat: str
    #: The answers, in the field names and values of `decree-bot check`.
    answers: dict[str, str | list[str]]
    lang: str
    mode: Mode
    #: The answer last shown or told.
    told: Told
    #: A notice claimed by a run that may have died before recording it: taken as sent, so a
    #: resumed run never sends it twice.
    sending: Told | None = None
    expires: date

    @staticmethod
    def expiry(today: date) -> date:
        return today + timedelta(days=NOTICE_DAYS)

    def claiming(self, told: Told) -> Subscription:
        """This subscription with a notice about `told` on its way."""
        return Subscription(**{**self.__dict__, "sending": told})

    def settled(self) -> Subscription:
        """The notice on its way taken as told."""
        told = self.sending if self.sending is not None else self.told
        return Subscription(**{**self.__dict__, "told": told, "sending": None})

    def encode(self) -> bytes:
        return self.model_dump_json(exclude_defaults=True).encode()

    @classmethod
    def decode(cls, raw: bytes | str) -> Subscription:
        return cls.model_validate_json(raw)
