"""One function per legal concept of Decree No. 821, each citing the sources it rests on.

Every concept answers with a `Verdict`: IN (the person is covered as far as this concept
goes), OUT (not covered), UNKNOWN (a fact is missing), or one of two open answers: SEPARATE
(other rules apply, content unknown) and UNCLEAR (the sources do not settle it). Where the
sources disagree or say nothing, the concept says UNCLEAR or a lower certainty rather than
guess; each such choice is explained next to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from rules.facts import STATELESS, AgeBand, Application, Document, Facts, Grounds, Sex
from rules.parameters import DECREE_DATE, MAX_AGE
from rules.reasons import REASONS

__all__ = [
    "CONCEPTS",
    "Status",
    "Verdict",
    "accepted_documents",
    "in_scope_by_age",
    "in_scope_by_application",
    "in_scope_by_citizenship",
    "in_scope_by_grounds",
    "in_scope_by_legal_capacity",
    "in_scope_by_sex",
    "requirement_met",
]


class Status(Enum):
    """A concept's answer."""

    IN = "in"
    OUT = "out"
    UNKNOWN = "unknown"
    SEPARATE = "separate"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A concept's answer, the reason code behind it and the facts it still needs."""

    status: Status
    reason: str | None = None
    needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.reason is not None and self.reason not in REASONS:
            msg = f"unknown reason code {self.reason!r}"
            raise ValueError(msg)


def _unknown(*facts: str) -> Verdict:
    return Verdict(Status.UNKNOWN, needs=facts)


F = TypeVar("F", bound=Callable[..., object])

#: Every concept function with the source ids it cites (checked by tests/rules).
CONCEPTS: dict[str, tuple[str, ...]] = {}


def cites(*source_ids: str) -> Callable[[F], F]:
    """Record the sources a concept function rests on."""

    def register(func: F) -> F:
        CONCEPTS[func.__name__] = source_ids
        return func

    return register


@cites("S1", "S4", "S7", "S13")
def in_scope_by_sex(facts: Facts) -> Verdict:
    """Only men must meet the condition (S4: "лица мужского пола")."""
    if facts.sex is None:
        return _unknown("sex")
    if facts.sex is Sex.FEMALE:
        return Verdict(Status.OUT, "sex_female")
    return Verdict(Status.IN, "sex_male")


@cites("S4", "S7", "S14")
def in_scope_by_age(facts: Facts) -> Verdict:
    """Men aged 18 to 65 (S4 for residence permits; S7 and a blog for citizenship).

    Choices where the sources are silent: 65 itself counts as inside the range, since a wrong
    "not affected" costs more than a cautious "affected" (reason age_at_upper_limit lowers the
    certainty). Over 65 for citizenship rests on weaker sources, so it is only medium.
    """
    band = facts.band()
    if band is None:
        return _unknown("age")
    if band is AgeBand.UNDER_18:
        return Verdict(Status.OUT, "age_under_18")
    if band is AgeBand.OVER_65:
        if facts.application is Application.RESIDENCE_PERMIT:
            return Verdict(Status.OUT, "age_over_65")
        return Verdict(Status.OUT, "age_over_65_citizenship")
    if facts.age == MAX_AGE.on(DECREE_DATE):
        return Verdict(Status.IN, "age_at_upper_limit")
    return Verdict(Status.IN, "age_in_range")


@cites("S4", "S7")
def in_scope_by_legal_capacity(facts: Facts) -> Verdict:
    """Only people with full legal capacity (дееспособные)."""
    if facts.legal_capacity:
        return Verdict(Status.IN, "legal_capacity_full")
    return Verdict(Status.OUT, "legal_capacity_none")


_KZ_MD = frozenset({"KZ", "MD"})


@cites("S1", "S2", "S4", "S5", "S6", "S9", "S10")
def in_scope_by_citizenship(facts: Facts) -> Verdict:
    """Foreign citizens and stateless persons, except Belarus; Ukraine, Kazakhstan, Moldova differ.

    Kazakhstan and Moldova (S2 only, medium): only citizenship applications are covered, so the
    application type is needed. Ukraine (S2, medium): separate rules whose content is unknown,
    so the answer is SEPARATE, never a guess. Stateless persons are covered (S4); whether any
    exemption applies to them is an open question, so none is assumed.
    """
    code = facts.citizenship
    if code is None:
        return _unknown("citizenship")
    if code == "BY":
        return Verdict(Status.OUT, "citizenship_belarus")
    if code == "UA":
        return Verdict(Status.SEPARATE, "citizenship_ukraine")
    if code in _KZ_MD:
        if facts.application is None:
            return _unknown("application")
        if facts.application is Application.RESIDENCE_PERMIT:
            return Verdict(Status.OUT, "citizenship_kz_md_residence_permit")
        return Verdict(Status.IN, "citizenship_kz_md_citizenship")
    if code == STATELESS:
        return Verdict(Status.IN, "stateless")
    return Verdict(Status.IN, "citizenship_covered")


