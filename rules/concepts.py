"""One function per legal concept of Decree No. 821, each citing the sources it rests on.

Every concept answers with a `Verdict`: IN (the person is covered as far as this concept
goes), OUT (not covered), UNKNOWN (a fact is missing), or one of two open answers: SEPARATE
(other rules apply, content unknown) and UNCLEAR (the sources do not settle it). Where the
sources disagree or say nothing, the concept says UNCLEAR or a lower certainty rather than
guess; each such choice is explained next to it.

An exemption ("not affected") is applied only where the Interior Ministry's clarification (S4)
or two independent source families support it. One family alone (all RFE/RL versions count as
one: S1, S2, S3) makes the answer UNCLEAR with low certainty. The table of exemptions:

| Exemption                    | Sources                       | Test         | Outcome       |
|------------------------------|-------------------------------|--------------|---------------|
| Women                        | S1-S3, S4, S7, S13            | S4           | not affected  |
| Under 18, over 65 (ВНЖ)      | S4, S7                        | S4           | not affected  |
| Over 65 (citizenship)        | S7, S10, S14                  | two families | not affected* |
| No legal capacity            | S4, S7                        | S4           | not affected  |
| Belarus                      | S2, S5, S9, S10               | two families | not affected  |
| Kazakhstan, Moldova (ВНЖ)    | S2 only; S4 names no such one | one family   | unclear (low) |
| Highly qualified specialists | S2, S3 (one family)           | one family   | unclear (low) |
| Study                        | S2, S3, S13 (disagree, C2)    | disputed     | unclear (low) |
| Compatriot programme         | S3 only                       | one family   | unclear (low) |

(*) with medium certainty: NSN and Nakanune report the range for citizenship, S4 does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from rules.facts import (
    SERVICE_ANSWER_DAY,
    STATELESS,
    AgeBand,
    Application,
    Document,
    Facts,
    Grounds,
    Sex,
)
from rules.parameters import Params
from rules.reasons import REASONS

__all__ = [
    "CONCEPTS",
    "Documents",
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


@cites("S4", "S7", "S10", "S14")
def in_scope_by_age(facts: Facts, p: Params) -> Verdict:
    """Men aged 18 to 65 on the day (S4 for residence permits; S7 and S10 for citizenship).

    An exact age is compared with the limits in force on the day of the answer; a band answer
    carries its own limits (see `Facts.band`). Choices where the sources are silent: 65 itself
    counts as inside the range, since a wrong "not affected" costs more than a cautious
    "affected" (reason age_at_upper_limit lowers the certainty). Over 65 for citizenship rests
    on two outlets (NSN, Nakanune) and a blog, not on S4, so it is only medium. Under 18 stays
    "not affected" for an application made now; the caveat age_at_application says that the
    age on the day of applying is what counts.
    """
    if facts.age is None:
        band = facts.band()
    elif facts.age < p.min_age:
        band = AgeBand.UNDER_18
    elif facts.age <= p.max_age:
        band = AgeBand.FROM_18_TO_65
    else:
        band = AgeBand.OVER_65
    if band is None:
        return _unknown("age")
    if band is AgeBand.UNDER_18:
        return Verdict(Status.OUT, "age_under_18")
    if band is AgeBand.OVER_65:
        if facts.application is Application.RESIDENCE_PERMIT:
            return Verdict(Status.OUT, "age_over_65")
        return Verdict(Status.OUT, "age_over_65_citizenship")
    if facts.age == p.max_age:
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

    Belarus: S2 and three Russian outlets (S5, S9, S10), two families: OUT. Kazakhstan and
    Moldova: S2 alone says that only citizenship applications are covered, and S4 (the Interior
    Ministry, on residence permits) names no exception, so a residence permit is UNCLEAR (low),
    never "not affected". Ukraine (S2, medium): separate rules whose content is unknown, so the
    answer is SEPARATE, never a guess. Stateless persons are covered (S4); whether any
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
            return Verdict(Status.UNCLEAR, "citizenship_kz_md_residence_permit")
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


_OPEN_GROUNDS = {
    # One family (S2, S3), not confirmed by S4: unclear, not exempt.
    Grounds.HIGHLY_QUALIFIED_SPECIALIST: "grounds_highly_qualified_specialist",
    # Sources disagree on who (students, graduates, honours graduates; factsheet C2).
    Grounds.STUDY: "grounds_study",
    # One source (S3).
    Grounds.COMPATRIOT_PROGRAM: "grounds_compatriot_program",
    # No source discusses other grounds (factsheet open question 3).
    Grounds.OTHER: "grounds_other",
}


@cites("S1", "S2", "S3", "S4", "S13")
def in_scope_by_grounds(facts: Facts) -> Verdict:
    """Long residence and family grounds are covered; some other routes are reported exempt.

    No reported exemption by grounds passes the two-families test, so every one is UNCLEAR
    (low) rather than OUT: highly qualified specialists (S2, S3, one family), study (S2, S3,
    S13, which disagree on who), the compatriot programme (S3 only) and other grounds (no
    source). A wrong "not affected" could cost a status.
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
    return Verdict(Status.UNCLEAR, _OPEN_GROUNDS[grounds])


