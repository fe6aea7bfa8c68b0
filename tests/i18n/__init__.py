"""Catalog tests: shared access to messages.pot and the five .po catalogs, read once."""

from __future__ import annotations

import string
from collections import Counter
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.conversation.state import LANGUAGES
from bot.i18n import DOMAIN, LOCALES_DIR, SOURCE_LANGUAGE

__all__ = [
    "CATALOG_LANGUAGES",
    "LOCALES_DIR",
    "POT_PATH",
    "ROOT",
    "forms",
    "mo_path",
    "placeholders",
    "po",
    "po_path",
    "pot",
    "source_messages",
    "translations",
]

ROOT = LOCALES_DIR.parent
POT_PATH = LOCALES_DIR / f"{DOMAIN}.pot"
#: Every language with a catalog: all but the English source.
CATALOG_LANGUAGES = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)


def po_path(lang: str, directory: Path = LOCALES_DIR) -> Path:
    """Where the translators' catalog of `lang` is."""
    return directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str, directory: Path = LOCALES_DIR) -> Path:
    """Where `make compile` writes the compiled catalog of `lang`."""
    return directory / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


@cache
def pot() -> Catalog:
    """The extracted template (read once; do not modify)."""
    with POT_PATH.open("rb") as handle:
        return read_po(handle)


@cache
def po(lang: str) -> Catalog:
    """The catalog of `lang` (read once; do not modify)."""
    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=None)


def source_messages() -> list[Message]:
    """Every message of the template, without its header."""
    return [message for message in pot() if message.id]


def forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A msgid or msgstr as a tuple of its forms (one for a message without plurals)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def translations(lang: str) -> list[tuple[Message, tuple[str, ...]]]:
    """Each source message with its translated forms in `lang` (empty if missing)."""
    catalog = po(lang)
    pairs = []
    for source in source_messages():
        message = catalog.get(source.id)
        pairs.append((source, forms(message.string) if message is not None else ()))
    return pairs


def placeholders(text: str) -> Counter[str]:
    """The `{...}` replacement fields of a format string, with how often each occurs.

    Raises ValueError on a stray brace, as `str.format` would.
    """
    fields: Counter[str] = Counter()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            suffix = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            fields[f"{{{name}{suffix}}}"] += 1
    return fields
