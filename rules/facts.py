"""What we know about a person: the input of `decide`. Every field is optional."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rules.parameters import DECREE_DATE, MAX_AGE, MIN_AGE

__all__ = [
    "FACT_NAMES",
    "SERVICE_ANSWER_DAY",
    "AgeBand",
    "Application",
    "Document",
    "Facts",
    "Grounds",
    "Sex",
]


class Sex(StrEnum):
    """Sex as the migration office records it."""

    MALE = "male"
    FEMALE = "female"


class AgeBand(StrEnum):
    """Age in the bands the bot asks for."""

    UNDER_18 = "under_18"
    FROM_18_TO_65 = "18_to_65"
    OVER_65 = "over_65"


class Application(StrEnum):
    """What the person applies for."""

    RESIDENCE_PERMIT = "residence_permit"
    CITIZENSHIP = "citizenship"


class Grounds(StrEnum):
    """The grounds of the application."""

    LONG_RESIDENCE = "long_residence"
    FAMILY = "family"
    HIGHLY_QUALIFIED_SPECIALIST = "highly_qualified_specialist"
    STUDY = "study"
    COMPATRIOT_PROGRAM = "compatriot_program"
    OTHER = "other"


class Document(StrEnum):
    """Documents a man may hold. All but the last are Russian: the sources describe papers from
    Russia's armed forces, МЧС, a Russian selection point or военкомат (S4, S5)."""

    MILITARY_CONTRACT = "military_contract"
    EMERGENCY_CONTRACT = "emergency_contract"
    DISCHARGE_EXTRACT = "discharge_extract"
    UNFITNESS_DECISION = "unfitness_decision"
    #: Service in Russia's armed forces or МЧС that ended before 24 Feb 2022.
    SERVICE_BEFORE_2022_02_24 = "service_before_2022_02_24"
    #: A military ID, discharge or unfitness paper from another country's army.
    FOREIGN_MILITARY_DOCUMENT = "foreign_military_document"


#: The day named by the answer SERVICE_BEFORE_2022_02_24 (compared with the dated cut-off).
SERVICE_ANSWER_DAY = date(2022, 2, 24)


STATELESS = "stateless"
_ISO_ALPHA2 = re.compile(r"[A-Z]{2}")

#: The facts a finding may ask for, in the order the rules use them.
FACT_NAMES = ("sex", "age", "legal_capacity", "citizenship", "application", "grounds", "documents")


class Facts(BaseModel):
    """The facts the rules use; None means "not known yet"."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    sex: Sex | None = None
    age: int | None = Field(default=None, ge=0, le=130, strict=True)
    age_band: AgeBand | None = None
    legal_capacity: bool = Field(default=True, strict=True)
    citizenship: str | None = None
    application: Application | None = None
    grounds: Grounds | None = None
    documents: tuple[Document, ...] | None = None

    @field_validator("citizenship")
    @classmethod
    def _iso_or_stateless(cls, value: str | None) -> str | None:
        if value is None or value == STATELESS or _ISO_ALPHA2.fullmatch(value):
            return value
        msg = "an ISO 3166-1 alpha-2 code in upper case (TJ, UZ, ...) or 'stateless'"
        raise ValueError(msg)

    @model_validator(mode="after")
    def _age_matches_band(self) -> Facts:
        if self.age is not None and self.age_band is not None and self.band() != self.age_band:
            msg = f"age {self.age} is not in age_band {self.age_band.value}"
            raise ValueError(msg)
        return self

    def band(self) -> AgeBand | None:
        """The age band, from `age_band` or from `age` (the 18 and 65 limits are inclusive).

        The bands are the bot's answers and name their limits in their labels, so they keep the
        limits of the decree's date. Were a limit amended, the bot would need new bands; an
        exact age is judged by the limits of the answer's day (`in_scope_by_age`).
        """
        if self.age is None:
            return self.age_band
        if self.age < MIN_AGE.on(DECREE_DATE):
            return AgeBand.UNDER_18
        if self.age <= MAX_AGE.on(DECREE_DATE):
            return AgeBand.FROM_18_TO_65
        return AgeBand.OVER_65
