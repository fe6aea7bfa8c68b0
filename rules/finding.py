"""The output of `decide`: what the decree means for a person, how sure we are, and why."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from rules.facts import Document
from rules.sources import Certainty

__all__ = ["Finding", "Outcome"]


class Outcome(StrEnum):
    """Whether the requirement applies."""

    AFFECTED = "affected"
    NOT_AFFECTED = "not_affected"
    SEPARATE_RULES = "separate_rules"
    UNCLEAR = "unclear"


class Finding(BaseModel):
    """The answer for one set of facts on one day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Outcome
    #: Only for AFFECTED: True if a document held satisfies it, False if none does, None if unknown.
    requirement_met: bool | None
    accepted_documents: tuple[Document, ...]
    certainty: Certainty
    reasons: tuple[str, ...]
    caveats: tuple[str, ...]
    sources: tuple[str, ...]
    missing: tuple[str, ...]
    rules_version: str
