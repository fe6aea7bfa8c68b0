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

The dated parameters are read once, for the day of the answer, and handed to every step.
A finding given long after the sources were last searched carries a caveat and a lower
certainty (`_staleness`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

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

__all__ = ["RULES_VERSION", "STALE_AFTER_DAYS", "VERY_STALE_AFTER_DAYS", "decide"]

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


def decide(facts: Facts, *, on: date, parameters: ParameterTable = PARAMETERS) -> Finding:
    """What Decree No. 821 means for a person with these facts, on the day `on`."""
    # 1. Not in force.
    if not parameters.in_force.on(on):
        return _finding(Outcome.NOT_AFFECTED, ("decree_not_in_force",), facts=facts, on=on)
    p = parameters.on(on)
    confirmed = parameters.in_force_confirmed.on(on)
    in_force = "decree_in_force_confirmed" if confirmed else "decree_in_force"
    # 2. Excluded.
    scope = _scope(facts, p)
    excluded = _excluded(scope)
    if excluded is not None:
        return _finding(Outcome.NOT_AFFECTED, (excluded,), facts=facts, on=on, p=p)
    verdicts = list(scope)
    accepted: tuple[Document, ...] = ()
    if facts.application is not None and not _separate(scope):
        accepted = accepted_documents(facts.application, p)
        verdicts.append(Verdict(Status.IN, _documents_reason(facts.application)))
    open_answer = _open_question(verdicts)
    # Documents are weighed (and asked for) only when no concept left the answer open.
    documents = _documents(facts, accepted) if open_answer is None else _NOT_WEIGHED
    verdicts.append(documents.verdict)

    reasons = (in_force, *(v.reason for v in verdicts if v.reason))
    # 3. Missing facts.
    missing = _missing(verdicts)
    if missing:
        return _finding(
            Outcome.UNCLEAR,
            (*reasons, "facts_missing"),
            facts=facts,
            on=on,
            p=p,
            accepted=accepted,
            missing=missing,
        )
    # 4. Separate rules, or unclear.
    if open_answer is not None and open_answer.status is Status.SEPARATE:
        return _finding(Outcome.SEPARATE_RULES, reasons, facts=facts, on=on, p=p)
    if open_answer is not None:
        return _finding(Outcome.UNCLEAR, reasons, facts=facts, on=on, p=p, accepted=accepted)
    # 5. Affected, with the documents.
    return _finding(
        Outcome.AFFECTED, reasons, facts=facts, on=on, p=p, accepted=accepted, met=documents.met
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


def _excluded(scope: Sequence[Verdict]) -> str | None:
    """The reason of the first exclusion that settles "not affected", if any.

    The person's own facts (the first four concepts) exclude whatever else is unknown; the
    application and grounds exclude only once the citizenship is known (not UNKNOWN).
    """
    person, route = scope[:4], scope[4:]
    citizenship_known = person[3].status is not Status.UNKNOWN
    for verdict in (*person, *(route if citizenship_known else ())):
        if verdict.status is Status.OUT and verdict.reason:
            return verdict.reason
    return None


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


def _missing(verdicts: Sequence[Verdict]) -> tuple[str, ...]:
    """The facts still needed, once each, in asking order."""
    return tuple(dict.fromkeys(need for v in verdicts for need in v.needs))


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
