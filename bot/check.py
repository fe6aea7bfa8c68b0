"""`decree-bot check`: facts as JSON in, the finding as JSON out.

With `"unknown": ["application", ...]` the named fields are answered "I don't know": the
output then also has `branches`, one per group of possible answers (`rules.possibilities`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import ValidationError

from rules import AgeBand, Application, Document, Facts, Grounds, Sex, decide
from rules.possibilities import MAX_UNKNOWN, UNKNOWABLE, possibilities

__all__ = ["FactsError", "check", "parse_facts", "parse_input"]

_ALLOWED: dict[str, str] = {
    "sex": ", ".join(Sex),
    "age": "an integer from 0 to 130",
    "age_band": ", ".join(AgeBand),
    "legal_capacity": "true, false",
    "citizenship": "an ISO 3166-1 alpha-2 code in upper case (TJ, UZ, AZ, ...) or stateless",
    "application": ", ".join(Application),
    "grounds": ", ".join(Grounds),
    "documents": "a list (possibly empty) of: " + ", ".join(Document),
    "unknown": f"a list of up to {MAX_UNKNOWN} of: " + ", ".join(UNKNOWABLE),
}


class FactsError(ValueError):
    """Input that is not a valid set of facts; the message names the field and allowed values."""


def parse_facts(text: str) -> Facts:
    """Parse one JSON object of facts, or raise FactsError with a one-line explanation."""
    facts, unknown = parse_input(text)
    if unknown:
        msg = "this input names unknown fields; use parse_input"
        raise FactsError(msg)
    return facts


def parse_input(text: str) -> tuple[Facts, tuple[str, ...]]:
    """The facts in `text` and the fields it marks unknown, or FactsError in one line."""
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise FactsError(msg) from None
    if not isinstance(raw, dict):
        msg = 'expected one JSON object of facts, e.g. {"sex": "male"}'
        raise FactsError(msg)
    unknown = sorted(set(raw) - set(_ALLOWED))
    if unknown:
        msg = f"unknown field {unknown[0]!r}; allowed fields: {', '.join(_ALLOWED)}"
        raise FactsError(msg)
    unknown = raw.pop("unknown", [])
    if not isinstance(unknown, list) or not all(isinstance(f, str) for f in unknown):
        value = json.dumps(unknown, ensure_ascii=False)
        msg = f"invalid value {value} for field 'unknown'; allowed: {_ALLOWED['unknown']}"
        raise FactsError(msg)
    try:
        facts = Facts.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        if not field and "age_band" in raw and "age" in raw:
            value = json.dumps(raw["age_band"], ensure_ascii=False)
            msg = (
                f"invalid value {value} for field 'age_band': it does not match age"
                f" {raw['age']}; allowed: {_ALLOWED['age_band']}"
            )
            raise FactsError(msg) from None
        if field in _ALLOWED:
            value = json.dumps(raw.get(field), ensure_ascii=False)
            msg = f"invalid value {value} for field {field!r}; allowed: {_ALLOWED[field]}"
        else:
            msg = f"invalid facts: {error['msg']}"
        raise FactsError(msg) from None
    return facts, tuple(unknown)


def check(text: str, *, on: date) -> str:
    """The finding for the facts in `text`, as one line of JSON (with `branches` if some
    fields are unknown: the outcome is then the one all branches share, or `unclear`)."""
    facts, unknown = parse_input(text)
    if not unknown:
        return decide(facts, on=on).model_dump_json()
    try:
        found = possibilities(facts, unknown, on=on)
    except ValueError as exc:
        msg = f"invalid value for field 'unknown': {exc}; allowed: {_ALLOWED['unknown']}"
        raise FactsError(msg) from None
    output = found.finding.model_dump(mode="json")
    output["branches"] = [branch.model_dump(mode="json") for branch in found.branches]
    return json.dumps(output, ensure_ascii=False, separators=(",", ":"))
