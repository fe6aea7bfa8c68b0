"""Properties of decide() that hold for every valid set of facts on every day."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rules import (
    CAVEATS,
    DECREE_DATE,
    FACT_NAMES,
    REASONS,
    REVIEWED_ON,
    SOURCES,
    SOURCES_AS_OF,
    STALE_AFTER_DAYS,
    VERY_STALE_AFTER_DAYS,
    AgeBand,
    Application,
    Certainty,
    Document,
    Facts,
    Finding,
    Grounds,
    Outcome,
    Sex,
    decide,
)

#: Applied to each test here, not loaded as a profile, so other test files keep their settings.
rules_settings = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

CITIZENSHIPS = ("TJ", "UZ", "KG", "AZ", "AM", "IN", "CN", "DE", "BY", "UA", "KZ", "MD", "stateless")
# Hypothesis prefers the first value of a list, so each list starts with an ordinary value.
BOUNDARY_AGES = (30, 0, 17, 18, 19, 64, 65, 66, 100, 130)
THRESHOLD_DAYS = (
    SOURCES_AS_OF,
    SOURCES_AS_OF - timedelta(days=1),
    DECREE_DATE,
    DECREE_DATE - timedelta(days=1),
    date(2022, 2, 24),
)
AGE_BANDS = (AgeBand.FROM_18_TO_65, AgeBand.UNDER_18, AgeBand.OVER_65)


def _band(age: int) -> AgeBand:
    band = Facts(age=age).band()
    assert band is not None
    return band


ages = st.sampled_from(BOUNDARY_AGES) | st.integers(min_value=0, max_value=130)
documents = st.lists(st.sampled_from(Document), max_size=3).map(tuple)
#: Mostly days on which the decree applies: the days before it get their own test.
days = st.sampled_from(THRESHOLD_DAYS) | st.dates(
    min_value=date(2025, 6, 1), max_value=date(2030, 12, 31)
)
any_day = days | st.dates()
days_in_force = st.sampled_from(THRESHOLD_DAYS[:3]) | st.dates(
    min_value=DECREE_DATE, max_value=date(2030, 12, 31)
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _age_fields(age_strategy: st.SearchStrategy[int]) -> st.SearchStrategy[dict[str, Any]]:
    """A known age: an exact age, with or without its (consistent) band, or a band alone."""
    exact = st.tuples(age_strategy, st.booleans()).map(
        lambda pair: {"age": pair[0], "age_band": _band(pair[0]) if pair[1] else None}
    )
    return exact | st.sampled_from(AGE_BANDS).map(lambda band: {"age": None, "age_band": band})


known_age = _age_fields(ages)
any_age = st.just({"age": None, "age_band": None}) | known_age


def _merge(parts: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return {**parts[0], **parts[1]}


def _fields(*, complete: bool) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments of a valid Facts; with `complete`, every fact is known."""
    pick = (lambda s: s) if complete else _maybe
    rest = st.fixed_dictionaries(
        {
            "sex": pick(st.sampled_from(Sex)),
            "legal_capacity": st.sampled_from([True] * 5 + [False]),
            "citizenship": pick(st.sampled_from(CITIZENSHIPS)),
            "application": pick(st.sampled_from(Application)),
            "grounds": pick(st.sampled_from(Grounds)),
            "documents": pick(documents),
        }
    )
    return st.tuples(rest, known_age if complete else any_age).map(_merge)


#: Facts of a man whom the decree probably covers, or who falls under Ukraine's separate
#: rules: random facts are mostly not affected, and these keep the other outcomes common.
likely_affected = st.tuples(
    st.fixed_dictionaries(
        {
            "sex": st.just(Sex.MALE),
            "legal_capacity": st.just(True),
            "citizenship": st.sampled_from([c for c in CITIZENSHIPS if c != "BY"]),
            "application": st.sampled_from(Application),
            "grounds": st.sampled_from([Grounds.LONG_RESIDENCE, Grounds.FAMILY]),
            "documents": documents,
        }
    ),
    _age_fields(st.integers(min_value=18, max_value=65)),
).map(_merge)

fact_fields = _fields(complete=False) | likely_affected
complete_fields = _fields(complete=True) | likely_affected
# st.builds, not .map: mapping a one_of makes Hypothesis far slower at finding new inputs.
facts = st.builds(lambda kwargs: Facts(**kwargs), fact_fields)


def _knows(fact: Facts, name: str) -> bool:
    """Whether `name` (one of FACT_NAMES) is known; age_band counts as knowing the age."""
    if name == "age":
        return fact.age is not None or fact.age_band is not None
    if name == "legal_capacity":
        return True  # it defaults to full capacity
    return getattr(fact, name) is not None


