"""Translation at the edge: gettext catalogs compiled by Babel, and `Renderer` for replies.

Each language loads its own compiled catalog and nothing else. Python's gettext would fall
back to another language, or to the English source, for a missing string; we never chain
fallbacks, and a language whose `.mo` is missing fails at start-up, not in front of a user.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.caching import Bounded
from bot.conversation.countries import country_name
from bot.conversation.replies import N_, Bullets, Button, Country, Ext, Msg, Pair, Param, Reply
from bot.conversation.state import LANGUAGES

__all__ = [
    "DOMAIN",
    "LOCALES_DIR",
    "CatalogMissingError",
    "Rendered",
    "Renderer",
    "format_day",
    "load_catalogs",
]

DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
#: The source language: message ids are English, so it needs no catalog.
SOURCE_LANGUAGE = "en"

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
#: Numbers below this need no digit grouping in any of our languages: written as they are.
_UNGROUPED = 1000
#: Keyboards (labels in one language) kept by a renderer.
_KEYBOARDS_KEPT = 4096
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


class CatalogMissingError(RuntimeError):
    """A language has no compiled catalog: run `make compile`."""


def load_catalogs(
    directory: Path = LOCALES_DIR, languages: tuple[str, ...] = LANGUAGES
) -> dict[str, gettext.NullTranslations]:
    """Every language's compiled catalog, without fallbacks between them."""
    catalogs: dict[str, gettext.NullTranslations] = {}
    for lang in languages:
        if lang == SOURCE_LANGUAGE:
            catalogs[lang] = gettext.NullTranslations()
            continue
        path = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not path.is_file():
            msg = f"no compiled catalog for {lang!r} at {path}: run `make compile`"
            raise CatalogMissingError(msg)
        with path.open("rb") as handle:
            catalogs[lang] = gettext.GNUTranslations(handle)
    return catalogs


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


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply in one language: its text and rows of (label, callback data)."""

    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...]
    edit: bool
    standalone: bool = False


_STATELESS = N_("No citizenship")

#: Operator values: `ext(name, lang)` returns the text for `Ext(name)` in a language.
ExtResolver = Callable[[str, str], str]


class Renderer:
    """Turns replies into text in one language; caches what repeats (labels, keyboards)."""

    def __init__(
        self, catalogs: Mapping[str, gettext.NullTranslations], *, ext: ExtResolver
    ) -> None:
        self._catalogs = dict(catalogs)
        self._ext = ext
        self._keyboards: Bounded[
            tuple[str, tuple[tuple[Button, ...], ...]], tuple[tuple[tuple[str, str], ...], ...]
        ] = Bounded(_KEYBOARDS_KEPT)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this renderer has catalogs for."""
        return tuple(self._catalogs)

    def gettext(self, message_id: str, lang: str) -> str:
        """One message id in `lang`."""
        return self._catalogs[lang].gettext(message_id)

    def text(self, msg: Msg, lang: str) -> str:
        """A message with its parameters filled in."""
        catalog = self._catalogs[lang]
        if msg.plural is not None:
            count = dict(msg.params)["n"]
            n = int(self._ext(count.name, lang)) if isinstance(count, Ext) else int(str(count))
            template = catalog.ngettext(msg.id, msg.plural, n)
        else:
            template = catalog.gettext(msg.id)
        if not msg.params:
            return template
        values = {name: self._param(value, lang) for name, value in msg.params}
        return template.format_map(values)

    def _param(self, value: Param, lang: str) -> str:
        if isinstance(value, Msg):
            return self.text(value, lang)
        if isinstance(value, Bullets):
            return "\n".join(f"• {self._item(item, lang)}" for item in value.items)
        if isinstance(value, Country):
            return self.country(value.code, lang)
        if isinstance(value, Ext):
            return self._ext(value.key, lang)
        if isinstance(value, date):
            return format_day(value, lang)
        if isinstance(value, int):
            if type(value) is int and 0 <= value < _UNGROUPED:
                return str(value)  # what Babel writes too, without loading locale data
            from babel import Locale  # noqa: PLC0415 - loads locale data: only when needed
            from babel.numbers import format_decimal  # noqa: PLC0415

            return format_decimal(value, locale=Locale.parse(lang))
        return value

    def _item(self, item: Msg | Pair, lang: str) -> str:
        if isinstance(item, Pair):
            return f"{self.text(item.key, lang)}: {self.label(item.value, lang)}"
        return self.text(item, lang)

    def country(self, code: str, lang: str) -> str:
        """A country's name, or "no citizenship", in `lang`."""
        if code == "stateless":
            return self.gettext(_STATELESS, lang)
        return country_name(code, lang)

    def label(self, label: Msg | Country | str, lang: str) -> str:
        """A button label."""
        if isinstance(label, str):
            return label
        if isinstance(label, Country):
            return self.country(label.code, lang)
        return self.text(label, lang)

    def keyboard(
        self, rows: tuple[tuple[Button, ...], ...], lang: str
    ) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Rows of (label, data); built once per language and keyboard."""
        key = (lang, rows)
        cached = self._keyboards.get(key)
        if cached is None:
            labels = tuple(tuple((self.label(b.label, lang), b.data) for b in row) for row in rows)
            cached = self._keyboards.put(key, labels)
        return cached

    def render(self, reply: Reply, lang: str) -> Rendered:
        """A whole reply in `lang`: paragraphs separated by blank lines."""
        text = "\n\n".join(
            part if isinstance(part, str) else self.text(part, lang) for part in reply.parts
        )
        return Rendered(text, self.keyboard(reply.buttons, lang), reply.edit, reply.standalone)
