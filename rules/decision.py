"""`decide`: combines the concept functions into one finding, the way Catala ends with one rule.

Order of the concepts: sex, age, legal capacity, citizenship, application, grounds, documents.
An exclusion by sex, age, legal capacity or citizenship settles the answer whatever else is
unknown. An exclusion by grounds settles it only once the citizenship is known and is not
Ukraine, whose separate rules might differ. Anything still unknown makes the outcome UNCLEAR
and is listed in `missing`, in the order the bot should ask.
"""

from __future__ import annotations

from datetime import date

from rules.concepts import (
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
from rules.parameters import (
    DECREE_DATE,
    IN_FORCE,
    IN_FORCE_CONFIRMED,
    LATEST_SOURCE_DATE,
    MAX_AGE,
    MIN_AGE,
)
from rules.reasons import CAVEATS, REASONS
from rules.sources import Certainty, weakest

__all__ = ["RULES_VERSION", "decide"]

RULES_VERSION = f"decree-821/{DECREE_DATE.isoformat()}+sources-{LATEST_SOURCE_DATE.isoformat()}"

_SERVICE_RECORDS = frozenset({Document.DISCHARGE_EXTRACT, Document.SERVICE_BEFORE_2022_02_24})
_CONTRACTS = frozenset({Document.MILITARY_CONTRACT, Document.EMERGENCY_CONTRACT})


def decide(facts: Facts, *, on: date) -> Finding:
    """What Decree No. 821 means for a person with these facts, on the day `on`."""
    if not IN_FORCE.on(on):
        return _finding(Outcome.NOT_AFFECTED, ("decree_not_in_force",), facts=facts)
    in_force = "decree_in_force_confirmed" if IN_FORCE_CONFIRMED.on(on) else "decree_in_force"

    citizenship = in_scope_by_citizenship(facts)
    verdicts = [
        in_scope_by_sex(facts),
        in_scope_by_age(facts),
        in_scope_by_legal_capacity(facts),
        citizenship,
    ]
    later = [in_scope_by_application(facts), in_scope_by_grounds(facts)]
    # Grounds can only exclude once we know the person is not under Ukraine's separate rules.
    later_decisive = facts.citizenship is not None and citizenship.status is not Status.SEPARATE
    for verdict in [*verdicts, *(later if later_decisive else ())]:
        if verdict.status is Status.OUT and verdict.reason:
            return _finding(Outcome.NOT_AFFECTED, (verdict.reason,), facts=facts)
    if citizenship.status is not Status.SEPARATE:
        verdicts += later  # Ukraine's separate rules do not depend on application or grounds

    accepted: tuple[Document, ...] = ()
    if facts.application is not None and citizenship.status is not Status.SEPARATE:
        accepted, documents_reason = accepted_documents(facts.application)
        verdicts.append(Verdict(Status.IN, documents_reason))
    open_answer = next((v for v in verdicts if v.status in {Status.SEPARATE, Status.UNCLEAR}), None)
    met: bool | None = None
    if open_answer is None:
        if facts.application is None:
            verdicts.append(
                Verdict(Status.UNKNOWN, needs=("documents",))
                if facts.documents is None
                else Verdict(Status.IN)
            )
        else:
            met, held = requirement_met(facts, accepted)
            verdicts.append(held)

    reasons = (in_force, *(v.reason for v in verdicts if v.reason))
    missing = tuple(dict.fromkeys(need for v in verdicts for need in v.needs))
    if missing:
        return _finding(
            Outcome.UNCLEAR,
            (*reasons, "facts_missing"),
            facts=facts,
            accepted=accepted,
            missing=missing,
        )
    if open_answer is not None and open_answer.status is Status.SEPARATE:
        return _finding(Outcome.SEPARATE_RULES, reasons, facts=facts)
    if open_answer is not None:
        return _finding(Outcome.UNCLEAR, reasons, facts=facts, accepted=accepted)
    return _finding(Outcome.AFFECTED, reasons, facts=facts, accepted=accepted, met=met)


def _finding(
    outcome: Outcome,
    reasons: tuple[str, ...],
    *,
    facts: Facts,
    accepted: tuple[Document, ...] = (),
    met: bool | None = None,
    missing: tuple[str, ...] = (),
) -> Finding:
    claims = [REASONS[r] for r in reasons]
    certainty = (
        Certainty.LOW if outcome is Outcome.UNCLEAR else weakest(tuple(c.certainty for c in claims))
    )
    caveats = _caveats(reasons, facts, accepted)
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


def _caveats(
    reasons: tuple[str, ...], facts: Facts, accepted: tuple[Document, ...]
) -> tuple[str, ...]:
    """The known unknowns that matter for this finding, in the order the bot shows them."""
    if reasons == ("decree_not_in_force",):
        return ()
    found = ["full_text_unpublished"]
    if accepted:
        found.append("standard_documents_still_needed")
        held = set(facts.documents or ()) & set(accepted)
        # Who issues an unfitness decision matters to someone who has none of the others yet.
        if not held or Document.UNFITNESS_DECISION in held:
            found.append("unfitness_via_selection_point")
        if facts.documents and _CONTRACTS.intersection(facts.documents):
            found.append("contract_at_least_one_year")
        if Document.SERVICE_BEFORE_2022_02_24 in accepted:
            found.append("citizenship_servicemen_route")
    # Age limits matter only when nothing before age (sex) already settled the answer.
    if facts.age is not None and "sex_female" not in reasons:
        low, high = MIN_AGE.on(DECREE_DATE), MAX_AGE.on(DECREE_DATE)
        if facts.age in {low - 1, low, high, high + 1}:
            found.append("age_boundary")
    # Which army counts matters only when the documents are weighed at all.
    if accepted and facts.documents and _SERVICE_RECORDS.intersection(facts.documents):
        found.append("service_in_other_army")
    if "grounds_highly_qualified_specialist" in reasons:
        found.append("highly_qualified_specialist_meaning")
    if accepted and facts.application is Application.CITIZENSHIP:
        found.append("new_citizens_military_registration")
    return tuple(found)
