"""`decide`: combines the concept functions into one finding, the way Catala ends with one rule.

The rule reads as five steps, each a small function below:
1. not in force: before the decree, nobody is affected;
2. excluded: sex, age, legal capacity or citizenship settles "not affected" whatever else is
   unknown; grounds could too, but only once the citizenship is known and is not Ukraine,
   whose separate rules might differ;
3. missing facts: anything still unknown makes the outcome UNCLEAR and is listed in
   `missing`, in the order the bot should ask;
4. separate rules or unclear: an open answer of any concept (Ukraine; a reported exemption
   that fails the two-families test; disputed grounds);
5. affected, with the documents that would satisfy the requirement and whether one is held.

The dated parameters are read once, for the day of the answer, into one `Params` snapshot
that every step reads (`ParameterTable.on`); only whether the decree is in force is read
before it, since no other parameter has a value before the decree.
A finding given long after the sources were last searched carries a caveat and a lower
certainty (`_staleness`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from rules.concepts import (
    Documents,
    Status,
    Verdict,
    accepted_documents,
    in_scope_by_age,
    in_scope_by_application,
    in_scope_by_citizenship,
    in_scope_by_grounds,
    in_scope_by_legal_capacity,
    in_scope_by_sex,
    requirement_met,
)
from rules.facts import Application, Document, Facts
from rules.finding import Finding, Outcome
from rules.parameters import DECREE_DATE, PARAMETERS, ParameterTable, Params
from rules.reasons import CAVEATS, REASONS
from rules.sources import REVIEWED_ON, SOURCES_AS_OF, Certainty, weakest

__all__ = ["RULES_VERSION", "STALE_AFTER_DAYS", "STEPS", "VERY_STALE_AFTER_DAYS", "decide"]

RULES_VERSION = (
    f"decree-821/{DECREE_DATE.isoformat()}+sources-{SOURCES_AS_OF.isoformat()}"
    f"+reviewed-{REVIEWED_ON.isoformat()}"
)
#: Days after REVIEWED_ON from which a finding is at most medium, then at most low.
STALE_AFTER_DAYS = 180
VERY_STALE_AFTER_DAYS = 365

_CONTRACTS = frozenset({Document.MILITARY_CONTRACT, Document.EMERGENCY_CONTRACT})
_OPEN = frozenset({Status.SEPARATE, Status.UNCLEAR})
_NOT_WEIGHED = Documents(None, Verdict(Status.IN))

F = TypeVar("F", bound=Callable[..., object])

#: Every step of `decide` with the source ids it rests on (checked by tests/rules).
STEPS: dict[str, tuple[str, ...]] = {}


def _step(*source_ids: str) -> Callable[[F], F]:
    """Record the sources a step of `decide` rests on, as `concepts.cites` does for concepts."""

    def register(func: F) -> F:
        STEPS[func.__name__] = source_ids
        return func

    return register


def decide(facts: Facts, *, on: date, parameters: ParameterTable = PARAMETERS) -> Finding:
    """What Decree No. 821 means for a person with these facts, on the day `on`: the first
    step that settles it, in the order of the law."""
    if not parameters.in_force.on(on):
        return _not_in_force(facts, on)
    case = _weigh(facts, parameters.on(on))
    return _excluded(case) or _missing_facts(case) or _separate_or_unclear(case) or _affected(case)


@dataclass(frozen=True, slots=True)
class _Case:
    """What the concepts say about one person on one day: read once, shared by the steps."""

    facts: Facts
    #: The parameters in force on the day of the answer (one snapshot for every step).
    p: Params
    #: The concepts of scope, in asking order (`_scope`).
    scope: tuple[Verdict, ...]
    #: The documents that satisfy the requirement for this application (none yet: unknown).
    accepted: tuple[Document, ...]
    #: Every verdict, the documents' last: what the missing facts and the reasons come from.
    verdicts: tuple[Verdict, ...]
    #: The first answer the sources leave open (separate rules, or unclear), if any.
    open_answer: Verdict | None
    #: Whether a document held meets the requirement (not weighed while an answer is open).
    documents: Documents

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why: the decree in force, then each concept's reason, in asking order."""
        confirmed = self.p.in_force_confirmed
        in_force = "decree_in_force_confirmed" if confirmed else "decree_in_force"
        return (in_force, *(v.reason for v in self.verdicts if v.reason))

    def finding(
        self,
        outcome: Outcome,
        reasons: tuple[str, ...],
        *,
        accepted: tuple[Document, ...] = (),
        missing: tuple[str, ...] = (),
        met: bool | None = None,
    ) -> Finding:
        """The finding for this case on its day, with the caveats that apply to it."""
        return _finding(
            outcome,
            reasons,
            facts=self.facts,
            on=self.p.day,
            p=self.p,
            accepted=accepted,
            met=met,
            missing=missing,
        )