def _forget(kwargs: dict[str, Any], name: str) -> dict[str, Any]:
    """The facts with `name` unknown again (for age, both the age and the band)."""
    if name == "age":
        return {**kwargs, "age": None, "age_band": None}
    if name == "legal_capacity":
        return {k: v for k, v in kwargs.items() if k != name}
    return {**kwargs, name: None}


class TestScope:
    """Who can and cannot be affected."""

    @rules_settings
    @given(kwargs=fact_fields, on=days)
    def test_a_woman_is_never_affected(self, kwargs: dict[str, Any], on: date) -> None:
        """Whatever else is known, a woman is not affected."""
        finding = decide(Facts(**{**kwargs, "sex": Sex.FEMALE}), on=on)
        assert finding.outcome is Outcome.NOT_AFFECTED
        assert finding.missing == ()

    @rules_settings
    @given(kwargs=fact_fields, on=days)
    def test_a_belarus_citizen_is_never_affected(self, kwargs: dict[str, Any], on: date) -> None:
        """Whatever else is known, a citizen of Belarus is not affected."""
        finding = decide(Facts(**{**kwargs, "citizenship": "BY"}), on=on)
        assert finding.outcome is Outcome.NOT_AFFECTED

    @rules_settings
    @given(fact=facts, on=st.dates(max_value=DECREE_DATE - timedelta(days=1)))
    def test_nothing_applies_before_the_decree(self, fact: Facts, on: date) -> None:
        """Before 5 November 2025 nobody is affected and nothing needs to be asked."""
        finding = decide(fact, on=on)
        assert finding.outcome is Outcome.NOT_AFFECTED
        assert finding.reasons == ("decree_not_in_force",)
        assert finding.missing == ()


class TestDocuments:
    """Accepted documents and whether the requirement is met."""

    @rules_settings
    @given(fact=facts, on=days)
    def test_affected_findings_list_documents(self, fact: Facts, on: date) -> None:
        """An affected finding lists at least one accepted document and knows the documents."""
        finding = decide(fact, on=on)
        if finding.outcome is Outcome.AFFECTED:
            assert finding.accepted_documents
            assert fact.documents is not None

    @rules_settings
    @given(fact=facts, on=days)
    def test_requirement_met_follows_the_documents(self, fact: Facts, on: date) -> None:
        """Met iff a held Russian paper is on the list (past service alone is not proof); not
        met iff none is held; None otherwise."""
        finding = decide(fact, on=on)
        if finding.outcome is not Outcome.AFFECTED:
            assert finding.requirement_met is None
            return
        assert fact.documents is not None
        held = any(
            doc in finding.accepted_documents and doc is not Document.SERVICE_BEFORE_2022_02_24
            for doc in fact.documents
        )
        assert (finding.requirement_met is True) == held
        assert (finding.requirement_met is False) == (fact.documents == ())

    @rules_settings
    @given(fact=facts, on=days)
    def test_documents_depend_on_the_application(self, fact: Facts, on: date) -> None:
        """No documents are listed before the application type is known."""
        finding = decide(fact, on=on)
        if fact.application is None:
            assert finding.accepted_documents == ()


class TestMissing:
    """What the bot still has to ask."""

    @rules_settings
    @given(fact=facts, on=days)
    def test_missing_iff_unclear_for_lack_of_facts(self, fact: Facts, on: date) -> None:
        """Missing is non-empty exactly when the outcome is unclear for want of facts."""
        finding = decide(fact, on=on)
        lacking = finding.outcome is Outcome.UNCLEAR and "facts_missing" in finding.reasons
        assert bool(finding.missing) == lacking

    @rules_settings
    @given(fact=facts, on=days)
    def test_missing_lists_only_unknown_facts_in_order(self, fact: Facts, on: date) -> None:
        """Missing names unknown facts only, once each, in the order of FACT_NAMES."""
        missing = decide(fact, on=on).missing
        assert not [name for name in missing if _knows(fact, name)]
        assert list(missing) == sorted(set(missing), key=FACT_NAMES.index)

    @rules_settings
    @given(kwargs=likely_affected, on=days_in_force)
    def test_forgetting_a_fact_of_an_affected_case(self, kwargs: dict[str, Any], on: date) -> None:
        """Forgetting one fact of an affected case asks for it, or does not need it."""
        full = decide(Facts(**kwargs), on=on)
        assume(full.outcome is Outcome.AFFECTED)
        for name in FACT_NAMES:
            reduced = decide(Facts(**_forget(kwargs, name)), on=on)
            assert (reduced.outcome is Outcome.UNCLEAR and name in reduced.missing) or (
                reduced == full
            ), name

    @rules_settings
    @given(
        kwargs=complete_fields,
        on=days,
        forget=st.sets(st.sampled_from([n for n in FACT_NAMES if n != "legal_capacity"])),
    )
    def test_a_settled_answer_is_never_overturned(
        self, kwargs: dict[str, Any], on: date, forget: set[str]
    ) -> None:
        """An outcome settled on fewer facts is the outcome once every fact is known."""
        partial = dict(kwargs)
        for name in forget:
            partial = _forget(partial, name)
        early = decide(Facts(**partial), on=on)
        if early.outcome is not Outcome.UNCLEAR:
            assert decide(Facts(**kwargs), on=on).outcome is early.outcome

    @rules_settings
    @given(kwargs=fact_fields, on=days, data=st.data())
    def test_answering_never_adds_questions(
        self, kwargs: dict[str, Any], on: date, data: st.DataObject
    ) -> None:
        """Giving a fact that was missing never makes the list of missing facts longer."""
        before = decide(Facts(**kwargs), on=on)
        if not before.missing:
            return
        name = data.draw(st.sampled_from(before.missing))
        answers = known_age if name == "age" else complete_fields.map(lambda f: {name: f[name]})
        answer = data.draw(answers)
        after = decide(Facts(**{**kwargs, **answer}), on=on)
        assert len(after.missing) <= len(before.missing)
        assert name not in after.missing


