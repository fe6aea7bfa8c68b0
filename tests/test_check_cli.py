"""`decree-bot check` run as a real process: facts JSON in, the finding JSON out, clean errors.

Every process is started once, all at the same time, by a module fixture; the tests then read
the results. That keeps the file fast although each run starts a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from rules import Document, Facts, decide

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINT = Path(sys.executable).parent / "decree-bot"
FACTS_FILE = "facts.json"  # created in a temporary directory; {FACTS_FILE} in args points to it

AFFECTED_FACTS = {
    "sex": "male",
    "age": 30,
    "citizenship": "TJ",
    "application": "residence_permit",
    "grounds": "long_residence",
    "documents": [],
}
FIELDS = ("sex", "age", "age_band", "legal_capacity", "citizenship", "application", "grounds")


@dataclass(frozen=True)
class Run:
    """One invocation: arguments after `check`, stdin, and whether to use the console script."""

    args: tuple[str, ...]
    stdin: str = ""
    entry_point: bool = False


@dataclass(frozen=True)
class Result:
    """What a process printed and returned."""

    returncode: int
    stdout: str
    stderr: str


GOOD_RUNS = {
    "stdin": Run(("--on", "2025-12-20"), json.dumps(AFFECTED_FACTS)),
    "facts-file": Run(("--facts", FACTS_FILE, "--on", "2025-12-20")),
    "on-2025-11-04": Run(("--on", "2025-11-04"), json.dumps(AFFECTED_FACTS)),
    "on-2025-11-05": Run(("--on", "2025-11-05"), json.dumps(AFFECTED_FACTS)),
    "entry-point": Run(("--on", "2025-12-20"), json.dumps(AFFECTED_FACTS), entry_point=True),
    "woman": Run(("--on", "2025-12-20"), '{"sex": "female"}'),
    "unknown-application": Run(
        ("--on", "2026-12-02"),
        json.dumps({**AFFECTED_FACTS, "application": None, "unknown": ["application"]}),
    ),
}

#: Bad input -> strings stderr must contain: the field and the values it allows.
BAD_RUNS: dict[str, tuple[Run, tuple[str, ...]]] = {
    "unknown field": (
        Run(("--on", "2025-12-20"), '{"sex": "male", "colour": "red"}'),
        ("colour", *FIELDS, "documents"),
    ),
    "wrong enum value": (
        Run(("--on", "2025-12-20"), '{"application": "visa"}'),
        ("application", "residence_permit", "citizenship"),
    ),
    "age as a string": (Run(("--on", "2025-12-20"), '{"age": "17"}'), ("age", "0", "130")),
    "age 131": (Run(("--on", "2025-12-20"), '{"age": 131}'), ("age", "130")),
    "lower-case citizenship": (
        Run(("--on", "2025-12-20"), '{"citizenship": "tj"}'),
        ("citizenship", "ISO 3166-1", "stateless"),
    ),
    "invalid JSON": (Run(("--on", "2025-12-20"), '{"sex": "male"'), ("JSON",)),
    "a JSON list": (Run(("--on", "2025-12-20"), '["male", 30]'), ("object",)),
    "unknown document": (
        Run(("--on", "2025-12-20"), '{"documents": ["passport"]}'),
        ("documents", *(d.value for d in Document)),
    ),
    "inconsistent age and band": (
        Run(("--on", "2025-12-20"), '{"age": 17, "age_band": "18_to_65"}'),
        ("age_band", "under_18"),
    ),
    "unknown sex": (
        Run(("--on", "2025-12-20"), '{"unknown": ["sex"]}'),
        ("unknown", "sex", "application", "grounds", "documents"),
    ),
    "unknown but given": (
        Run(("--on", "2025-12-20"), '{"grounds": "family", "unknown": ["grounds"]}'),
        ("unknown", "grounds"),
    ),
    "bad --on date": (Run(("--on", "2025-02-30"), "{}"), ("--on", "YYYY-MM-DD")),
    "unreadable --facts file": (Run(("--facts", "no-such-file.json"), ""), ("facts",)),
}

XFAIL: dict[str, str] = {}


def _start(run: Run, directory: Path) -> subprocess.Popen[str]:
    command = [str(ENTRY_POINT)] if run.entry_point else [sys.executable, "-m", "bot"]
    args = [str(directory / a) if a in {FACTS_FILE, "no-such-file.json"} else a for a in run.args]
    return subprocess.Popen(
        [*command, "check", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Every run above, started together and waited for."""
    directory = tmp_path_factory.mktemp("check")
    (directory / FACTS_FILE).write_text(json.dumps(AFFECTED_FACTS), encoding="utf-8")
    runs = {**GOOD_RUNS, **{name: run for name, (run, _) in BAD_RUNS.items()}}
    processes = {name: (_start(run, directory), run.stdin) for name, run in runs.items()}
    done = {}
    for name, (process, stdin) in processes.items():
        stdout, stderr = process.communicate(stdin, timeout=60)
        done[name] = Result(process.returncode, stdout, stderr)
    return done


