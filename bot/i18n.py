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
from bot.dates import format_day

__all__ = [
    "DOMAIN",
    "LOCALES_DIR",
    "CatalogMissingError",
    "Rendered",
    "Renderer",
    "load_catalogs",
]

DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
#: The source language: message ids are English, so it needs no catalog.
SOURCE_LANGUAGE = "en"

#: Numbers below this need no digit grouping in any of our languages: written as they are.
_UNGROUPED = 1000
#: Keyboards (labels in one language) kept by a renderer.
_KEYBOARDS_KEPT = 4096


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
            return self._ext(value.name, lang)
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
