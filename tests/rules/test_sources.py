"""Every rule is traceable to registered public sources, and every source is used or explained."""

from __future__ import annotations

import inspect
from datetime import date

import pytest

from rules import (
    CAVEATS,
    CONCEPTS,
    DECREE_DATE,
    REASONS,
    REVIEWED_ON,
    RULES_VERSION,
    SEARCHES,
    SOURCES,
    SOURCES_AS_OF,
    Certainty,
    Claim,
    parameters,
)
from rules import concepts as concepts_module

#: Sources kept for maintainers although no claim or concept cites them, and why.
CONTEXT_ONLY = {
    "S11": "Kommersant: which earlier decrees 821 repealed; the servicemen's route it reports is"
    " already carried by S5, S7, S8 and S12.",
    "S15": "Aggregator rewrites of the RFE/RL story (S2): not an independent source, never cited.",
}
#: Claims about the conversation itself, not about the law: they need no source.
UNSOURCED_CLAIMS = {"facts_missing", "rules_not_reviewed_recently"}
#: Versions of one RFE/RL story count as one source (factsheet, section 0).
SAME_FAMILY = {"S1": "RFE/RL", "S2": "RFE/RL", "S3": "RFE/RL", "S15": "RFE/RL"}

ALL_CLAIMS: dict[str, Claim] = {**REASONS, **CAVEATS}


def _parameters() -> list[parameters.Parameter[object]]:
    return [value for value in vars(parameters).values() if isinstance(value, parameters.Parameter)]


def _cited_ids() -> set[str]:
    cited = {s for ids in CONCEPTS.values() for s in ids}
    cited |= {s for claim in ALL_CLAIMS.values() for s in claim.sources}
    cited |= {s for p in _parameters() for _, _, ids in p.values for s in ids}
    return cited


class TestConcepts:
    """Each legal concept function names the sources it rests on."""

    def test_every_concept_function_is_registered(self) -> None:
        """Every public function of rules.concepts is in CONCEPTS, and nothing else is."""
        functions = {
            name
            for name, value in vars(concepts_module).items()
            if inspect.isfunction(value)
            and value.__module__ == concepts_module.__name__
            and not name.startswith("_")
            and name != "cites"
        }
        assert functions == set(CONCEPTS)

    @pytest.mark.parametrize("name", sorted(CONCEPTS))
    def test_concept_cites_known_sources(self, name: str) -> None:
        """The concept cites at least one source, and every cited id is registered."""
        cited = CONCEPTS[name]
        assert cited
        assert set(cited) <= set(SOURCES)

    @pytest.mark.parametrize("name", sorted(CONCEPTS))
    def test_concept_has_a_docstring(self, name: str) -> None:
        """The concept explains itself, so the reasoning sits next to the citation."""
        assert inspect.getdoc(getattr(concepts_module, name))


class TestClaims:
    """Each reason and caveat code rests on registered sources."""

    @pytest.mark.parametrize("code", sorted(ALL_CLAIMS))
    def test_claim_sources_exist(self, code: str) -> None:
        """Every source id of the claim is registered, and legal claims cite at least one."""
        claim = ALL_CLAIMS[code]
        assert set(claim.sources) <= set(SOURCES)
        assert claim.note
        if code not in UNSOURCED_CLAIMS:
            assert claim.sources

    @pytest.mark.parametrize("code", sorted(ALL_CLAIMS))
    def test_high_claims_rest_on_strong_sources(self, code: str) -> None:
        """A high claim cites a high source or two independent sources (factsheet's scale)."""
        claim = ALL_CLAIMS[code]
        if claim.certainty is not Certainty.HIGH:
            return
        strong = any(SOURCES[s].confidence is Certainty.HIGH for s in claim.sources)
        families = {SAME_FAMILY.get(s, s) for s in claim.sources}
        assert strong or len(families) >= 2

    def test_reason_and_caveat_codes_do_not_overlap(self) -> None:
        """A code is either a reason or a caveat, so a finding's fields stay unambiguous."""
        assert not set(REASONS) & set(CAVEATS)

    def test_parameter_sources_exist(self) -> None:
        """Every dated parameter value cites registered sources only."""
        for parameter in _parameters():
            for _, _, ids in parameter.values:
                assert set(ids) <= set(SOURCES), parameter.description


class TestSources:
    """The source register is complete and every entry is used."""

    @pytest.mark.parametrize("source_id", sorted(SOURCES))
    def test_source_is_described(self, source_id: str) -> None:
        """The source has its own id, an https URL, a title, what it supports and a confidence."""
        source = SOURCES[source_id]
        assert source.id == source_id
        assert source.url.startswith("https://")
        assert source.title.strip()
        assert source.supports.strip()
        assert isinstance(source.confidence, Certainty)

    def test_every_source_is_cited_or_context_only(self) -> None:
        """Each source is cited by a claim, concept or parameter, or listed as context only."""
        cited = _cited_ids()
        assert set(SOURCES) - cited == set(CONTEXT_ONLY)
        assert not cited & set(CONTEXT_ONLY), "a context-only source is cited: update the list"

    def test_rules_version_names_the_dates(self) -> None:
        """RULES_VERSION names the decree date and the date of the latest source."""
        latest = max(s.published for s in SOURCES.values() if s.published is not None)
        assert date(2025, 11, 5) == DECREE_DATE
        assert latest == SOURCES_AS_OF
        assert DECREE_DATE.isoformat() in RULES_VERSION
        assert SOURCES_AS_OF.isoformat() in RULES_VERSION
        assert REVIEWED_ON.isoformat() in RULES_VERSION

    def test_reviewed_on_rests_on_recorded_searches(self) -> None:
        """REVIEWED_ON is not before the newest source, and the searches behind it are recorded:
        where, what was asked and what came back, in every corpus that was searched."""
        assert REVIEWED_ON >= SOURCES_AS_OF
        assert len(SEARCHES) >= 5
        for search in SEARCHES:
            assert search.corpus in {"pages", "docs", "issues", "code"}
            assert search.query.strip()
            assert search.found.strip()
        assert {"pages", "docs", "issues"} <= {s.corpus for s in SEARCHES}
