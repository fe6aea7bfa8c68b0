"""Pure rules core for Russia's Decree No. 821 of 5 November 2025.

`decide(facts, on=day)` says whether the decree's military condition applies to a person,
which documents would satisfy it, how certain that is, and why. No I/O, no clock: the day is
always an input.
"""

from rules.concepts import CONCEPTS
from rules.decision import RULES_VERSION, STALE_AFTER_DAYS, STEPS, VERY_STALE_AFTER_DAYS, decide
from rules.facts import FACT_NAMES, AgeBand, Application, Document, Facts, Grounds, Sex
from rules.finding import Finding, Outcome
from rules.parameters import DECREE_DATE, PARAMETERS, ParameterTable, Params
from rules.reasons import CAVEATS, REASONS, Claim
from rules.sources import REVIEWED_ON, SEARCHES, SOURCES, SOURCES_AS_OF, Certainty, Search, Source

__all__ = [
    "CAVEATS",
    "CONCEPTS",
    "DECREE_DATE",
    "FACT_NAMES",
    "PARAMETERS",
    "REASONS",
    "REVIEWED_ON",
    "RULES_VERSION",
    "SEARCHES",
    "SOURCES",
    "SOURCES_AS_OF",
    "STALE_AFTER_DAYS",
    "STEPS",
    "VERY_STALE_AFTER_DAYS",
    "AgeBand",
    "Application",
    "Certainty",
    "Claim",
    "Document",
    "Facts",
    "Finding",
    "Grounds",
    "Outcome",
    "ParameterTable",
    "Params",
    "Search",
    "Sex",
    "Source",
    "decide",
]