def _finding_json(facts: dict[str, object], on: date) -> object:
    return json.loads(decide(Facts.model_validate(facts), on=on).model_dump_json())


def _one_json_object(result: Result) -> object:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    return value


class TestGoodInput:
    """Valid facts give exit 0 and exactly the finding decide() gives."""

    def test_stdin(self, results: dict[str, Result]) -> None:
        """Facts on stdin give one JSON object equal to decide()'s finding."""
        output = _one_json_object(results["stdin"])
        assert output == _finding_json(AFFECTED_FACTS, date(2025, 12, 20))

    def test_facts_file(self, results: dict[str, Result]) -> None:
        """--facts FILE reads the facts from the file instead of stdin."""
        output = _one_json_object(results["facts-file"])
        assert output == _finding_json(AFFECTED_FACTS, date(2025, 12, 20))

    def test_on_changes_the_answer_across_the_decree_date(self, results: dict[str, Result]) -> None:
        """--on 2025-11-04 gives not_affected and --on 2025-11-05 affected, as decide() does."""
        before = _one_json_object(results["on-2025-11-04"])
        after = _one_json_object(results["on-2025-11-05"])
        assert isinstance(before, dict)
        assert isinstance(after, dict)
        assert before["outcome"] == "not_affected"
        assert after["outcome"] == "affected"
        assert before == _finding_json(AFFECTED_FACTS, date(2025, 11, 4))
        assert after == _finding_json(AFFECTED_FACTS, date(2025, 11, 5))

    def test_console_script(self, results: dict[str, Result]) -> None:
        """The installed decree-bot entry point behaves like python -m bot."""
        assert ENTRY_POINT.exists()
        assert _one_json_object(results["entry-point"]) == _one_json_object(results["stdin"])

    def test_partial_facts(self, results: dict[str, Result]) -> None:
        """A woman who gives only her sex is not affected and nothing is missing."""
        output = _one_json_object(results["woman"])
        assert isinstance(output, dict)
        assert output["outcome"] == "not_affected"
        assert output["missing"] == []


class TestUnknownFields:
    """`"unknown": [...]` adds `branches`; the top-level keys keep their meaning."""

    def test_one_branch_per_application_type(self, results: dict[str, Result]) -> None:
        """A Tajik man with no document, application unknown: affected and not met either way."""
        output = _one_json_object(results["unknown-application"])
        assert isinstance(output, dict)
        assert output["outcome"] == "affected"
        assert output["requirement_met"] is False
        branches = output["branches"]
        assert [b["when"] for b in branches] == [
            [{"application": "residence_permit"}],
            [{"application": "citizenship"}],
        ]
        for branch in branches:
            assert (branch["outcome"], branch["requirement_met"]) == ("affected", False)
            facts = {**AFFECTED_FACTS, **branch["when"][0]}
            expected = _finding_json(facts, date(2026, 12, 2))
            assert isinstance(expected, dict)
            assert branch["certainty"] == expected["certainty"]
        without = {k: v for k, v in output.items() if k != "branches"}
        assert set(without) == set(_finding_json(AFFECTED_FACTS, date(2026, 12, 2)))  # type: ignore[arg-type]


def _bad_params() -> list[object]:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(reason=XFAIL[name], strict=True)] if name in XFAIL else [],
            id=name,
        )
        for name in BAD_RUNS
    ]


class TestBadInput:
    """Bad input gives exit 2 and one plain line on stderr naming the field and allowed values."""

    @pytest.mark.parametrize("name", _bad_params())
    def test_rejected_with_one_clear_line(self, name: str, results: dict[str, Result]) -> None:
        """Exit 2, nothing on stdout, one stderr line with the field and values, no traceback."""
        result = results[name]
        _, expected = BAD_RUNS[name]
        assert result.returncode == 2
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert result.stderr.endswith("\n")
        assert len(result.stderr.splitlines()) == 1, result.stderr
        absent = [text for text in expected if text not in result.stderr]
        assert not absent, result.stderr