@cites("S1", "S3", "S4", "S7")
def in_scope_by_application(facts: Facts) -> Verdict:
    """Both residence permit (ВНЖ) and citizenship applications are covered."""
    if facts.application is None:
        return _unknown("application")
    if facts.application is Application.RESIDENCE_PERMIT:
        return Verdict(Status.IN, "application_residence_permit")
    return Verdict(Status.IN, "application_citizenship")


@cites("S1", "S2", "S3", "S4", "S13")
def in_scope_by_grounds(facts: Facts) -> Verdict:
    """Long residence and family grounds are covered; some other routes are reported exempt.

    Study (C2: students, graduates, or only honours graduates?) and the compatriot programme
    (one source) are UNCLEAR rather than exempt: a wrong "not affected" could cost a status.
    Other grounds are not discussed by any source (open question 3): UNCLEAR. Highly qualified
    specialists are reported exempt by one family of outlets: OUT with medium certainty.
    """
    grounds = facts.grounds
    if grounds is None:
        return _unknown("grounds")
    if grounds is Grounds.LONG_RESIDENCE:
        if facts.application is Application.RESIDENCE_PERMIT:
            return Verdict(Status.IN, "grounds_long_residence_permit")
        return Verdict(Status.IN, "grounds_long_residence")
    if grounds is Grounds.FAMILY:
        return Verdict(Status.IN, "grounds_family")
    if grounds is Grounds.HIGHLY_QUALIFIED_SPECIALIST:
        return Verdict(Status.OUT, "grounds_highly_qualified_specialist")
    return Verdict(Status.UNCLEAR, f"grounds_{grounds.value}")


_FOR_RESIDENCE_PERMIT = (
    Document.MILITARY_CONTRACT,
    Document.EMERGENCY_CONTRACT,
    Document.DISCHARGE_EXTRACT,
    Document.UNFITNESS_DECISION,
)
_FOR_CITIZENSHIP = (
    Document.UNFITNESS_DECISION,
    Document.SERVICE_BEFORE_2022_02_24,
    Document.MILITARY_CONTRACT,
    Document.EMERGENCY_CONTRACT,
    Document.DISCHARGE_EXTRACT,
)


@cites("S2", "S4", "S5", "S7", "S8", "S12")
def accepted_documents(application: Application) -> tuple[tuple[Document, ...], str]:
    """Which documents satisfy the requirement, by application type.

    Residence permit (S4, high): a contract of a year or more with the armed forces or with
    МЧС, the extract from a discharge order, or a decision of unfitness. Citizenship: S2
    (medium) lists unfitness or service ended before 24 Feb 2022; the servicemen's route (S5,
    S7, S12) grants citizenship for a contract after that date or a discharge during it. How
    the two tracks relate is unclear (C4), so all five are listed with medium certainty.
    """
    if application is Application.RESIDENCE_PERMIT:
        return _FOR_RESIDENCE_PERMIT, "documents_residence_permit"
    return _FOR_CITIZENSHIP, "documents_citizenship"


@cites("S4", "S5")
def requirement_met(facts: Facts, accepted: tuple[Document, ...]) -> tuple[bool | None, Verdict]:
    """Whether the person's documents already satisfy the requirement.

    Service that ended before 24 Feb 2022 is not itself on the residence-permit list: the
    Interior Ministry names the discharge extract as the proof, so the answer is unknown (None)
    until the person says they have that extract.
    """
    if facts.documents is None:
        return None, _unknown("documents")
    held = [doc for doc in facts.documents if doc in accepted]
    if held == [Document.EMERGENCY_CONTRACT]:
        # Factsheet 1.4: medium-high; no source states the МЧС contract's minimum length.
        return True, Verdict(Status.IN, "document_held_emergency_contract")
    if held:
        return True, Verdict(Status.IN, "document_held")
    if facts.documents:
        return None, Verdict(Status.IN, "document_needs_discharge_extract")
    return False, Verdict(Status.IN, "document_none")
