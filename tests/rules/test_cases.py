"""Legal test cases as data: every case in tests/rules/cases/*.yaml, checked against decide().

A case with `unknown: [field, ...]` is checked against `possibilities` instead: the top-level
expectations against the finding for all possible answers, and `branches` one by one.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from rules import (
    CAVEATS,
    PARAMETERS,
    REASONS,
    Application,
    Document,
    Facts,
    Finding,
    Grounds,
    Outcome,
    ParameterTable,
    decide,
)
from rules.possibilities import Possibilities, possibilities

CASES_DIR = Path(__file__).parent / "cases"

#: Finding fields a case may compare exactly.
EXACT_FIELDS = frozenset(
    {
        "outcome",
        "requirement_met",
        "accepted_documents",
        "certainty",
        "reasons",
        "caveats",
        "sources",
        "missing",
    }
)
#: Extra keys: lists of codes that must appear in the finding's reasons or caveats.
INCLUDE_FIELDS = {"reasons_include": "reasons", "caveats_include": "caveats"}
CASE_KEYS = frozenset({"name", "on", "facts", "unknown", "expect", "xfail", "amend"})
#: Keys of one expected branch.
BRANCH_KEYS = frozenset({"outcome", "requirement_met", "certainty", "accepted_documents", "when"})
ID_LENGTH = 72


def _load() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(loaded, list), f"{path.name}: expected a list of cases"
        for case in loaded:
            # YAML 1.1 reads a bare `on:` key as the boolean True; give it back its name.
            day = case.pop(True, None)
            cases.append({"on": day, **case, "file": path.name})
    return cases


CASES = _load()


def _short(name: str) -> str:
    """The case name cut at a word boundary, for a readable test id."""
    if len(name) <= ID_LENGTH:
        return name
    return name[:ID_LENGTH].rsplit(" ", 1)[0] + "..."


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _table(amendments: list[dict[str, Any]]) -> ParameterTable:
    """The real parameters, plus made-up dated values: `{parameter, from, value}` each."""
    table = PARAMETERS
    for change in amendments:
        name = change["parameter"]
        parameter = getattr(table, name).amended(_day(change["from"]), change["value"], ())
        table = replace(table, **{name: parameter})
    return table


def _params() -> list[Any]:
    params = []
    for case in CASES:
        marks = []
        if "xfail" in case:
            marks.append(pytest.mark.xfail(reason=str(case["xfail"]), strict=True))
        params.append(pytest.param(case, id=_short(str(case.get("name", "?"))), marks=marks))
    return params


def _json_value(value: object) -> object:
    """Finding field values as YAML writes them: tuples as lists, enums as strings."""
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


@pytest.mark.parametrize("case", _params())
def test_case(case: dict[str, Any]) -> None:
    """The finding for the case's facts on its day matches every expected field exactly."""
    unknown_keys = set(case) - CASE_KEYS - {"file"}
    assert not unknown_keys, f"unknown case keys {unknown_keys}"
    expect = case["expect"]
    assert "outcome" in expect, "every case states the expected outcome"
    unknown_fields = set(expect) - EXACT_FIELDS - set(INCLUDE_FIELDS) - {"branches"}
    assert not unknown_fields, f"unknown expect fields {unknown_fields}"

    facts = Facts.model_validate(case["facts"])
    finding: Finding
    if "unknown" in case:
        assert "amend" not in case, "unknown fields are decided on the parameters in force"
        found = possibilities(facts, case["unknown"], on=_day(case["on"]))
        _check_branches(found, expect.get("branches"))
        finding = found.finding
    else:
        assert "branches" not in expect, "branches are expected only with unknown fields"
        table = _table(case.get("amend", []))
        finding = decide(facts, on=_day(case["on"]), parameters=table)

    actual = {field: _json_value(getattr(finding, field)) for field in EXACT_FIELDS}
    for field in EXACT_FIELDS & set(expect):
        assert actual[field] == expect[field], f"{field}: got {actual[field]!r}"
    for key, field in INCLUDE_FIELDS.items():
        absent = [code for code in expect.get(key, []) if code not in actual[field]]
        assert not absent, f"{field} lacks {absent}; got {actual[field]!r}"


def _check_branches(found: Possibilities, expected: list[dict[str, Any]] | None) -> None:
    """The branches are the expected ones, in order, each matching every key given."""
    assert expected is not None, "a case with unknown fields states its branches"
    assert len(found.branches) == len(expected), found.branches
    for branch, want in zip(found.branches, expected, strict=True):
        assert not set(want) - BRANCH_KEYS, f"unknown branch keys {set(want) - BRANCH_KEYS}"
        got = branch.model_dump(mode="json")
        for key, value in want.items():
            assert got[key] == value, f"branch {key}: got {got[key]!r}"


class TestCaseFiles:
    """The case files themselves: enough cases, well named, covering every value."""

    def test_there_are_enough_cases(self) -> None:
        """There are at least 40 cases across all files."""
        assert len(CASES) >= 40

    def test_names_are_unique_full_sentences(self) -> None:
        """Every name is a unique sentence that starts upper case and ends with a full stop."""
        names = [case["name"] for case in CASES]
        assert len(set(names)) == len(names), "duplicate case names"
        bad = [n for n in names if not re.fullmatch(r"[A-Z].*\S\.", n) or len(n.split()) < 5]
        assert not bad

    def test_short_ids_are_unique(self) -> None:
        """Shortened names still tell the cases apart, so test ids stay stable."""
        ids = [_short(case["name"]) for case in CASES]
        assert len(set(ids)) == len(ids)

    def test_every_value_appears(self) -> None:
        """Every Document, Grounds, Application and outcome value appears in some case."""
        facts = [case["facts"] for case in CASES]
        documents = {d for f in facts for d in f.get("documents") or []}
        assert documents == {d.value for d in Document}
        assert {f.get("grounds") for f in facts} >= {g.value for g in Grounds}
        assert {f.get("application") for f in facts} >= {a.value for a in Application}
        assert {case["expect"]["outcome"] for case in CASES} == {o.value for o in Outcome}

    def test_codes_in_expectations_are_registered(self) -> None:
        """Reason and caveat codes named in expectations exist, so a typo cannot pass."""
        for case in CASES:
            expect = case["expect"]
            for code in [*expect.get("reasons", []), *expect.get("reasons_include", [])]:
                assert code in REASONS, f"{case['name']}: unknown reason {code}"
            for code in [*expect.get("caveats", []), *expect.get("caveats_include", [])]:
                assert code in CAVEATS, f"{case['name']}: unknown caveat {code}"

    def test_every_citizenship_rule_is_exercised(self) -> None:
        """Belarus, Ukraine, Kazakhstan, Moldova, stateless and other countries all appear."""
        pairs = {
            (case["facts"].get("citizenship"), case["facts"].get("application")) for case in CASES
        }
        for code in ("BY", "UA", "KZ", "MD"):
            for application in Application:
                assert (code, application.value) in pairs, (code, application)
        codes = {c for c, _ in pairs}
        assert {"stateless", "TJ", "UZ", "KG", "AZ", "AM"} <= codes
