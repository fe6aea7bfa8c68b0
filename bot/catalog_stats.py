"""Translation progress per language (`make stats`): a table, always exit status 0.

For every message of `locales/messages.pot`, a language's catalog has it translated (every
plural form filled, not fuzzy), fuzzy, or untranslated (missing or empty). Words are counted
in the translated forms; the `en` row counts the English source. The catalog tests, not this
report, decide whether a catalog is good enough.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.conversation.state import LANGUAGES
from bot.i18n import DOMAIN, LOCALES_DIR, SOURCE_LANGUAGE

__all__ = ["Stats", "main", "stats"]

_FIELD = re.compile(r"\{[^{}]*\}")
_WORD = re.compile(r"[^\W_]+(?:[-'ʻʼ][^\W_]+)*")


@dataclass(frozen=True, slots=True)
class Stats:
    """One language's progress against the template."""

    lang: str
    translated: int
    fuzzy: int
    untranslated: int
    words: int

    @property
    def total(self) -> int:
        """Messages in the template."""
        return self.translated + self.fuzzy + self.untranslated

    @property
    def percent(self) -> float:
        """Share of the template that is translated (100 only when complete)."""
        return 100.0 * self.translated / self.total if self.total else 100.0


def _forms(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(str(v) for v in value)
    return ()


def _words(texts: Sequence[str]) -> int:
    return sum(len(_WORD.findall(_FIELD.sub(" ", text))) for text in texts)


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def stats(lang: str, template: Catalog, catalog: Catalog | None) -> Stats:
    """Counts for `lang`; a missing catalog has everything untranslated."""
    translated = fuzzy = untranslated = words = 0
    for source in template:
        if not source.id:
            continue
        message: Message | None = catalog.get(source.id) if catalog is not None else None
        strings = _forms(message.string) if message is not None else ()
        if message is None or not strings or not all(s.strip() for s in strings):
            untranslated += 1
        elif message.fuzzy:
            fuzzy += 1
        else:
            translated += 1
            words += _words(strings)
    return Stats(lang, translated, fuzzy, untranslated, words)


def source_stats(template: Catalog) -> Stats:
    """The English source: every message counts as translated; words of its ids."""
    messages = [m for m in template if m.id]
    return Stats(
        SOURCE_LANGUAGE, len(messages), 0, 0, _words([i for m in messages for i in _forms(m.id)])
    )


def table(rows: Sequence[Stats]) -> str:
    """The report as a fixed-width table."""
    header = (
        f"{'language':<9} {'translated':>10} {'fuzzy':>6} {'untranslated':>12}"
        f" {'words':>7} {'done':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.lang:<9} {row.translated:>10} {row.fuzzy:>6} {row.untranslated:>12}"
            f" {row.words:>7} {math.floor(row.percent):>5d}%"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table for every language (or those given) and return 0."""
    parser = argparse.ArgumentParser(prog="python -m bot.catalog_stats", description=__doc__)
    parser.add_argument("--locales", type=Path, default=LOCALES_DIR, help="catalog directory")
    parser.add_argument("languages", nargs="*", help="languages to show (default: all)")
    args = parser.parse_args(argv)
    directory: Path = args.locales
    template = _read(directory / f"{DOMAIN}.pot")
    rows = [source_stats(template)]
    for lang in args.languages or [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]:
        path = directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        rows.append(stats(lang, template, _read(path) if path.is_file() else None))
    sys.stdout.write(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