def _weigh(facts: Facts, p: Params) -> _Case:
    """Every concept, once, on the parameters of the day."""
    scope = _scope(facts, p)
    verdicts = list(scope)
    accepted: tuple[Document, ...] = ()
    if facts.application is not None and not _separate(scope):
        accepted = accepted_documents(facts.application, p)
        verdicts.append(Verdict(Status.IN, _documents_reason(facts.application)))
    open_answer = _open_question(verdicts)
    # Documents are weighed (and asked for) only when no concept left the answer open.
    documents = _documents(facts, accepted) if open_answer is None else _NOT_WEIGHED
    verdicts.append(documents.verdict)
    return _Case(facts, p, scope, accepted, tuple(verdicts), open_answer, documents)


@_step("S5", "S12")
def _not_in_force(facts: Facts, on: date) -> Finding:
    """1. Not in force: before the decree took effect on publication (5 November 2025, S5,
    S12), nobody is affected."""
    return _finding(Outcome.NOT_AFFECTED, ("decree_not_in_force",), facts=facts, on=on)


@_step("S4", "S7")
def _excluded(case: _Case) -> Finding | None:
    """2. Excluded: the first exclusion that settles "not affected" whatever else is unknown.

    The person's own facts (sex, age, legal capacity, citizenship: S4, S7) exclude at once.
    Application and grounds exclude only once the citizenship is known and is not Ukraine,
    whose separate rules might differ (`_scope` does not ask them for Ukraine).
    """
    person, route = case.scope[:4], case.scope[4:]
    citizenship_known = person[3].status is not Status.UNKNOWN
    for verdict in (*person, *(route if citizenship_known else ())):
        if verdict.status is Status.OUT and verdict.reason:
            return case.finding(Outcome.NOT_AFFECTED, (verdict.reason,))
    return None


@_step()
def _missing_facts(case: _Case) -> Finding | None:
    """3. Missing facts: anything still unknown makes the outcome UNCLEAR, with the facts
    listed once each in the order the bot asks. No source: the bot's own rule never to guess
    a fact (the sources of each concept still stand behind its reason)."""
    missing = tuple(dict.fromkeys(need for v in case.verdicts for need in v.needs))
    if not missing:
        return None
    return case.finding(
        Outcome.UNCLEAR,
        (*case.reasons, "facts_missing"),
        accepted=case.accepted,
        missing=missing,
    )


@_step("S2", "S3", "S4")
def _separate_or_unclear(case: _Case) -> Finding | None:
    """4. Separate rules or unclear: a concept the sources leave open. Ukraine's citizens
    follow separate rules whose content is not known (S2); a reported exemption with one
    source family only (S2, S3) or disputed grounds leave the answer unclear (S4 names none)."""
    open_answer = case.open_answer
    if open_answer is None:
        return None
    if open_answer.status is Status.SEPARATE:
        return case.finding(Outcome.SEPARATE_RULES, case.reasons)
    return case.finding(Outcome.UNCLEAR, case.reasons, accepted=case.accepted)


@_step("S2", "S4", "S5")
def _affected(case: _Case) -> Finding:
    """5. Affected: covered, with the documents that would satisfy the requirement (S4 for a
    residence permit; S2, S5 for citizenship) and whether one is held."""
    return case.finding(
        Outcome.AFFECTED,
        case.reasons,
        accepted=case.accepted,
        met=case.documents.met,
    )


def _scope(facts: Facts, p: Params) -> tuple[Verdict, ...]:
    """Who is covered: the concepts in the order the bot asks. Ukraine's separate rules are
    not known to depend on application or grounds, so those are not asked for Ukraine."""
    citizenship = in_scope_by_citizenship(facts)
    person = (
        in_scope_by_sex(facts),
        in_scope_by_age(facts, p),
        in_scope_by_legal_capacity(facts),
        citizenship,
    )
    if citizenship.status is Status.SEPARATE:
        return person
    return (*person, in_scope_by_application(facts), in_scope_by_grounds(facts))


