"""`possibilities`: every branch is exactly what `decide` says with its values filled in."""

from __future__ import annotations

from datetime import date
from itertools import product
from math import prod
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules import Certainty, Facts, Outcome, decide
from rules.possibilities import MAX_UNKNOWN, UNKNOWABLE, possibilities
from tests.rules.test_properties import days, fact_fields, rules_settings

_RANK = {Certainty.LOW: 0, Certainty.MEDIUM: 1, Certainty.HIGH: 2}


@st.composite
def with_unknowns(draw: st.DrawFn) -> tuple[Facts, tuple[str, ...]]:
    """Valid facts and up to three of the fields they leave open, marked unknown."""
    kwargs: dict[str, Any] = draw(fact_fields)
    unknown = draw(
        st.lists(st.sampled_from(list(UNKNOWABLE)), unique=True, min_size=1, max_size=MAX_UNKNOWN)
    )
    for field in unknown:
        kwargs[field] = None
    if "age_band" in unknown:
        kwargs["age"] = None
    return Facts(**kwargs), tuple(unknown)


@rules_settings
@given(with_unknowns(), days)
def test_each_branch_is_decide_on_the_filled_in_facts(
    case: tuple[Facts, tuple[str, ...]], on: date
) -> None:
    """For every value in every branch, `decide` on the filled-in facts gives that branch."""
    facts, unknown = case
    found = possibilities(facts, unknown, on=on)
    seen = []
    for branch in found.branches:
        for when in branch.when:
            assert set(when) == set(unknown)
            filled = Facts.model_validate({**facts.model_dump(), **when})
            finding = decide(filled, on=on)
            assert (
                finding.outcome,
                finding.requirement_met,
                finding.certainty,
                finding.accepted_documents,
            ) == (branch.outcome, branch.requirement_met, branch.certainty,
                  branch.accepted_documents)  # fmt: skip
            seen.append(tuple(sorted((f, str(v)) for f, v in when.items())))
    # Every combination is in exactly one branch.
    assert len(seen) == len(set(seen)) == prod(len(UNKNOWABLE[f]) for f in unknown)
    keys = [
        (b.outcome, b.requirement_met, b.certainty, b.accepted_documents) for b in found.branches
    ]
    assert len(keys) == len(set(keys))


@rules_settings
@given(with_unknowns(), days)
def test_the_answer_for_all_is_shared_or_unclear(
    case: tuple[Facts, tuple[str, ...]], on: date
) -> None:
    """The top outcome is the one all branches share, else unclear; certainty is the lowest."""
    facts, unknown = case
    found = possibilities(facts, unknown, on=on)
    outcomes = {b.outcome for b in found.branches}
    expected = outcomes.pop() if len(outcomes) == 1 else Outcome.UNCLEAR
    assert found.finding.outcome is expected
    lowest = min((b.certainty for b in found.branches), key=_RANK.__getitem__)
    assert found.finding.certainty is lowest
    assert found.whatever_the_answer == (len(found.branches) == 1)
    for branch in found.branches:
        assert set(found.shared_reasons) <= set(branch.first.reasons)
        assert set(found.shared_caveats) <= set(branch.first.caveats)
    asked = {"age" if f == "age_band" else f for f in unknown}
    assert not asked & set(found.finding.missing)


def test_without_unknown_fields_it_is_decide() -> None:
    """With nothing unknown, the answer is `decide`'s finding, unchanged."""
    facts = Facts(sex="male", age=30, citizenship="TJ", application="residence_permit")
    found = possibilities(facts, (), on=date(2026, 12, 2))
    assert found.finding == decide(facts, on=date(2026, 12, 2))
    assert len(found.branches) == 1


@pytest.mark.parametrize(
    ("facts", "unknown", "says"),
    [
        ({"sex": "male"}, ["sex"], "cannot be unknown"),
        ({"sex": "male"}, ["citizenship"], "cannot be unknown"),
        ({"sex": "male"}, ["age_band", "application", "grounds", "documents"], "at most 3"),
        ({"application": "citizenship"}, ["application"], "given"),
        ({"age": 30}, ["age_band"], "given"),
    ],
)
def test_what_cannot_be_unknown_is_refused(
    facts: dict[str, Any], unknown: list[str], says: str
) -> None:
    """Only age band, application, grounds and documents, at most three, and not given too."""
    with pytest.raises(ValueError, match=says):
        possibilities(Facts(**facts), unknown, on=date(2026, 12, 2))


def test_every_value_of_every_field_is_tried() -> None:
    """The values tried are all the values each field can take (documents: none or one)."""
    facts = Facts(sex="male", citizenship="TJ")
    found = possibilities(facts, ["application", "documents"], on=date(2026, 12, 2))
    tried = {(w["application"], tuple(w["documents"])) for b in found.branches for w in b.when}
    assert tried == {
        (str(a), tuple(str(d) for d in docs))
        for a, docs in product(UNKNOWABLE["application"], UNKNOWABLE["documents"])  # type: ignore[misc]
    }