_FOR_RESIDENCE_PERMIT = (
    Document.MILITARY_CONTRACT,
    Document.EMERGENCY_CONTRACT,
    Document.DISCHARGE_EXTRACT,
    Document.UNFITNESS_DECISION,
)
_CITIZENSHIP_USUAL = (Document.UNFITNESS_DECISION, Document.SERVICE_BEFORE_2022_02_24)
_CITIZENSHIP_SERVICEMEN = (
    Document.MILITARY_CONTRACT,
    Document.EMERGENCY_CONTRACT,
    Document.DISCHARGE_EXTRACT,
)


@cites("S2", "S4", "S5", "S7", "S8", "S12")
def accepted_documents(application: Application, p: Params) -> tuple[Document, ...]:
    """Which Russian documents satisfy the requirement, by application type.

    Residence permit (S4, high): a contract of a year or more with the armed forces or with
    МЧС, the extract from a discharge order, or a decision of unfitness. Citizenship: S2
    (medium) lists unfitness or service ended before the cut-off (24 Feb 2022); the servicemen's
    route (S5, S7, S12) grants citizenship for a contract after that date or a discharge during
    it. How the two tracks relate is unclear (C4), so all are listed with medium certainty. The
    answer "service ended before 24.02.2022" shows service ended before the cut-off only while
    the cut-off is not earlier than that day.
    """
    if application is Application.RESIDENCE_PERMIT:
        return _FOR_RESIDENCE_PERMIT
    usual = tuple(
        d
        for d in _CITIZENSHIP_USUAL
        if d is not Document.SERVICE_BEFORE_2022_02_24 or p.service_cutoff >= SERVICE_ANSWER_DAY
    )
    return (*usual, *_CITIZENSHIP_SERVICEMEN)


@dataclass(frozen=True, slots=True)
class Documents:
    """What the person's documents mean: whether the requirement is met, and why."""

    #: True: a Russian document on the list is held; False: nothing is held; None: not known.
    met: bool | None
    verdict: Verdict


#: Proof in the sense of S4 and S5: a Russian paper from the list itself. Past service alone
#: is a fact the discharge extract proves, and a foreign paper is not on any list.
_NOT_PROOF = frozenset({Document.SERVICE_BEFORE_2022_02_24, Document.FOREIGN_MILITARY_DOCUMENT})


@cites("S4", "S5")
def requirement_met(facts: Facts, accepted: tuple[Document, ...]) -> Documents:
    """Whether the person's documents already satisfy the requirement.

    Only a Russian paper on the list meets it. Service in Russia's forces or МЧС that ended
    before 24 Feb 2022 is proved by the discharge extract (S4, S5), for a residence permit and
    for citizenship alike, so alone it leaves the answer open (None). Papers from another
    country's army: no source says whether they count (factsheet open question 10; S5 speaks
    of discharge "в ВС РФ или МЧС"), so alone they leave it open too, with low certainty.
    """
    if facts.documents is None:
        return Documents(None, _unknown("documents"))
    held = set(facts.documents)
    proof = {d for d in held & set(accepted) if d not in _NOT_PROOF}
    if proof == {Document.EMERGENCY_CONTRACT}:
        # Medium-high: S2 and S5 name it; S4 (on residence permits) does not.
        return Documents(True, Verdict(Status.IN, "document_held_emergency_contract"))
    if proof:
        return Documents(True, Verdict(Status.IN, "document_held"))
    if Document.SERVICE_BEFORE_2022_02_24 in held:
        return Documents(None, Verdict(Status.IN, "document_needs_discharge_extract"))
    if Document.FOREIGN_MILITARY_DOCUMENT in held:
        return Documents(None, Verdict(Status.IN, "document_foreign_military"))
    return Documents(False, Verdict(Status.IN, "document_none"))
