"""When some answers are unknown: the finding for each possible answer, grouped.

A father may know his son's age and citizenship, but not what he applies for, on what
grounds, or which papers he holds. Guessing could give him a wrong 🟢. So `possibilities`
tries every value of each unknown field (at most three fields), asks `decide` about each
case, and groups the cases that lead to the same outcome, requirement and certainty. Cases
that would ask for different documents (a residence permit and citizenship) stay apart too:
the documents are part of the answer. Nothing is decided here: every branch is exactly what
`decide` says once that value is filled in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from itertools import product

from pydantic import BaseModel, ConfigDict, Field

from rules.decision import RULES_VERSION, decide
from rules.facts import FACT_NAMES, AgeBand, Application, Document, Facts, Grounds
from rules.finding import Finding, Outcome
from rules.sources import Certainty, weakest

__all__ = ["MAX_UNKNOWN", "UNKNOWABLE", "Branch", "Possibilities", "Value", "possibilities"]

#: The fields a person may not know, and every value each can take. A man is asked for one
#: document he holds, so the documents are "none" or one of them.
UNKNOWABLE: dict[str, tuple[object, ...]] = {
    "age_band": tuple(AgeBand),
    "application": tuple(Application),
    "grounds": tuple(Grounds),
    "documents": (*((document,) for document in Document), ()),
}
#: More unknown fields would make too many cases to be of use to anyone.
MAX_UNKNOWN = 3
#: The fact `decide` lists as missing, where the field has another name.
_FACT = {"age_band": "age"}

#: A value as `decree-bot check` writes it: a string, or a list of documents.
Value = str | list[str]
_Key = tuple[Outcome, bool | None, Certainty, tuple[Document, ...]]


class Branch(BaseModel):
    """The possibilities that lead to one outcome, requirement, certainty and documents."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Outcome
    #: As in `Finding`: only for AFFECTED.
    requirement_met: bool | None
    certainty: Certainty
    accepted_documents: tuple[Document, ...]
    #: Each possibility of this branch: the unknown fields and the value tried for each.
    when: tuple[dict[str, Value], ...]
    #: The finding for the first possibility of the branch (not part of the JSON output).
    first: Finding = Field(exclude=True, repr=False)


class Possibilities(BaseModel):
    """The answer for facts with unknown fields: one finding for all, and its branches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The outcome and requirement shared by every branch (else UNCLEAR and None), the lowest
    #: certainty, and the reasons, caveats, sources and documents of all branches together.
    finding: Finding
    branches: tuple[Branch, ...]
    unknown: tuple[str, ...]
    #: The reasons and caveats that hold for every possible answer, in the finding's order
    #: (a reason such as "you named a document" is true of some answers only).
    shared_reasons: tuple[str, ...] = Field(default=(), exclude=True)
    shared_caveats: tuple[str, ...] = Field(default=(), exclude=True)

    @property
    def whatever_the_answer(self) -> bool:
        """True if some fields are unknown and every possible answer leads to the same result."""
        return bool(self.unknown) and len(self.branches) == 1


def possibilities(facts: Facts, unknown: Iterable[str], *, on: date) -> Possibilities:
    """The finding for each possible value of the `unknown` fields of `facts`, grouped."""
    fields = _checked(facts, frozenset(unknown))
    if not fields:
        finding = decide(facts, on=on)
        branch = Branch(
            outcome=finding.outcome,
            requirement_met=finding.requirement_met,
            certainty=finding.certainty,
            accepted_documents=finding.accepted_documents,
            when=({},),
            first=finding,
        )
        return Possibilities(
            finding=finding,
            branches=(branch,),
            unknown=(),
            shared_reasons=finding.reasons,
            shared_caveats=finding.caveats,
        )
    groups: dict[_Key, list[dict[str, Value]]] = {}
    firsts: dict[_Key, Finding] = {}
    findings: list[Finding] = []
    for values in product(*(UNKNOWABLE[field] for field in fields)):
        filled = dict(zip(fields, values, strict=True))
        finding = decide(facts.model_copy(update=filled), on=on)
        findings.append(finding)
        key = (
            finding.outcome,
            finding.requirement_met,
            finding.certainty,
            finding.accepted_documents,
        )
        groups.setdefault(key, []).append({f: _json(v) for f, v in filled.items()})
        firsts.setdefault(key, finding)
    branches = tuple(
        Branch(
            outcome=outcome,
            requirement_met=met,
            certainty=certainty,
            accepted_documents=documents,
            when=tuple(when),
            first=firsts[outcome, met, certainty, documents],
        )
        for (outcome, met, certainty, documents), when in groups.items()
    )
    together = _together(findings, branches, fields)
    return Possibilities(
        finding=together,
        branches=branches,
        unknown=fields,
        shared_reasons=tuple(r for r in together.reasons if all(r in f.reasons for f in findings)),
        shared_caveats=tuple(c for c in together.caveats if all(c in f.caveats for f in findings)),
    )


def _checked(facts: Facts, unknown: frozenset[str]) -> tuple[str, ...]:
    """The unknown fields in a fixed order, or ValueError if they cannot be unknown."""
    wrong = sorted(unknown - set(UNKNOWABLE))
    if wrong:
        msg = f"{wrong[0]!r} cannot be unknown; these can: {', '.join(UNKNOWABLE)}"
        raise ValueError(msg)
    if len(unknown) > MAX_UNKNOWN:
        msg = f"at most {MAX_UNKNOWN} fields can be unknown"
        raise ValueError(msg)
    given = sorted(f for f in unknown if getattr(facts, f) is not None)
    if "age_band" in unknown and facts.age is not None:
        given.append("age")
    if given:
        msg = f"{given[0]!r} is given, so it cannot also be unknown"
        raise ValueError(msg)
    return tuple(field for field in UNKNOWABLE if field in unknown)


def _json(value: object) -> Value:
    if isinstance(value, tuple):
        return [str(v) for v in value]
    return str(value)


def _together(
    findings: list[Finding], branches: tuple[Branch, ...], fields: tuple[str, ...]
) -> Finding:
    """One finding for all possibilities: what they share, and everything they rest on."""
    outcomes = {b.outcome for b in branches}
    outcome = outcomes.pop() if len(outcomes) == 1 else Outcome.UNCLEAR
    met = {b.requirement_met for b in branches}
    asked = {_FACT.get(field, field) for field in fields}
    missing = {need for f in findings for need in f.missing} - asked

    def every(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for f in findings for code in getattr(f, name)))

    return Finding(
        outcome=outcome,
        requirement_met=met.pop() if outcome is Outcome.AFFECTED and len(met) == 1 else None,
        accepted_documents=tuple(dict.fromkeys(d for f in findings for d in f.accepted_documents)),
        certainty=weakest(tuple(b.certainty for b in branches)),
        reasons=every("reasons"),
        caveats=every("caveats"),
        sources=every("sources"),
        missing=tuple(name for name in FACT_NAMES if name in missing),
        rules_version=RULES_VERSION,
    )