class TestFindingShape:
    """Every finding is well formed, explained and traceable to sources."""

    @rules_settings
    @given(fact=facts, on=any_day)
    def test_decide_never_raises(self, fact: Facts, on: date) -> None:
        """Any valid facts on any day give a Finding."""
        assert isinstance(decide(fact, on=on), Finding)

    @rules_settings
    @given(fact=facts, on=days)
    def test_codes_and_sources_are_registered(self, fact: Facts, on: date) -> None:
        """Every reason, caveat and source id in a finding is registered."""
        finding = decide(fact, on=on)
        assert finding.reasons
        assert set(finding.reasons) <= set(REASONS)
        assert set(finding.caveats) <= set(CAVEATS)
        assert set(finding.sources) <= set(SOURCES)
        cited = {s for code in finding.reasons for s in REASONS[code].sources} | {
            s for code in finding.caveats for s in CAVEATS[code].sources
        }
        assert set(finding.sources) == cited

    @rules_settings
    @given(fact=facts, on=days)
    def test_high_certainty_needs_high_claims(self, fact: Facts, on: date) -> None:
        """Certainty is high only if every reason's claim is high, and never for unclear."""
        finding = decide(fact, on=on)
        if finding.certainty is Certainty.HIGH:
            assert all(REASONS[code].certainty is Certainty.HIGH for code in finding.reasons)
        if finding.outcome is Outcome.UNCLEAR:
            assert finding.certainty is Certainty.LOW

    @rules_settings
    @given(fact=facts, on=days)
    def test_finding_is_json(self, fact: Facts, on: date) -> None:
        """A finding serialises to JSON and back to an equal finding."""
        finding = decide(fact, on=on)
        text = json.dumps(finding.model_dump(mode="json"))
        assert Finding.model_validate_json(text) == finding

    @rules_settings
    @given(fact=facts, on=days)
    def test_decide_is_deterministic(self, fact: Facts, on: date) -> None:
        """The same facts on the same day give the same finding, also after a JSON round trip."""
        again = Facts.model_validate_json(fact.model_dump_json())
        assert decide(fact, on=on) == decide(fact, on=on) == decide(again, on=on)


class TestTruthfulness:
    """What no answer may claim (issue 11)."""

    @rules_settings
    @given(kwargs=fact_fields, on=days)
    def test_a_foreign_paper_alone_never_meets_the_requirement(
        self, kwargs: dict[str, Any], on: date
    ) -> None:
        """With papers from another country's army and no Russian paper, never "met"."""
        fact = Facts(**{**kwargs, "documents": (Document.FOREIGN_MILITARY_DOCUMENT,)})
        finding = decide(fact, on=on)
        assert finding.requirement_met is not True
        if finding.outcome is Outcome.AFFECTED:
            assert finding.requirement_met is None
            assert finding.certainty is Certainty.LOW

    @rules_settings
    @given(fact=facts, later=st.integers(min_value=STALE_AFTER_DAYS + 1, max_value=3000))
    def test_no_answer_long_after_the_last_review_is_certain(self, fact: Facts, later: int) -> None:
        """More than 180 days after REVIEWED_ON no answer is high, and it says why; more than
        365 days after, every answer is low."""
        finding = decide(fact, on=REVIEWED_ON + timedelta(days=later))
        assert finding.certainty is not Certainty.HIGH
        assert "rules_not_reviewed_recently" in finding.caveats
        if later > VERY_STALE_AFTER_DAYS:
            assert finding.certainty is Certainty.LOW
