"""Reason and caveat codes: the stable vocabulary a finding is explained in.

Each code names one statement, the sources it rests on and how certain it is. The bot turns
codes into sentences in the person's language; the rules never produce prose.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.sources import SOURCES, Certainty

__all__ = ["CAVEATS", "REASONS", "Claim"]

_H, _M, _L = Certainty.HIGH, Certainty.MEDIUM, Certainty.LOW


@dataclass(frozen=True, slots=True)
class Claim:
    """One statement the rules rely on, with its sources and certainty."""

    sources: tuple[str, ...]
    certainty: Certainty
    note: str

    def __post_init__(self) -> None:
        unknown = [s for s in self.sources if s not in SOURCES]
        if unknown:
            msg = f"unknown source ids {unknown}"
            raise ValueError(msg)


REASONS: dict[str, Claim] = {
    # Time.
    "decree_not_in_force": Claim(("S5", "S12"), _H, "The date is before 5 Nov 2025."),
    "decree_in_force": Claim(
        ("S5", "S7", "S12"), _M, "In force from publication on 5 Nov 2025 (one outlet says so)."
    ),
    "decree_in_force_confirmed": Claim(
        ("S4", "S5", "S12"), _H, "The Interior Ministry confirmed on 13 Dec 2025 it is applied."
    ),
    # Sex.
    "sex_female": Claim(("S1", "S4", "S7", "S13"), _H, "The requirement is for men only."),
    "sex_male": Claim(("S1", "S4", "S7"), _H, "Men are covered."),
    # Age.
    "age_under_18": Claim(("S4", "S7"), _H, "Under 18: outside the 18-65 range."),
    "age_in_range": Claim(("S4", "S7"), _H, "Aged 18 to 65."),
    "age_at_upper_limit": Claim(
        ("S4", "S7"), _M, "Exactly 65: whether the range includes 65 is not clear."
    ),
    "age_over_65": Claim(("S4", "S7"), _H, "Over 65: outside the range (residence permit)."),
    "age_over_65_citizenship": Claim(
        ("S7", "S10", "S14"),
        _M,
        "Over 65: the range for citizenship rests on two outlets (NSN, Nakanune) and a blog.",
    ),
    # Legal capacity.
    "legal_capacity_full": Claim(("S4", "S7"), _H, "Only people with legal capacity."),
    "legal_capacity_none": Claim(("S4", "S7"), _H, "Without legal capacity: not covered."),
    # Citizenship.
    "citizenship_belarus": Claim(("S2", "S5", "S9", "S10"), _H, "Belarus is exempt."),
    "citizenship_ukraine": Claim(
        ("S2",), _M, "Separate rules for Ukraine exist; their content is unknown."
    ),
    "citizenship_kz_md_residence_permit": Claim(
        ("S2", "S4"),
        _L,
        "Kazakhstan, Moldova, residence permit: one family (S2) says it is not covered; the"
        " Interior Ministry (S4) names no exception. Unclear; confirm with the migration office.",
    ),
    "citizenship_kz_md_citizenship": Claim(
        ("S2",), _M, "Kazakhstan, Moldova: citizenship applications are covered."
    ),
    "stateless": Claim(("S4", "S6"), _H, "Stateless persons are covered."),
    "citizenship_covered": Claim(
        ("S1", "S4"), _M, "No source names an exception for this country."
    ),
    # Application.
    "application_residence_permit": Claim(("S1", "S4"), _H, "Residence permits are covered."),
    "application_citizenship": Claim(("S1", "S3", "S7"), _H, "Citizenship is covered."),
    # Grounds.
    "grounds_long_residence_permit": Claim(
        ("S4",), _H, "Residence permit after a year on a temporary residence permit."
    ),
    "grounds_long_residence": Claim(("S1", "S3"), _M, "Long residence is a covered ground."),
    "grounds_family": Claim(("S1", "S3"), _M, "Family grounds are covered (no official list)."),
    "grounds_highly_qualified_specialist": Claim(
        ("S2", "S3"),
        _L,
        "Highly qualified specialists are reported exempt by one family of outlets only; the"
        " Interior Ministry does not mention it. Unclear.",
    ),
    "grounds_study": Claim(
        ("S2", "S3", "S13"), _L, "Some study-based applicants are exempt; who exactly is disputed."
    ),
    "grounds_compatriot_program": Claim(
        ("S3",), _L, "One source says returning compatriots are exempt."
    ),
    "grounds_other": Claim(("S3", "S13"), _L, "No source says whether other grounds are covered."),
    # Documents.
    "documents_residence_permit": Claim(
        ("S2", "S4", "S5", "S7"), _H, "Contract, МЧС contract, discharge extract or unfitness."
    ),
    "documents_citizenship": Claim(
        ("S2", "S5", "S7", "S8", "S12"),
        _M,
        "Unfitness or service ended before 24 Feb 2022 (one outlet); or the servicemen's route.",
    ),
    "document_held": Claim(("S4",), _H, "One of the person's Russian documents is on the list."),
    "document_held_emergency_contract": Claim(
        ("S2", "S5"),
        _M,
        "Only an МЧС contract is held; its terms (length, which units) are less well reported.",
    ),
    "document_none": Claim(("S4",), _H, "The person has none of the listed documents."),
    "document_needs_discharge_extract": Claim(
        ("S4", "S5"),
        _M,
        "Past service in Russia's armed forces or МЧС is proved by the discharge extract.",
    ),
    "document_foreign_military": Claim(
        ("S4", "S5"),
        _L,
        "Only a paper from another country's army is held. No source says whether it counts;"
        " S5 speaks of discharge from Russia's forces or МЧС. The migration office decides.",
    ),
    # Missing facts.
    "facts_missing": Claim((), _L, "Some facts are not known yet."),
}

CAVEATS: dict[str, Claim] = {
    "full_text_unpublished": Claim(
        ("S2", "S4"), _M, "The decree's full text could not be checked; rules rest on reports."
    ),
    "standard_documents_still_needed": Claim(
        ("S5",), _H, "The usual documents are still needed besides the military one."
    ),
    "contract_at_least_one_year": Claim(
        ("S2", "S4", "S5"), _H, "A contract must last a year or more."
    ),
    "unfitness_via_selection_point": Claim(
        ("S2", "S4", "S5", "S7"),
        _M,
        "Sources disagree on who issues the unfitness document; the Interior Ministry speaks"
        " of unfitness found when applying for a contract.",
    ),
    "citizenship_servicemen_route": Claim(
        ("S2", "S5", "S7"),
        _M,
        "Contracts and recent discharge count through the servicemen's route; sources do not"
        " say clearly how this meets the ordinary applicants' requirement.",
    ),
    "new_citizens_military_registration": Claim(
        ("L1",), _H, "New citizens must register for military service."
    ),
    "age_boundary": Claim(
        ("S4", "S7"), _M, "It is not clear on which date age counts, or whether 65 is included."
    ),
    "age_at_application": Claim(
        ("S4", "S7"),
        _M,
        "Under 18 now: the requirement applies to an application made at 18 or older.",
    ),
    "rules_not_reviewed_recently": Claim(
        (),
        _L,
        "More than 180 days since a maintainer last searched for newer sources (REVIEWED_ON).",
    ),
    "highly_qualified_specialist_meaning": Claim(
        ("S2", "S3"),
        _L,
        "It is not known whether this means the formal ВКС work status (with its salary"
        " threshold).",
    ),
}
