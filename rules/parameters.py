"""Dated parameters of Decree No. 821: numbers and dates an amendment could change.

Each parameter keeps its values by the date they took effect, as OpenFisca does, so a later
amendment adds a dated value instead of editing logic. Rules never read a parameter directly:
`decide` takes one `Params` snapshot for the day of the answer (`PARAMETERS.on(day)`) and hands
it to every concept, so a new dated value changes answers from its date on, and only from then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Generic, TypeVar

__all__ = [
    "DECREE_DATE",
    "IN_FORCE",
    "IN_FORCE_CONFIRMED",
    "MAX_AGE",
    "MIN_AGE",
    "PARAMETERS",
    "SERVICE_CUTOFF",
    "Parameter",
    "ParameterTable",
    "Params",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Parameter(Generic[T]):
    """A value that changes over time, with the sources behind each value."""

    description: str
    #: (effective date, value, source ids), oldest first.
    values: tuple[tuple[date, T, tuple[str, ...]], ...]

    def on(self, day: date) -> T:
        """The value in force on `day`; LookupError before the first value."""
        found = [value for start, value, _ in self.values if start <= day]
        if not found:
            msg = f"no value on {day.isoformat()}: {self.description}"
            raise LookupError(msg)
        return found[-1]

    def amended(self, start: date, value: T, sources: tuple[str, ...]) -> Parameter[T]:
        """This parameter with one more dated value (for an amendment, or a test of one)."""
        values = tuple(sorted((*self.values, (start, value, sources)), key=lambda v: v[0]))
        return replace(self, values=values)


#: Signed and published on the official portal (S5, S12).
DECREE_DATE = date(2025, 11, 5)
#: The day of the Interior Ministry's clarification (S4).
_CLARIFIED = date(2025, 12, 13)

IN_FORCE: Parameter[bool] = Parameter(
    "Whether the decree's temporary procedures apply. Entry into force on publication is"
    " reported by one outlet; no end date is known.",
    ((date.min, False, ()), (DECREE_DATE, True, ("S5", "S7", "S12"))),
)

IN_FORCE_CONFIRMED: Parameter[bool] = Parameter(
    "Whether an official body has said the rule is applied. Before that, entry into force"
    " rests on one outlet (medium); from the Interior Ministry's clarification it is high.",
    ((date.min, False, ("S7",)), (_CLARIFIED, True, ("S4",))),
)

MIN_AGE: Parameter[int] = Parameter("Youngest age covered.", ((DECREE_DATE, 18, ("S4", "S7")),))

MAX_AGE: Parameter[int] = Parameter(
    "Oldest age covered. Whether a man of exactly 65 is covered is not clear.",
    ((DECREE_DATE, 65, ("S4", "S7")),),
)

SERVICE_CUTOFF: Parameter[date] = Parameter(
    "24 February 2022. Past service of an ordinary citizenship applicant must have ended"
    " before it; contract service for the servicemen's route falls after it.",
    ((DECREE_DATE, date(2022, 2, 24), ("S2", "S5", "S7")),),
)


@dataclass(frozen=True, slots=True)
class Params:
    """The parameters in force on one day: what every concept reads."""

    day: date
    #: Whether an official body has said the rule is applied (the decree is in force).
    in_force_confirmed: bool
    min_age: int
    max_age: int
    service_cutoff: date


@dataclass(frozen=True, slots=True)
class ParameterTable:
    """All dated parameters together; `on(day)` gives the snapshot for one day."""

    in_force: Parameter[bool] = IN_FORCE
    in_force_confirmed: Parameter[bool] = IN_FORCE_CONFIRMED
    min_age: Parameter[int] = MIN_AGE
    max_age: Parameter[int] = MAX_AGE
    service_cutoff: Parameter[date] = SERVICE_CUTOFF

    def on(self, day: date) -> Params:
        """The snapshot for `day` (only meaningful while the decree is in force)."""
        return Params(
            day=day,
            in_force_confirmed=self.in_force_confirmed.on(day),
            min_age=self.min_age.on(day),
            max_age=self.max_age.on(day),
            service_cutoff=self.service_cutoff.on(day),
        )


#: The parameters as the sources give them today.
PARAMETERS = ParameterTable()
