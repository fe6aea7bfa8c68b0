"""`decree-bot check`: facts as JSON in, the finding as JSON out."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import ValidationError

from rules import AgeBand, Application, Document, Facts, Grounds, Sex, decide

__all__ = ["FactsError", "check", "parse_facts"]

_ALLOWED: dict[str, str] = {
    "sex": ", ".join(Sex),
    "age": "an integer from 0 to 130",
    "age_band": ", ".join(AgeBand),
    "legal_capacity": "true, false",
    "citizenship": "an ISO 3166-1 alpha-2 code in upper case (TJ, UZ, AZ, ...) or stateless",
    "application": ", ".join(Application),
    "grounds": ", ".join(Grounds),
    "documents": "a list (possibly empty) of: " + ", ".join(Document),
}


class FactsError(ValueError):
    """Input that is not a valid set of facts; the message names the field and allowed values."""


def parse_facts(text: str) -> Facts:
    """Parse one JSON object of facts, or raise FactsError with a one-line explanation."""
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
    try:
        return Facts.model_validate(raw)
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


def check(text: str, *, on: date) -> str:
    """The finding for the facts in `text`, as one line of JSON."""
    return decide(parse_facts(text), on=on).model_dump_json()
