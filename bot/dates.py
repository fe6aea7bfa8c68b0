"""Dates in running text, as a native speaker of each of our languages writes them.

Month names are written out here so that rendering a reply never loads Babel's locale data.
"""

from __future__ import annotations

from datetime import date

__all__ = ["format_day"]

#: Where CLDR's long date reads unnaturally, the pattern a native speaker expects in running
#: text (reviewed by native speakers; see locales/REVIEW.md): ru "d MMMM y 'года'",
#: uz "y-'yil' d-MMMM"; az and en use CLDR's month names ("MMMM"; en: the long date,
#: "MMMM d, y"). The month names below are CLDR's (Babel 2.18, CLDR 47, format context,
#: wide) written out, so rendering a reply never loads Babel's locale data (about 7 MiB).
_CLDR_MONTHS = {
    "ru": (
        "января", "февраля", "марта", "апреля", "мая", "июня",
        "июля", "августа", "сентября", "октября", "ноября", "декабря",
    ),
    "uz": (
        "yanvar", "fevral", "mart", "aprel", "may", "iyun",
        "iyul", "avgust", "sentabr", "oktabr", "noyabr", "dekabr",
    ),
    "az": (
        "yanvar", "fevral", "mart", "aprel", "may", "iyun",
        "iyul", "avqust", "sentyabr", "oktyabr", "noyabr", "dekabr",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
_TAJIK_MONTHS = (
    "январ", "феврал", "март", "апрел", "май", "июн",
    "июл", "август", "сентябр", "октябр", "ноябр", "декабр",
)  # fmt: skip
#: Uzbek Cyrillic keeps the soft sign in month names (CLDR drops it).
_UZBEK_CYRILLIC_MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
#: Azerbaijani ordinal suffix of a year ("2025-ci il"), by the sound of its last number word.
_AZ_ONES = {1: "ci", 2: "ci", 3: "cü", 4: "cü", 5: "ci", 6: "cı", 7: "ci", 8: "ci", 9: "cu"}
_AZ_TENS = {1: "cu", 2: "ci", 3: "cu", 4: "cı", 5: "ci", 6: "cı", 7: "ci", 8: "ci", 9: "cı"}


def format_day(day: date, lang: str) -> str:
    """A date as a native speaker writes it in running text."""
    if lang == "tg":
        return f"{day.day} {_TAJIK_MONTHS[day.month - 1]}и соли {day.year}"
    if lang == "uz_Cyrl":
        return f"{day.year} йил {day.day} {_UZBEK_CYRILLIC_MONTHS[day.month - 1]}"
    months = _CLDR_MONTHS.get(lang)
    if months is None:  # not one of ours: CLDR's long date
        from babel import Locale  # noqa: PLC0415 - loads locale data: only when needed
        from babel.dates import format_date  # noqa: PLC0415

        return format_date(day, format="long", locale=Locale.parse(lang))
    month = months[day.month - 1]
    if lang == "az":
        return f"{day.day} {month} {day.year}-{_az_year_suffix(day.year)} il"
    if lang == "ru":
        return f"{day.day} {month} {day.year} года"
    if lang == "uz":
        return f"{day.year}-yil {day.day}-{month}"
    return f"{month} {day.day}, {day.year}"


def _az_year_suffix(year: int) -> str:
    if year % 10:
        return _AZ_ONES[year % 10]
    if year % 100:
        return _AZ_TENS[year // 10 % 10]
    return "cü" if year % 1000 else "ci"  # yüz, min