def _separate(scope: Sequence[Verdict]) -> bool:
    """Ukraine: the citizenship concept answered SEPARATE."""
    return any(v.status is Status.SEPARATE for v in scope)


def _open_question(verdicts: Sequence[Verdict]) -> Verdict | None:
    """The first concept the sources leave open (separate rules, or unclear)."""
    return next((v for v in verdicts if v.status in _OPEN), None)


def _documents_reason(application: Application) -> str:
    """The reason code for the list of documents (S4 for a residence permit; S2 and the
    servicemen's route for citizenship)."""
    if application is Application.RESIDENCE_PERMIT:
        return "documents_residence_permit"
    return "documents_citizenship"


def _documents(facts: Facts, accepted: tuple[Document, ...]) -> Documents:
    """Whether a document held meets the requirement (S4, S5). Without an application the
    list is not known yet, but the documents answer is still needed."""
    if facts.application is None:
        if facts.documents is None:
            return Documents(None, Verdict(Status.UNKNOWN, needs=("documents",)))
        return Documents(None, Verdict(Status.IN))
    return requirement_met(facts, accepted)


def _finding(
    outcome: Outcome,
    reasons: tuple[str, ...],
    *,
    facts: Facts,
    on: date,
    p: Params | None = None,
    accepted: tuple[Document, ...] = (),
    met: bool | None = None,
    missing: tuple[str, ...] = (),
) -> Finding:
    claims = [REASONS[r] for r in reasons]
    certainty = (
        Certainty.LOW if outcome is Outcome.UNCLEAR else weakest(tuple(c.certainty for c in claims))
    )
    caveats = _caveats(reasons, facts, accepted, p) if p is not None else ()
    certainty, stale = _staleness(certainty, on)
    caveats = (*caveats, *stale)
    sources = dict.fromkeys(
        s for code in reasons + caveats for s in (REASONS | CAVEATS)[code].sources
    )
    return Finding(
        outcome=outcome,
        requirement_met=met if outcome is Outcome.AFFECTED else None,
        accepted_documents=accepted,
        certainty=certainty,
        reasons=reasons,
        caveats=caveats,
        sources=tuple(sources),
        missing=missing,
        rules_version=RULES_VERSION,
    )


def _staleness(certainty: Certainty, on: date) -> tuple[Certainty, tuple[str, ...]]:
    """Cap the certainty of an answer given long after the sources were last searched: at most
    medium after 180 days, at most low after 365, with a caveat saying so."""
    days = (on - REVIEWED_ON).days
    if days > VERY_STALE_AFTER_DAYS:
        return Certainty.LOW, ("rules_not_reviewed_recently",)
    if days > STALE_AFTER_DAYS:
        return weakest((certainty, Certainty.MEDIUM)), ("rules_not_reviewed_recently",)
    return certainty, ()


def _caveats(
    reasons: tuple[str, ...], facts: Facts, accepted: tuple[Document, ...], p: Params
) -> tuple[str, ...]:
    """The known unknowns that matter for this finding, in the order the bot shows them."""
    found = ["full_text_unpublished"]
    if accepted:
        found.append("standard_documents_still_needed")
        held = set(facts.documents or ()) & set(accepted)
        # Who issues an unfitness decision matters to someone who has none of the others yet.
        if not held or Document.UNFITNESS_DECISION in held:
            found.append("unfitness_via_selection_point")
        if facts.documents and _CONTRACTS.intersection(facts.documents):
            found.append("contract_at_least_one_year")
        if facts.application is Application.CITIZENSHIP:
            found.append("citizenship_servicemen_route")
    if "age_under_18" in reasons:
        found.append("age_at_application")
    # Age limits matter only when nothing before age (sex) already settled the answer.
    near_limit = facts.age in {p.min_age - 1, p.min_age, p.max_age, p.max_age + 1}
    if facts.age is not None and near_limit and "sex_female" not in reasons:
        found.append("age_boundary")
    if "grounds_highly_qualified_specialist" in reasons:
        found.append("highly_qualified_specialist_meaning")
    if accepted and facts.application is Application.CITIZENSHIP:
        found.append("new_citizens_military_registration")
    return tuple(found)
