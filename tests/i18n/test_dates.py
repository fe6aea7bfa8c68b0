"""Dates in running text (`bot/dates.py`): the forms native speakers reviewed."""

from __future__ import annotations

from datetime import date

import pytest

from bot.conversation.state import LANGUAGES
from bot.dates import format_day

__all__ = ["DECREE_DAY"]

#: 5 November 2025 as native speakers reviewed it (locales/GLOSSARY.md, "Dates").
DECREE_DAY = {
    "ru": "5 ноября 2025 года",
    "tg": "5 ноябри соли 2025",
    "uz": "2025-yil 5-noyabr",
    "uz_Cyrl": "2025 йил 5 ноябрь",
    "az": "5 noyabr 2025-ci il",
    "en": "November 5, 2025",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_format_day_reviewed_forms(lang: str) -> None:
    """The decree's date reads as native speakers write it in running text."""
    assert format_day(date(2025, 11, 5), lang) == DECREE_DAY[lang]


@pytest.mark.parametrize(
    ("year", "suffix"),
    [
        (2023, "cü"),  # üçüncü
        (2026, "cı"),  # altıncı
        (2029, "cu"),  # doqquzuncu
        (2030, "cu"),  # otuzuncu
        (2021, "ci"),  # birinci
        (2024, "cü"),  # dördüncü
        (2010, "cu"),  # onuncu
        (2040, "cı"),  # qırxıncı
        (2090, "cı"),  # doxsanıncı
        (2000, "ci"),  # iki mininci
        (2100, "cü"),  # yüzüncü
    ],
)
def test_azerbaijani_year_suffix_follows_vowel_harmony(year: int, suffix: str) -> None:
    """The ordinal suffix of an Azerbaijani year agrees with the last number word."""
    assert format_day(date(year, 11, 5), "az") == f"5 noyabr {year}-{suffix} il"
